"""Calendar feeds: public per cohort, private per family and per instructor, parsed back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from icalendar import Calendar

from lms.accounts.models import User
from lms.courses.models import CohortStatus
from lms.courses.scheduling import add_makeup_lesson, cancel_lesson, move_lesson
from lms.extensions import db


def parse(response) -> Calendar:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def events(calendar: Calendar) -> list:
    return sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))


def test_public_cohort_feed(client, staff, cohort):
    cancel_lesson(cohort.lessons[1], actor=staff.coordinator, note="Panne de courant")
    db.session.commit()
    calendar = parse(client.get(f"/catalogue/cohorts/{cohort.id}/calendar.ics"))

    assert str(calendar["x-wr-calname"]) == "Active Labs — Robotique LEGO"
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["tzid"]) for zone in zones] == ["Africa/Casablanca"]
    found = events(calendar)
    assert len(found) == 8
    first = found[0]
    assert first["dtstart"].params["TZID"] == "Africa/Casablanca"
    start = first.decoded("dtstart")
    assert (start.date(), start.time()) == (date(2026, 10, 7), time(14, 30))
    assert str(start.tzinfo) == "Africa/Casablanca"
    assert first.decoded("dtend").time() == time(16, 0)
    assert str(first["location"]) == "Salle Ada Lovelace, Technopark de Tanger"
    assert str(first["summary"]) == "Robotique LEGO"
    assert str(first["status"]) == "CONFIRMED"
    assert str(found[1]["status"]) == "CANCELLED"
    assert str(found[1]["description"]) == "Panne de courant"
    assert int(found[1]["sequence"]) == 1
    assert len({str(e["uid"]) for e in found}) == 8


def test_feed_in_the_visitors_language(client, cohort):
    db.session.commit()
    client.set_cookie("lang", "ar")
    calendar = parse(client.get(f"/catalogue/cohorts/{cohort.id}/calendar.ics"))
    assert str(events(calendar)[0]["summary"]) == "روبوتات ليغو"


def test_a_moved_lesson_and_a_make_up_lesson_in_another_room(client, staff, cohort, other_room):
    move_lesson(
        cohort.lessons[0],
        actor=staff.coordinator,
        on_date=date(2026, 10, 10),
        start_time=time(9, 30),
        duration_minutes=90,
        room=other_room,
    )
    add_makeup_lesson(
        cohort, actor=staff.coordinator, on_date=date(2026, 12, 5), start_time=time(10, 0)
    )
    db.session.commit()
    found = events(parse(client.get(f"/catalogue/cohorts/{cohort.id}/calendar.ics")))
    moved = found[0].decoded("dtstart")
    assert (moved.date(), moved.time()) == (date(2026, 10, 10), time(9, 30))
    assert str(found[0]["location"]).startswith("Atelier Al-Jazari")
    assert int(found[0]["sequence"]) == 1
    makeup = found[-1].decoded("dtstart")
    assert (makeup.date(), makeup.time()) == (date(2026, 12, 5), time(10, 0))


def test_ramadan_lesson_in_the_feed_keeps_its_local_time(client, staff, make_cohort):
    with time_machine.travel(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), tick=False):
        cohort = make_cohort(start_date=date(2026, 2, 5), end_date=date(2026, 4, 2), weekdays=[3])
        db.session.commit()
        calendar = parse(client.get(f"/catalogue/cohorts/{cohort.id}/calendar.ics"))
    starts = [e.decoded("dtstart") for e in events(calendar)]
    assert {s.time() for s in starts} == {time(14, 30)}
    during = next(s for s in starts if s.date() == date(2026, 3, 5))
    before = next(s for s in starts if s.date() == date(2026, 2, 12))
    assert during.utcoffset().total_seconds() == 0
    assert before.utcoffset().total_seconds() == 3600


def test_draft_cohorts_have_no_public_feed(client, make_cohort, login_as, coordinator):
    draft = make_cohort(status=CohortStatus.DRAFT)
    assert client.get(f"/catalogue/cohorts/{draft.id}/calendar.ics").status_code == 404
    assert client.get("/catalogue/cohorts/999999/calendar.ics").status_code == 404
    login_as(coordinator)
    assert client.get(f"/catalogue/cohorts/{draft.id}/calendar.ics").status_code == 200


# ---------------------------------------------------------------------------------------------
# Private feeds


def _feed_path(client) -> str:
    response = client.post("/calendar/link")
    assert response.status_code == 302
    page = client.get("/calendar").get_data(as_text=True)
    start = page.index("http://localhost/calendar/")
    return page[start : page.index('"', start)].removeprefix("http://localhost")


def test_instructor_feed_has_the_lessons_they_teach(
    client, login_as, instructor, staff, make_cohort, other_room
):
    taught = make_cohort()
    make_cohort(room=other_room, lead=staff.assistant)  # not theirs
    assisted = make_cohort(
        room=other_room, lead=staff.assistant, assistants=[staff.lead], weekdays=[5]
    )
    db.session.commit()
    login_as(instructor)
    path = _feed_path(client)
    client.post("/logout")  # calendar apps never log in
    response = client.get(path)
    found = events(parse(response))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert len(found) == len(taught.lessons) + len(assisted.lessons)
    assert {str(e["location"]).split(",")[0] for e in found} == {
        "Salle Ada Lovelace",
        "Atelier Al-Jazari",
    }


def test_a_new_address_kills_the_old_one(client, login_as, parent):
    login_as(parent)
    first = _feed_path(client)
    assert client.get(first).status_code == 200
    second = _feed_path(client)
    assert second != first
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_family_feed_is_empty_until_enrolment_fills_the_hook(
    client, login_as, parent, cohort, families
):
    db.session.commit()
    login_as(parent)
    path = _feed_path(client)
    calendar = parse(client.get(path))
    assert events(calendar) == []
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["Africa/Casablanca"]

    families.cohorts[parent.id] = [cohort.id]
    found = events(parse(client.get(path)))
    assert len(found) == 8
    assert str(found[0]["summary"]) == "Robotique LEGO"


def test_a_deactivated_account_loses_its_feed(app, client, login_as, parent):
    login_as(parent)
    path = _feed_path(client)
    with app.app_context():
        db.session.get(User, parent.id).active = False
        db.session.commit()
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_my_calendar_needs_a_login(client, method):
    path = "/calendar" if method == "get" else "/calendar/link"
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
