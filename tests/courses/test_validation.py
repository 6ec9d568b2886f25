"""Every rule the services enforce on courses, rooms, closures and cohorts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest

from lms.accounts.models import User
from lms.courses.catalogue import create_course, update_course
from lms.courses.cohorts import CohortPlan, set_cohort_status, update_cohort
from lms.courses.models import CohortStatus
from lms.courses.scheduling import (
    add_makeup_lesson,
    cancel_lesson,
    closure_on,
    create_closure,
    create_room,
    scheduled_lessons_during,
    update_room,
)
from lms.errors import DomainError
from lms.extensions import db
from lms.roles import Role
from tests.courses.conftest import course_details


def refused(field: str | None, match: str):
    """Context manager: the service refuses with ``match`` on ``field``."""

    class Check:
        def __enter__(self):
            self.raises = pytest.raises(DomainError, match=match)
            self.info = self.raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.raises.__exit__(*exc)
            assert self.info.value.field == field, self.info.value.field
            return handled

    return Check()


@pytest.fixture
def config_overrides() -> dict:
    # Services speak the default language outside a request; English keeps the checks readable.
    return {"BABEL_DEFAULT_LOCALE": "en"}


# ---------------------------------------------------------------------------------------------
# Courses


@pytest.mark.parametrize(
    ("changes", "field", "match"),
    [
        ({"min_age": 6}, "min_age", "aged 7 to 14"),
        ({"max_age": 15}, "max_age", "aged 7 to 14"),
        ({"min_age": 11, "max_age": 9}, "max_age", "cannot be below"),
        ({"price_centimes": -100}, "price", "negative"),
        ({"attendance_threshold": 101}, "attendance_threshold", "percentage"),
        ({"title_fr": "   "}, "title_fr", "French title"),
        ({"summary_fr": ""}, "summary_fr", "Describe"),
        ({"track": "cooking"}, "track", "track"),
        ({"level": "expert"}, "level", "level"),
    ],
)
def test_course_refusals(staff, changes, field, match):
    with refused(field, match):
        create_course(course_details(**changes), actor=staff.coordinator)


def test_programme_ages_come_from_the_configuration(app, staff):
    app.config["PROGRAMME_MAX_AGE"] = 16
    course = create_course(course_details(min_age=13, max_age=16), actor=staff.coordinator)
    assert (course.min_age, course.max_age) == (13, 16)


def test_course_titles_are_unique_whatever_the_case(staff, course):
    with refused("title_fr", "already has this title"):
        create_course(course_details(title_fr="robotique lego"), actor=staff.coordinator)


def test_course_translations_fall_back_to_french(staff):
    course = create_course(
        course_details(title_fr="Arduino", title_ar="  ", summary_en="Sensors and motors."),
        actor=staff.coordinator,
    )
    assert course.title_ar is None
    assert course.title("ar") == "Arduino"
    assert course.summary("en") == "Sensors and motors."
    assert course.summary("ar") == course.summary_fr


def test_prerequisites(staff, make_course):
    scratch = make_course(title_fr="Scratch Junior")
    python = make_course(title_fr="Python", prerequisite_ids=[scratch.id])
    arduino = make_course(title_fr="Arduino", prerequisite_ids=[python.id])
    assert arduino.prerequisites == [python]
    with refused("prerequisites", "own prerequisite"):
        update_course(
            python, course_details(title_fr="Python"), actor=staff.coordinator,
            prerequisite_ids=[python.id],
        )  # fmt: skip
    with refused("prerequisites", "circle"):
        update_course(
            scratch, course_details(title_fr="Scratch Junior"), actor=staff.coordinator,
            prerequisite_ids=[arduino.id],
        )  # fmt: skip
    with refused("prerequisites", "Unknown"):
        make_course(title_fr="Autre", prerequisite_ids=[999_999])


def test_a_course_with_an_open_cohort_stays_published(staff, course, cohort):
    with refused("published", "before unpublishing"):
        update_course(
            course, course_details(published=False), actor=staff.coordinator, prerequisite_ids=[]
        )


def test_only_coordinators_edit_the_catalogue(staff):
    with pytest.raises(DomainError, match="Only coordinators"):
        create_course(course_details(), actor=staff.lead)
    with pytest.raises(DomainError, match="Only coordinators"):
        create_room(actor=staff.lead, name="Salle", capacity=10)


# ---------------------------------------------------------------------------------------------
# Rooms and closures


def test_rooms(app, staff, room):
    assert room.site == "Technopark de Tanger"
    with refused("name", "already has a room"):
        create_room(actor=staff.coordinator, name="salle ada lovelace", capacity=10)
    other_site = create_room(
        actor=staff.coordinator, name="Salle Ada Lovelace", capacity=10, site="Lycée Regnault"
    )
    assert other_site.site == "Lycée Regnault"
    with refused("capacity", "at least one"):
        create_room(actor=staff.coordinator, name="Placard", capacity=0)


def test_a_room_never_shrinks_below_a_cohort_using_it(staff, room, make_cohort):
    make_cohort(capacity=12)
    with refused("capacity", "has 12 seats"):
        update_room(room, actor=staff.coordinator, name=room.name, capacity=10, site="")
    update_room(room, actor=staff.coordinator, name="Salle A", capacity=12, site="")
    assert (room.name, room.capacity) == ("Salle A", 12)


def test_closures(staff):
    with refused("ends_on", "before the first day"):
        create_closure(
            actor=staff.coordinator,
            starts_on=date(2026, 11, 18),
            ends_on=date(2026, 11, 17),
            label="Erreur",
        )
    with refused("label", "why"):
        create_closure(actor=staff.coordinator, starts_on=date(2026, 11, 18), label=" ")
    with refused("ends_on", "at most a year"):
        create_closure(
            actor=staff.coordinator,
            starts_on=date(2026, 1, 1),
            ends_on=date(2027, 6, 1),
            label="Travaux",
        )
    closure = create_closure(
        actor=staff.coordinator, starts_on=date(2026, 11, 18), label="Fête de l'Indépendance"
    )
    assert closure.ends_on == closure.starts_on
    assert closure_on(date(2026, 11, 18)) == closure


def test_closure_reports_lessons_already_planned(staff, cohort):
    closure = create_closure(
        actor=staff.coordinator, starts_on=date(2026, 11, 16), ends_on=date(2026, 11, 20),
        label="Semaine de travaux",
    )  # fmt: skip
    assert [lesson.number for lesson in scheduled_lessons_during(closure)] == [7]


# ---------------------------------------------------------------------------------------------
# Cohorts


@pytest.mark.parametrize(
    ("changes", "field", "match"),
    [
        ({"end_date": date(2026, 10, 4)}, "end_date", "end before it starts"),
        ({"start_date": date(2026, 9, 1)}, "start_date", "in the past"),
        ({"end_date": date(2027, 11, 30)}, "end_date", "at most a year"),
        ({"capacity": 15}, "capacity", "holds 14 children"),
        ({"capacity": 0}, "capacity", "at least one seat"),
        ({"weekdays": []}, "weekdays", "at least one weekday"),
        ({"weekdays": [7]}, "weekdays", "Unknown weekday"),
        ({"duration_minutes": 10}, "duration_minutes", "between 15 minutes"),
        ({"start_time": time(23, 0)}, "start_time", "end on the day"),
        ({"language": "es"}, "language", "Unknown language"),
        ({"status": CohortStatus.CLOSED}, "status", "draft or open"),
        (
            {
                "enrolment_opens_at": datetime(2026, 10, 1, tzinfo=UTC),
                "enrolment_closes_at": datetime(2026, 9, 20, tzinfo=UTC),
            },
            "enrolment_closes_on",
            "close after it opens",
        ),
        (
            {"enrolment_closes_at": datetime(2026, 12, 15, tzinfo=UTC)},
            "enrolment_closes_on",
            "by the cohort's last day",
        ),
    ],
)
def test_cohort_refusals(make_cohort, changes, field, match):
    with refused(field, match):
        make_cohort(**changes)


def test_the_team_must_be_active_instructors(staff, make_cohort, parent, make_user):
    a_parent = db.session.get(User, parent.id)
    with refused("lead_instructor_id", "active instructor"):
        make_cohort(lead=a_parent)
    with refused("assistant_ids", "cannot also be an assistant"):
        make_cohort(assistants=[staff.lead])
    with refused("assistant_ids", "active instructors"):
        make_cohort(assistants=[staff.coordinator])
    gone = db.session.get(User, make_user(Role.INSTRUCTOR, active=False).id)
    with refused("lead_instructor_id", "active instructor"):
        make_cohort(lead=gone)


def test_an_open_cohort_needs_no_past_start_for_demo_data(make_cohort):
    cohort = make_cohort(start_date=date(2026, 8, 3), allow_past=True)
    assert cohort.start_date == date(2026, 8, 3)


# ---------------------------------------------------------------------------------------------
# Double bookings


def test_a_room_booked_at_an_overlapping_time_is_refused(staff, make_cohort, make_user):
    make_cohort()  # Wednesdays 14:30-16:00 in Salle Ada Lovelace
    other = db.session.get(User, make_user(Role.INSTRUCTOR, full_name="Mehdi Ouazzani").id)
    with refused("room_id", r"Salle Ada Lovelace is already booked on .*14:30 \(Robotique LEGO\)"):
        make_cohort(lead=other, start_time=time(15, 30), start_date=date(2026, 11, 20))


def test_an_instructor_booked_twice_is_refused(staff, make_cohort, other_room):
    make_cohort(assistants=[staff.assistant])
    with refused("lead_instructor_id", "Youssef Benali already teaches"):
        make_cohort(room=other_room, start_time=time(13, 30))
    # The assistant counts too, whichever role they have in either cohort.
    lead2 = staff.assistant
    with refused("lead_instructor_id", "Salma Idrissi already teaches"):
        make_cohort(room=other_room, lead=lead2, start_time=time(15, 59))


def test_back_to_back_lessons_and_other_days_are_fine(staff, make_cohort, other_room):
    make_cohort()
    after = make_cohort(start_time=time(16, 0))
    assert len(after.lessons) == 8
    thursday = make_cohort(weekdays=[3])
    assert len(thursday.lessons) == 8


def test_cancelled_lessons_and_cohorts_free_the_room(staff, make_cohort, make_user):
    first = make_cohort()
    other = db.session.get(User, make_user(Role.INSTRUCTOR).id)
    cancel_lesson(first.lessons[0], actor=staff.coordinator)
    # 7 October is free again, the other Wednesdays are not.
    lone = make_cohort(lead=other, start_date=date(2026, 10, 7), end_date=date(2026, 10, 7))
    assert len(lone.lessons) == 1
    with refused("room_id", "already booked"):
        make_cohort(lead=other, start_date=date(2026, 10, 14), end_date=date(2026, 10, 14))
    set_cohort_status(first, CohortStatus.CANCELLED, actor=staff.coordinator)
    again = make_cohort(lead=other, start_date=date(2026, 10, 14), end_date=date(2026, 10, 21))
    assert len(again.lessons) == 2


def test_changing_a_cohorts_room_or_team_checks_bookings(staff, make_cohort, other_room):
    make_cohort(room=other_room, lead=staff.assistant)
    cohort = make_cohort(start_time=time(10, 0))
    update_cohort(cohort, replace(CohortPlan.of(cohort), room=other_room), actor=staff.coordinator)
    assert cohort.room == other_room
    busy = make_cohort(start_time=time(14, 30))
    with refused("room_id", "Atelier Al-Jazari is already booked"):
        update_cohort(busy, replace(CohortPlan.of(busy), room=other_room), actor=staff.coordinator)


def test_a_make_up_lesson_cannot_double_book(staff, make_cohort, other_room):
    make_cohort(room=other_room, lead=staff.assistant, weekdays=[5], start_time=time(10, 0))
    cohort = make_cohort()
    with refused("room_id", "already booked"):
        add_makeup_lesson(
            cohort,
            actor=staff.coordinator,
            on_date=date(2026, 10, 10),
            start_time=time(10, 30),
            room=other_room,
        )
