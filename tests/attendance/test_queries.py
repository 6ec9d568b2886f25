"""The roster and the grid send a fixed number of SQL statements, whatever the number of
children and lessons."""

from __future__ import annotations

from datetime import date

import pytest

from lms.attendance.notices import report_absence
from lms.attendance.roll_call import check_out
from lms.extensions import db
from lms.families.models import ConsentKind, ConsentRecord
from tests.attendance.conftest import NOW, mark
from tests.conftest import login

FORTY_LESSONS_LAST_DAY = date(2026, 11, 10)  # Monday to Friday from Wednesday 16 September


def fill(app, term, *, lessons=(1, 2, 5)):
    """Marks, a notice, a check-out and consents, so that every part of the pages shows."""
    with app.app_context():
        for child_id in term.child_ids:
            db.session.add(
                ConsentRecord(
                    child_id=child_id, kind=ConsentKind.PHOTO, granted=True, notice_version="1"
                )
            )
        everyone = dict.fromkeys(range(len(term.child_ids)), "present")
        for number in lessons:
            mark(term, number, everyone)
        lesson = term.lesson(lessons[-1])
        check_out(
            lesson,
            term.child(0),
            actor=term.get(term.coordinator),
            collector=f"pickup-{term.pickup_id}",
            now=lesson.ends_at,
        )
        last = term.lesson(len(term.lesson_ids))
        if last.starts_at > NOW:
            report_absence(last, term.child(1), actor=term.get(term.parent))
        db.session.commit()


def count(client, count_statements, url: str) -> int:
    client.get(url)  # warm caches (the user, the translations)
    with count_statements() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("page", ["roster", "grid"])
def test_three_or_thirty_children_same_statements(app, client, make_term, count_statements, page):
    counts = []
    for children in (3, 30):
        term = make_term(children=children)
        fill(app, term)
        login(client, term.lead)
        url = (
            f"/attendance/lessons/{term.lesson_ids[4]}"
            if page == "roster"
            else f"/attendance/cohorts/{term.cohort_id}"
        )
        counts.append(count(client, count_statements, url))
        client.post("/logout")
    assert 5 < counts[0] == counts[1] < 25, counts


@pytest.mark.parametrize("page", ["roster", "grid", "parent"])
def test_five_or_forty_lessons_same_statements(app, client, make_term, count_statements, page):
    counts = []
    for weekdays, last_day in (
        ((2,), date(2026, 10, 14)),
        ((0, 1, 2, 3, 4), FORTY_LESSONS_LAST_DAY),
    ):
        term = make_term(children=4, weekdays=weekdays, last_day=last_day)
        assert len(term.lesson_ids) in (5, 40)
        fill(app, term, lessons=(1, 2, 3))
        user = term.parent if page == "parent" else term.lead
        login(client, user)
        url = {
            "roster": f"/attendance/lessons/{term.lesson_ids[2]}",
            "grid": f"/attendance/cohorts/{term.cohort_id}",
            "parent": f"/attendance/children/{term.child_ids[0]}",
        }[page]
        counts.append(count(client, count_statements, url))
        client.post("/logout")
    assert 5 < counts[0] == counts[1] < 25, counts


def test_the_instructor_home_is_constant_too(app, client, make_term, count_statements):
    counts = []
    for children in (3, 30):
        term = make_term(children=children)
        fill(app, term)
        login(client, term.lead)
        counts.append(count(client, count_statements, "/instructor"))
        client.post("/logout")
    assert 5 < counts[0] == counts[1] < 25, counts
