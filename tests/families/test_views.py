"""Family pages: happy paths, bad inputs (clear messages, never a 500), guards."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import time_machine

from lms.database import utcnow
from lms.extensions import db
from lms.families.children import children_of, log_medical_access, save_health, set_photo_consent
from lms.families.contacts import Person, add_contact
from lms.families.guardians import accept_invitation, invite_guardian, make_invitation_token
from lms.families.hooks import TeachingPeriod
from lms.families.models import Child, ConsentKind, ConsentRecord, ContactKind, MedicalAccessLog
from lms.roles import Role
from tests.conftest import PASSWORD, get, links_in, login, mail_log
from tests.families.conftest import years_ago

pytestmark = pytest.mark.usefixtures("ctx")


def text(response) -> str:
    return response.get_data(as_text=True)


def new_child_form(**overrides) -> dict:
    return {
        "first_name": "Yasmine",
        "last_name": "Alaoui",
        "first_name_ar": "ياسمين",
        "last_name_ar": "العلوي",
        "date_of_birth": years_ago(9).isoformat(),
        "school_grade": "CE4",
        "emergency_name": "Nadia Bennani",
        "emergency_relationship": "Mère",
        "emergency_phone": "06 12 34 56 02",
        **overrides,
    }


def reload(child: Child) -> Child:
    db.session.expire_all()
    return db.session.get(Child, child.id)


class TestChildren:
    def test_the_parent_home_shows_a_card_per_child_with_alerts(self, login_as, parent, child):
        page = text(login_as(parent).get("/parent"))
        assert "Zoubida Tahiri-Benslimane" in page
        assert "زبيدة الطاهري" in page
        assert "9 years old" in page
        assert "No decision yet about photos and videos." in page
        assert f'href="/children/{child.id}"' in page
        assert 'href="/children/new"' in page

    def test_the_nav_has_my_children(self, login_as, parent):
        assert 'href="/children">My children</a>' in text(login_as(parent).get("/parent"))

    def test_the_children_page(self, login_as, parent, child):
        response = login_as(parent).get("/children")
        assert response.status_code == 200
        assert "Zoubida" in text(response)
        assert "/family/export.json" in text(response)
        assert response.headers["Cache-Control"] == "no-store"

    def test_a_parent_without_children_is_invited_to_add_one(self, login_as, parent):
        assert "Describe your children" in text(login_as(parent).get("/parent"))

    def test_the_first_emergency_contact_is_the_parent_by_default(self, login_as, make_user):
        user = make_user(Role.PARENT, full_name="Leila Chraibi", phone="+212612345604")
        page = text(login_as(user).get("/children/new"))
        assert 'value="Leila Chraibi"' in page
        assert 'value="+212612345604"' in page

    def test_adding_a_child(self, login_as, parent):
        response = login_as(parent).post("/children/new", data=new_child_form())
        child = db.session.scalar(db.select(Child))
        assert response.status_code == 302
        assert response.location == f"/children/{child.id}"
        assert (child.first_name, child.first_name_ar, child.school_grade) == (
            "Yasmine",
            "ياسمين",
            "CE4",
        )
        assert child.emergency_contacts[0].phone == "+212612345602"
        page = text(login_as(parent).get(response.location))
        assert "Yasmine is added." in page

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"date_of_birth": "2999-01-01"}, "The date of birth cannot be in the future."),
            ({"date_of_birth": lambda: years_ago(2).isoformat()}, "aged 4 to 18"),
            ({"date_of_birth": "2017-02-31"}, "Enter a real date"),
            ({"date_of_birth": ""}, "Enter the date of birth."),
            ({"emergency_name": "", "emergency_phone": ""}, "This field is required."),
            ({"emergency_phone": "12345"}, "Enter a valid phone number"),
            ({"first_name_ar": "Yasmine"}, "Write this name in Arabic letters"),
            ({"first_name": "R2D2"}, "A name cannot contain digits."),
            ({"first_name": "---"}, "A name needs letters."),
            ({"last_name": "x" * 81}, "At most 80 characters."),
        ],
    )
    def test_bad_inputs_get_clear_messages(self, login_as, parent, overrides, message):
        overrides = {k: v() if callable(v) else v for k, v in overrides.items()}
        response = login_as(parent).post("/children/new", data=new_child_form(**overrides))
        assert response.status_code == 422
        assert message in text(response)
        assert 'value="CE4"' in text(response)  # nothing typed is lost
        assert db.session.scalar(db.select(Child)) is None

    def test_the_child_page(self, login_as, parent, coordinator, child):
        log_medical_access(child, staff=get(coordinator))
        db.session.commit()
        page = text(login_as(parent).get(f"/children/{child.id}"))
        for expected in (
            "Zoubida Tahiri-Benslimane",
            "Fatiha Ouarzazi",
            "06 61 23 45 67",
            "Health information",
            "Photos and videos",
            "Guardians",
            "Karim Alaoui",
            "Who opened the health information",
            "Fatima Zahra El Amrani (Coordinator)",
        ):
            assert expected in page, expected

    def test_editing_a_child(self, login_as, parent, child):
        client = login_as(parent)
        form = text(client.get(f"/children/{child.id}/edit"))
        assert 'value="Tahiri-Benslimane"' in form
        assert f'value="{child.date_of_birth.isoformat()}"' in form
        data = new_child_form(first_name="Zoubida", last_name="Tahiri", may_leave_alone="y")
        response = client.post(f"/children/{child.id}/edit", data=data)
        assert response.status_code == 302
        child = reload(child)
        assert (child.last_name, child.may_leave_alone) == ("Tahiri", True)

    def test_editing_with_a_future_date_is_refused(self, login_as, parent, child):
        response = login_as(parent).post(
            f"/children/{child.id}/edit", data=new_child_form(date_of_birth="2999-05-05")
        )
        assert response.status_code == 422
        assert "cannot be in the future" in text(response)


class TestHealthAndPhotos:
    def test_health_information_with_consent(self, login_as, parent, child):
        client = login_as(parent)
        assert "Health information notice (version 2026-09)" in text(
            client.get(f"/children/{child.id}/health")
        )
        response = client.post(
            f"/children/{child.id}/health",
            data={"consent": "yes", "allergies": "Peanuts", "medical_notes": ""},
        )
        assert response.status_code == 302
        assert reload(child).allergies == "Peanuts"
        assert "Peanuts" in text(client.get(f"/children/{child.id}"))

    def test_health_information_without_consent_is_refused(self, login_as, parent, child):
        response = login_as(parent).post(
            f"/children/{child.id}/health",
            data={"consent": "no", "allergies": "Peanuts", "medical_notes": ""},
        )
        assert response.status_code == 422
        assert "we need your consent" in text(response)
        assert "Peanuts" in text(response)
        assert reload(child).allergies is None

    def test_a_decision_is_required(self, login_as, parent, child):
        response = login_as(parent).post(f"/children/{child.id}/health", data={})
        assert response.status_code == 422
        assert "Choose yes or no." in text(response)

    def test_withdrawing_consent_says_the_notes_are_erased(self, login_as, parent, child):
        save_health(child, actor=get(parent), consent=True, allergies="Eggs", medical_notes=None)
        db.session.commit()
        client = login_as(parent)
        response = client.post(f"/children/{child.id}/health", data={"consent": "no"})
        assert response.status_code == 302
        assert "the health information has been erased" in text(client.get(response.location))
        assert reload(child).allergies is None

    def test_photo_consent_and_its_history(self, login_as, parent, child):
        client = login_as(parent)
        assert (
            client.post(f"/children/{child.id}/photo-consent", data={"granted": "yes"}).status_code
            == 302
        )
        assert (
            client.post(f"/children/{child.id}/photo-consent", data={"granted": "no"}).status_code
            == 302
        )
        page = text(client.get(f"/children/{child.id}/photo-consent"))
        assert page.count("consent given") == 1
        assert page.count("consent refused") == 1
        assert reload(child).has_consent(ConsentKind.PHOTO) is False

    def test_photo_consent_needs_an_answer(self, login_as, parent, child):
        response = login_as(parent).post(
            f"/children/{child.id}/photo-consent", data={"granted": "maybe"}
        )
        assert response.status_code == 422


class TestPeople:
    def test_emergency_contacts(self, login_as, parent, child):
        client = login_as(parent)
        response = client.post(
            f"/children/{child.id}/emergency-contacts/new",
            data={"name": "Ali Tahiri", "relationship": "Oncle", "phone": "0661000111"},
        )
        assert response.status_code == 302
        assert response.location == f"/children/{child.id}#emergency"
        first, second = reload(child).emergency_contacts
        response = client.post(
            f"/children/{child.id}/emergency-contacts/{second.id}/edit",
            data={"name": "Ali T.", "relationship": "Oncle", "phone": "0661000111"},
        )
        assert response.status_code == 302
        assert (
            client.post(f"/children/{child.id}/emergency-contacts/{first.id}/delete").status_code
            == 302
        )
        assert [c.name for c in reload(child).emergency_contacts] == ["Ali T."]

    def test_the_last_emergency_contact_stays(self, login_as, parent, child):
        client = login_as(parent)
        [contact] = child.emergency_contacts
        response = client.post(
            f"/children/{child.id}/emergency-contacts/{contact.id}/delete", follow_redirects=True
        )
        assert "at least one emergency contact" in text(response)
        assert len(reload(child).emergency_contacts) == 1

    def test_an_invalid_phone_is_refused(self, login_as, parent, child):
        response = login_as(parent).post(
            f"/children/{child.id}/pickups/new",
            data={"name": "Latifa", "relationship": "Grand-mère", "phone": "0800"},
        )
        assert response.status_code == 422
        assert "Enter a valid phone number" in text(response)

    def test_pickup_people(self, login_as, parent, child):
        client = login_as(parent)
        client.post(
            f"/children/{child.id}/pickups/new",
            data={"name": "Latifa Alaoui", "relationship": "Grand-mère", "phone": "0661234590"},
        )
        [pickup] = reload(child).authorised_pickups
        assert 'value="Latifa Alaoui"' in text(
            client.get(f"/children/{child.id}/pickups/{pickup.id}/edit")
        )
        client.post(f"/children/{child.id}/pickups/{pickup.id}/delete")
        assert reload(child).authorised_pickups == []

    def test_a_contact_of_another_child_is_not_found(self, login_as, parent, child, make_child):
        sibling = make_child(parent, first_name="Adam")
        [contact] = sibling.emergency_contacts
        client = login_as(parent)
        assert (
            client.get(f"/children/{child.id}/emergency-contacts/{contact.id}/edit").status_code
            == 404
        )
        assert (
            client.post(f"/children/{child.id}/emergency-contacts/{contact.id}/delete").status_code
            == 404
        )


class TestRefusals:
    """A service's refusal, through the one path of lms/web.py."""

    def test_a_refused_form_shows_the_reason_on_its_field_with_what_was_typed(
        self, login_as, parent, child
    ):
        response = login_as(parent).post(
            f"/children/{child.id}/health",
            data={"consent": "no", "allergies": "Peanuts and kiwis", "medical_notes": ""},
        )
        assert response.status_code == 422
        page = text(response)
        assert re.search(
            r'<p class="error" id="consent-error">To store allergies or medical notes we need '
            r"your consent\.",
            page,
        )
        assert "Peanuts and kiwis</textarea>" in page
        assert db.session.scalars(db.select(ConsentRecord)).all() == []
        assert reload(child).allergies is None

    def test_a_refused_button_goes_back_where_it_came_from(self, login_as, parent, child):
        client = login_as(parent)
        [contact] = child.emergency_contacts
        url = f"/children/{child.id}/emergency-contacts/{contact.id}/delete"
        page = f"http://localhost/children/{child.id}"
        response = client.post(url, headers={"Referer": page})
        assert response.status_code == 303
        assert response.location == f"/children/{child.id}"
        assert "at least one emergency contact" in text(client.get(response.location))
        assert [c.id for c in reload(child).emergency_contacts] == [contact.id]
        # A safe ``next`` wins over the referrer.
        response = client.post(url, data={"next": "/children"}, headers={"Referer": page})
        assert (response.status_code, response.location) == (303, "/children")
        assert len(reload(child).emergency_contacts) == 1

    def test_a_contact_of_the_other_list_is_not_found(self, login_as, parent, child):
        [contact] = child.emergency_contacts
        client = login_as(parent)
        assert client.get(f"/children/{child.id}/pickups/{contact.id}/edit").status_code == 404
        assert client.post(f"/children/{child.id}/pickups/{contact.id}/delete").status_code == 404
        assert len(reload(child).emergency_contacts) == 1


class TestCoParents:
    def test_inviting_a_co_parent_who_registers_through_the_link(self, app, client, parent, child):
        login(client, parent)
        page = text(client.get(f"/children/{child.id}/guardians/invite"))
        assert re.search(rf'<input checked [^>]*value="{child.id}"', page)
        response = client.post(
            f"/children/{child.id}/guardians/invite",
            data={"email": "nadia@example.ma", "children": [child.id]},
        )
        assert response.status_code == 302
        assert "nadia@example.ma" in text(client.get(f"/children/{child.id}"))
        client.post("/logout")

        link = next(link for link in links_in(mail_log(app)) if "/invitations/" in link)
        path = link.split("://", 1)[1].split("/", 1)[1]
        page = text(client.get("/" + path))
        assert "Karim Alaoui invites you to become a guardian of Zoubida" in page
        register = re.search(r'href="(/register\?next=[^"]+)"', page).group(1)
        form = text(client.get(register.replace("&amp;", "&")))
        assert 'name="next" type="hidden" value="/invitations/' in form
        response = client.post(
            "/register",
            data={
                "full_name": "Nadia Bennani",
                "email": "nadia@example.ma",
                "phone": "0612345602",
                "password": "une-phrase-facile-2026",
                "confirm": "une-phrase-facile-2026",
                "language": "en",
                "accept_privacy": "y",
                "next": "/" + path,
            },
        )
        # The sign-up logs nobody in (it must not tell who has an account): log in, and the
        # invitation is where the login leads.
        assert response.location == "/login?next=/" + path
        response = client.post(
            "/login",
            data={
                "email": "nadia@example.ma",
                "password": "une-phrase-facile-2026",
                "next": "/" + path,
            },
        )
        assert response.location == "/" + path
        assert "Accept the invitation" in text(client.get(response.location))
        response = client.post(f"/{path}/accept")
        assert response.location == f"/children/{child.id}"
        assert "Zoubida Tahiri-Benslimane" in text(client.get(response.location))
        # The link is dead now.
        assert client.get("/" + path).status_code == 410

    def test_inviting_yourself_is_refused(self, login_as, parent, child):
        response = login_as(parent).post(
            f"/children/{child.id}/guardians/invite",
            data={"email": parent.email, "children": [child.id]},
        )
        assert response.status_code == 422
        assert "This is your own address" in text(response)

    def test_an_invitation_without_children_is_refused(self, login_as, parent, child):
        response = login_as(parent).post(
            f"/children/{child.id}/guardians/invite", data={"email": "nadia@example.ma"}
        )
        assert response.status_code == 422
        assert "Choose at least one child." in text(response)

    def test_someone_elses_child_cannot_be_slipped_into_an_invitation(
        self, login_as, parent, child, other_parent, make_child
    ):
        theirs = make_child(other_parent, first_name="Ilyas")
        response = login_as(parent).post(
            f"/children/{child.id}/guardians/invite",
            data={"email": "nadia@example.ma", "children": [theirs.id]},
        )
        assert response.status_code == 422
        assert children_of(get(other_parent))[0].guardians == [get(other_parent)]

    def test_an_expired_invitation(self, client, parent, child):
        with time_machine.travel(utcnow(), tick=False) as traveller:
            invitation = invite_guardian(
                actor=get(parent), email="nadia@example.ma", children=[child]
            )
            db.session.commit()
            token = make_invitation_token(invitation)
            traveller.shift(timedelta(days=8))
            response = client.get(f"/invitations/{token}")
        assert response.status_code == 410
        assert "This invitation has expired." in text(response)

    def test_a_forged_invitation(self, client):
        response = client.get("/invitations/not-a-token")
        assert response.status_code == 410
        assert "not valid" in text(response)

    def test_accepting_with_another_account_is_refused(self, login_as, parent, other_parent, child):
        invitation = invite_guardian(actor=get(parent), email="nadia@example.ma", children=[child])
        db.session.commit()
        token = make_invitation_token(invitation)
        client = login_as(other_parent)
        assert "This invitation was sent to nadia@example.ma" in text(
            client.get(f"/invitations/{token}")
        )
        response = client.post(f"/invitations/{token}/accept", follow_redirects=True)
        assert "Log in with that address to accept it." in text(response)
        assert children_of(get(other_parent)) == []

    def test_an_anonymous_accept_goes_through_login(self, client, parent, co_parent, child):
        invitation = invite_guardian(actor=get(parent), email=co_parent.email, children=[child])
        db.session.commit()
        token = make_invitation_token(invitation)
        response = client.post(f"/invitations/{token}/accept")
        assert response.location.startswith("/login?next=")
        response = login(client, co_parent, next=f"/invitations/{token}/accept")
        assert client.get(response.location).location == f"/invitations/{token}"

    def test_cancelling_an_invitation(self, login_as, parent, child):
        invitation = invite_guardian(actor=get(parent), email="nadia@example.ma", children=[child])
        db.session.commit()
        client = login_as(parent)
        response = client.post(
            f"/children/{child.id}/invitations/{invitation.id}/cancel", follow_redirects=True
        )
        assert "is cancelled" in text(response)
        db.session.refresh(invitation)
        assert invitation.cancelled_at is not None

    def test_removing_a_guardian(self, login_as, parent, co_parent, child):
        invitation = invite_guardian(actor=get(parent), email=co_parent.email, children=[child])
        accept_invitation(make_invitation_token(invitation), user=get(co_parent))
        db.session.commit()
        client = login_as(co_parent)
        response = client.post(
            f"/children/{child.id}/guardians/{parent.id}/remove", follow_redirects=True
        )
        assert "Karim Alaoui is no longer a guardian." in text(response)
        response = client.post(
            f"/children/{child.id}/guardians/{co_parent.id}/remove", follow_redirects=True
        )
        assert "A child always keeps at least one guardian" in text(response)
        assert [g.id for g in reload(child).guardians] == [co_parent.id]


class TestDataRights:
    def test_json_export(self, login_as, parent, child):
        response = login_as(parent).get("/family/export.json")
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert "attachment" in response.headers["Content-Disposition"]
        data = json.loads(response.get_data())
        assert data["children"][0]["first_name_ar"] == "زبيدة"

    def test_child_export(self, login_as, parent, child, make_child):
        make_child(parent, first_name="Adam")
        data = json.loads(login_as(parent).get(f"/children/{child.id}/export.json").get_data())
        assert [c["first_name"] for c in data["children"]] == ["Zoubida"]

    def test_readable_export(self, login_as, parent, child):
        save_health(child, actor=get(parent), consent=True, allergies="Peanuts", medical_notes=None)
        db.session.commit()
        page = text(login_as(parent).get("/family/export"))
        for expected in ("Everything we hold about your family", parent.email, "Peanuts"):
            assert expected in page
        assert "Fatiha Ouarzazi" in page
        assert "Health information: consent given" in page

    def test_erasing_a_child(self, login_as, parent, child):
        client = login_as(parent)
        page = text(client.get(f"/children/{child.id}/erase"))
        assert "This is erased at once and for good" in page
        assert "1 emergency contact" in page
        response = client.post(
            f"/children/{child.id}/erase", data={"password": "wrong", "understood": "y"}
        )
        assert response.status_code == 422
        assert "Your password is not correct." in text(response)
        response = client.post(f"/children/{child.id}/erase", data={"password": PASSWORD})
        assert response.status_code == 422
        assert "Tick this box to confirm." in text(response)
        response = client.post(
            f"/children/{child.id}/erase", data={"password": PASSWORD, "understood": "y"}
        )
        assert response.location == "/children"
        assert reload(child).is_erased
        assert client.get(f"/children/{child.id}").status_code == 404

    def test_erasing_the_account(self, client, parent, child):
        login(client, parent)
        page = text(client.get("/family/erase"))
        assert "Zoubida Tahiri-Benslimane" in page
        response = client.post("/family/erase", data={"password": PASSWORD, "understood": "y"})
        assert response.location == "/"
        assert client.get("/parent").status_code == 302  # logged out
        refused = login(client, parent)  # and cannot log in again
        assert refused.status_code == 422
        assert "Incorrect e-mail address or password." in text(refused)
        assert reload(child).is_erased


class TestStaff:
    def test_a_coordinator_opens_the_safeguarding_card_and_it_is_logged(
        self, login_as, coordinator, parent, child
    ):
        save_health(child, actor=get(parent), consent=True, allergies="Peanuts", medical_notes=None)
        db.session.commit()
        response = login_as(coordinator).get(f"/children/{child.id}/safeguarding")
        assert response.status_code == 200
        page = text(response)
        for expected in ("Peanuts", "Fatiha Ouarzazi", "Karim Alaoui", "Must be collected"):
            assert expected in page
        assert "Do not take or publish pictures of this child." in page
        [entry] = db.session.scalars(db.select(MedicalAccessLog)).all()
        assert (entry.child_id, entry.staff_id) == (child.id, coordinator.id)

    def test_an_instructor_sees_the_card_only_while_teaching(
        self, teaching, login_as, instructor, child
    ):
        client = login_as(instructor)
        assert client.get(f"/children/{child.id}/safeguarding").status_code == 403
        today = years_ago(0)
        teaching[(instructor.id, child.id)] = [
            TeachingPeriod(start=today - timedelta(days=10), cohort_end=today)
        ]
        assert client.get(f"/children/{child.id}/safeguarding").status_code == 200
        assert db.session.scalar(db.select(db.func.count()).select_from(MedicalAccessLog)) == 1

    def test_the_coordinators_list_of_children(
        self, login_as, coordinator, parent, child, make_child
    ):
        make_child(parent, first_name="Adam")
        client = login_as(coordinator)
        page = text(client.get("/coordinator/children"))
        assert "Zoubida" in page
        assert "Adam" in page
        page = text(client.get("/coordinator/children?q=zoub"))
        assert "Zoubida" in page
        assert "Adam Alaoui" not in page
        assert "زبيدة" in text(client.get("/coordinator/children?q=زبيدة"))
        assert "No children found." in text(client.get("/coordinator/children?q=%25"))


def count_queries(client, count_statements, url: str) -> int:
    """How many SQL statements one GET of ``url`` runs."""
    with count_statements() as counter:
        assert client.get(url).status_code == 200
    return counter.count


@pytest.mark.parametrize("url", ["/parent", "/children", "/family/export", "/family/export.json"])
def test_family_pages_need_the_same_queries_for_one_child_or_five(
    login_as, parent, coordinator, make_child, count_statements, url
):
    client = login_as(parent)

    def add_child(name):
        child = make_child(parent, first_name=name)
        set_photo_consent(child, actor=get(parent), granted=True)
        add_contact(
            child,
            actor=get(parent),
            kind=ContactKind.PICKUP,
            person=Person("Latifa", "Grand-mère", "0661234590"),
        )
        log_medical_access(child, staff=get(coordinator))
        db.session.commit()

    add_child("Yasmine")
    one = count_queries(client, count_statements, url)
    for name in ("Adam", "Rania", "Ilyas", "Lina"):
        add_child(name)
    assert count_queries(client, count_statements, url) == one


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["La date de naissance ne peut pas être dans le futur.", "Contact d'urgence"]),
        ("ar", ["لا يمكن أن يكون تاريخ الميلاد في المستقبل.", "جهة الاتصال للطوارئ", 'dir="rtl"']),
    ],
)
def test_messages_are_translated(client, make_user, language, expected):
    user = make_user(Role.PARENT, locale=language)
    login(client, user)
    response = client.post("/children/new", data=new_child_form(date_of_birth="2999-01-01"))
    assert response.status_code == 422
    for words in expected:
        assert words in text(response)


def test_the_child_page_in_arabic(client, make_user, make_child):
    user = make_user(Role.PARENT, locale="ar")
    child = make_child(user, first_name_ar="ياسمين", last_name_ar="العلوي")
    login(client, user)
    page = text(client.get(f"/children/{child.id}"))
    for words in ("المعلومات الصحية", "جهات الاتصال للطوارئ", "أولياء الأمر", "<bdi>ياسمين العلوي"):
        assert words in page


@pytest.mark.parametrize(
    "config_overrides",
    [{"BABEL_DEFAULT_LOCALE": "en", "RATELIMIT_ENABLED": True, "GUARDIAN_INVITE_LIMIT": "2/hour"}],
)
def test_invitation_e_mails_are_rate_limited(login_as, parent, child):
    client = login_as(parent)
    statuses = [
        client.post(
            f"/children/{child.id}/guardians/invite",
            data={"email": f"someone{n}@example.ma", "children": [child.id]},
        ).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert client.get(f"/children/{child.id}/guardians/invite").status_code == 200
