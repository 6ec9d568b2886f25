"""The roll shows each child's photo where the parents added one, and the initials in a circle
otherwise; the photo itself goes only to who teaches the child's group (and coordinators,
and the guardians)."""

from __future__ import annotations

import re

import pytest

from lms.attendance import substitutes
from lms.attendance.offline import offline_bundle
from lms.extensions import db
from lms.families import photos
from lms.families.children import remove_photo, set_photo
from tests.attendance.conftest import NOW, TODAY
from tests.conftest import login
from tests.families.test_photos import picture

ADAM = 1  # Adam Alaoui, the parent's second child on the term's roster


def roster_url(term, number: int = 5) -> str:
    return f"/attendance/lessons/{term.lesson_ids[number - 1]}"


def photo_url(term, index: int = ADAM) -> str:
    return f"/children/{term.child_ids[index]}/photo.jpg"


@pytest.fixture
def adam_has_a_photo(app, term):
    with app.app_context():
        set_photo(term.child(ADAM), picture(), actor=term.get(term.parent), agreed=True)
        db.session.commit()
    return term


def faces(page: str) -> dict[str, str]:
    """{name beside it: "photo" or the initials} for each roster row."""
    found = {}
    for row in re.findall(r'<div class="roster-who">(.*?)</div>', page, re.S):
        name = re.search(r'class="roster-name"[^>]*><bdi>([^<]+)</bdi>', row).group(1)
        image = re.search(r'<img class="portrait portrait-small" src="([^"]+)" alt="([^"]+)"', row)
        if image:
            assert image.group(2) == name  # the alt text is the child's name
            found[name] = image.group(1)
        else:
            found[name] = re.search(r'class="portrait[^"]*initials"[^>]*><bdi>([^<]+)<', row)[1]
    return found


def test_the_roll_shows_the_photo_beside_the_name_and_initials_otherwise(
    app, client, adam_has_a_photo
):
    term = adam_has_a_photo
    login(client, term.lead)
    page = client.get(roster_url(term)).get_data(as_text=True)
    assert faces(page) == {
        "Adam Alaoui": photo_url(term),
        "Rania Tazi": "R\u200cT",
        "Yasmine Alaoui": "Y\u200cA",
    }
    assert client.get(photo_url(term)).status_code == 200


def test_in_arabic_the_alt_text_and_the_initials_are_in_arabic_script(
    app, client, adam_has_a_photo
):
    term = adam_has_a_photo
    login(client, term.lead)
    client.post("/language", data={"language": "ar"})
    page = client.get(roster_url(term)).get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert faces(page) == {
        "آدم العلوي": photo_url(term),
        "رانية التازي": "ر\u200cت",
        "ياسمين العلوي": "ي\u200cع",
    }


def test_removing_the_photo_puts_the_initials_back(app, client, adam_has_a_photo):
    term = adam_has_a_photo
    with app.app_context():
        remove_photo(term.child(ADAM), actor=term.get(term.parent))
        db.session.commit()
        assert not any(photos.folder().iterdir())
    login(client, term.lead)
    page = client.get(roster_url(term)).get_data(as_text=True)
    assert faces(page)["Adam Alaoui"] == "A\u200cA"
    assert client.get(photo_url(term)).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("lead", 200),
        ("assistant", 200),
        ("coordinator", 200),
        ("parent", 200),
        ("outsider", 403),  # the instructor of another group
        ("other_parent", 404),  # another family
    ],
)
def test_the_photo_goes_only_to_who_teaches_the_group(app, client, adam_has_a_photo, who, status):
    term = adam_has_a_photo
    login(client, getattr(term, who))
    assert client.get(photo_url(term)).status_code == status


def test_a_visitor_is_sent_to_log_in(client, adam_has_a_photo):
    response = client.get(photo_url(adam_has_a_photo))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_substitute_sees_the_photo_on_the_days_of_the_assignment(app, client, adam_has_a_photo):
    term = adam_has_a_photo
    login(client, term.outsider)
    assert client.get(photo_url(term)).status_code == 403
    with app.app_context():
        substitutes.assign_substitute(
            term.cohort(),
            substitute=term.get(term.outsider),
            first_day=TODAY,
            last_day=TODAY,
            actor=term.get(term.coordinator),
        )
        db.session.commit()
    page = client.get(roster_url(term)).get_data(as_text=True)
    assert faces(page)["Adam Alaoui"] == photo_url(term)
    assert client.get(photo_url(term)).status_code == 200


def test_the_offline_roll_carries_no_photo(app, adam_has_a_photo):
    term = adam_has_a_photo
    with app.app_context():
        bundle = offline_bundle(term.get(term.lead), now=NOW)
    adam = next(
        child
        for lesson in bundle["lessons"]
        for child in lesson["children"]
        if child["child_id"] == term.child_ids[ADAM]
    )
    # The photo is never kept on the phone: the offline roll shows the names only.
    assert "photo_image" not in adam
    assert not any(".jpg" in str(value) for value in adam.values())
    assert adam["name"] == "Adam Alaoui"
