"""Lesson generation, closures, make-ups, moves, cancellations, time zone, notices to families."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from flask_babel import format_time
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.courses.cohorts import CohortPlan, set_cohort_status, update_cohort
from lms.courses.models import Cohort, CohortStatus, Lesson, LessonStatus
from lms.courses.scheduling import (
    add_makeup_lesson,
    cancel_lesson,
    cancel_lessons_during,
    create_closure,
    create_room,
    move_lesson,
    pattern_dates,
)
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.roles import Role


def local_days(cohort: Cohort) -> list[date]:
    return [lesson.local_start.date() for lesson in cohort.lessons]


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def config_overrides() -> dict:
    # Services speak the default language outside a request; English keeps the checks readable.
    return {"BABEL_DEFAULT_LOCALE": "en"}


# ---------------------------------------------------------------------------------------------
# Generation


def test_weekly_pattern_gives_one_lesson_per_chosen_weekday(cohort):
    assert local_days(cohort) == [
        date(2026, 10, 7),
        date(2026, 10, 14),
        date(2026, 10, 21),
        date(2026, 10, 28),
        date(2026, 11, 4),
        date(2026, 11, 11),
        date(2026, 11, 18),
        date(2026, 11, 25),
    ]
    assert [lesson.number for lesson in cohort.lessons] == list(range(1, 9))
    assert {lesson.local_start.time() for lesson in cohort.lessons} == {time(14, 30)}
    assert {lesson.duration_minutes for lesson in cohort.lessons} == {90}
    assert all(lesson.status == LessonStatus.SCHEDULED for lesson in cohort.lessons)
    assert not any(lesson.is_makeup for lesson in cohort.lessons)


def test_several_weekdays_and_inclusive_bounds(make_cohort):
    cohort = make_cohort(start_date=date(2026, 10, 7), end_date=date(2026, 10, 17), weekdays=[5, 2])
    assert cohort.weekdays == "25"
    assert local_days(cohort) == [
        date(2026, 10, 7),
        date(2026, 10, 10),
        date(2026, 10, 14),
        date(2026, 10, 17),
    ]


def test_closures_are_skipped_single_days_and_ranges(staff, make_cohort):
    create_closure(
        actor=staff.coordinator, starts_on=date(2026, 11, 18), label="Fête de l'Indépendance"
    )
    create_closure(
        actor=staff.coordinator,
        starts_on=date(2026, 10, 26),
        ends_on=date(2026, 11, 1),
        label="Vacances d'automne",
    )
    cohort = make_cohort()
    days = local_days(cohort)
    assert date(2026, 11, 18) not in days
    assert date(2026, 10, 28) not in days
    assert len(days) == 6
    # Numbers stay consecutive: they count lessons, not weeks.
    assert [lesson.number for lesson in cohort.lessons] == list(range(1, 7))


def test_a_pattern_that_yields_no_lesson_is_refused(staff, make_cohort):
    with pytest.raises(DomainError) as refused:
        make_cohort(start_date=date(2026, 10, 5), end_date=date(2026, 10, 6), weekdays=[2])
    assert refused.value.field == "weekdays"
    assert "no lesson" in str(refused.value)

    create_closure(actor=staff.coordinator, starts_on=date(2026, 10, 7), label="Fermé")
    with pytest.raises(DomainError, match="no lesson"):
        make_cohort(start_date=date(2026, 10, 7), end_date=date(2026, 10, 7))


def test_pattern_dates_is_a_pure_function():
    assert pattern_dates(date(2026, 10, 1), date(2026, 10, 11), "06", []) == [
        date(2026, 10, 4),
        date(2026, 10, 5),
        date(2026, 10, 11),
    ]


# ---------------------------------------------------------------------------------------------
# Time zone: Morocco moves to UTC+0 around Ramadan (15 February to 22 March 2026)


def test_a_lesson_during_ramadan_keeps_its_local_time(app, staff, make_cohort):
    with time_machine.travel(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), tick=False):
        cohort = make_cohort(start_date=date(2026, 2, 5), end_date=date(2026, 4, 2), weekdays=[3])
    cohort_id = cohort.id
    db.session.expire_all()
    lessons = db.session.get(Cohort, cohort_id).lessons
    by_day = {lesson.local_start.date(): lesson for lesson in lessons}

    # Local time is 14:30 before, during and after the change...
    assert {lesson.local_start.time() for lesson in lessons} == {time(14, 30)}
    # ...which is a different UTC instant on each side of it.
    assert by_day[date(2026, 2, 12)].starts_at == datetime(2026, 2, 12, 13, 30, tzinfo=UTC)
    assert by_day[date(2026, 3, 5)].starts_at == datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    assert by_day[date(2026, 3, 26)].starts_at == datetime(2026, 3, 26, 13, 30, tzinfo=UTC)
    # And pages show it at 14:30 too (Babel's zone rules agree with the stored ones).
    with app.test_request_context():
        for day in (date(2026, 2, 12), date(2026, 3, 5), date(2026, 3, 26)):
            assert format_time(by_day[day].starts_at, "short") == "14:30"


def test_zone_rules_for_storage_and_display_agree(app):
    """zoneinfo (storage) and pytz (Babel's display) must read the same IANA release."""
    from datetime import timedelta

    import pytz

    from lms.clock import lab_zone

    with app.app_context():
        stored, shown = lab_zone(), pytz.timezone("Africa/Casablanca")
        instant = datetime(2025, 1, 1, 12, tzinfo=UTC)
        while instant < datetime(2030, 1, 1, tzinfo=UTC):
            assert (
                instant.astimezone(stored).utcoffset() == instant.astimezone(shown).utcoffset()
            ), instant
            instant += timedelta(hours=12)


def test_naive_datetimes_never_reach_the_database(ctx, cohort):
    lesson = cohort.lessons[0]
    lesson.starts_at = datetime(2026, 10, 7, 14, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Exception, match="naive datetime"):
        db.session.flush()
    db.session.rollback()


# ---------------------------------------------------------------------------------------------
# Make-up lessons, moves, cancellations


def test_make_up_lesson_takes_the_next_number(staff, cohort, other_room):
    lesson = add_makeup_lesson(
        cohort,
        actor=staff.coordinator,
        on_date=date(2026, 12, 5),
        start_time=time(10, 0),
        room=other_room,
        note="Rattrapage du 18 novembre",
    )
    assert lesson.number == 9
    assert lesson.is_makeup
    assert lesson.duration_minutes == cohort.duration_minutes
    assert lesson.room == other_room
    assert lesson.local_start == datetime(2026, 12, 5, 10, 0, tzinfo=lesson.local_start.tzinfo)
    assert cohort.lessons[-1] == lesson


def test_make_up_on_a_closure_or_in_the_past_is_refused(staff, cohort):
    create_closure(actor=staff.coordinator, starts_on=date(2026, 12, 5), label="Fermé")
    with pytest.raises(DomainError, match="closed") as refused:
        add_makeup_lesson(
            cohort, actor=staff.coordinator, on_date=date(2026, 12, 5), start_time=time(10, 0)
        )
    assert refused.value.field == "date"
    with pytest.raises(DomainError, match="future"):
        add_makeup_lesson(
            cohort, actor=staff.coordinator, on_date=date(2026, 9, 1), start_time=time(10, 0)
        )


def test_make_up_in_a_room_too_small_is_refused(staff, make_cohort):
    cohort = make_cohort(capacity=12)
    small = create_room(actor=staff.coordinator, name="Petite salle", capacity=10)
    with pytest.raises(DomainError, match="holds only 10 children"):
        add_makeup_lesson(
            cohort,
            actor=staff.coordinator,
            on_date=date(2026, 12, 5),
            start_time=time(10, 0),
            room=small,
        )


def test_move_a_lesson(staff, cohort):
    lesson = cohort.lessons[2]
    moved = move_lesson(
        lesson,
        actor=staff.coordinator,
        on_date=date(2026, 10, 24),
        start_time=time(10, 0),
        duration_minutes=120,
        note="Samedi matin à la place",
    )
    assert moved.local_start.date() == date(2026, 10, 24)
    assert moved.local_start.time() == time(10, 0)
    assert moved.duration_minutes == 120
    assert moved.revision == 1
    assert moved.number == 3
    assert moved.note == "Samedi matin à la place"
    assert moved.room_override is None


def test_move_refusals(staff, cohort):
    lesson = cohort.lessons[0]
    same = {"on_date": date(2026, 10, 7), "start_time": time(14, 30), "duration_minutes": 90}
    with pytest.raises(DomainError, match="Nothing changes"):
        move_lesson(lesson, actor=staff.coordinator, **same)
    create_closure(actor=staff.coordinator, starts_on=date(2026, 10, 8), label="Fermé")
    with pytest.raises(DomainError, match="closed"):
        move_lesson(
            lesson,
            actor=staff.coordinator,
            on_date=date(2026, 10, 8),
            start_time=time(14, 30),
            duration_minutes=90,
        )
    # A lesson cannot be moved onto another lesson of the same cohort either.
    with pytest.raises(DomainError, match="already"):
        move_lesson(
            lesson,
            actor=staff.coordinator,
            on_date=date(2026, 10, 14),
            start_time=time(15, 0),
            duration_minutes=90,
        )


def test_cancel_a_lesson(staff, cohort):
    lesson = cancel_lesson(cohort.lessons[1], actor=staff.coordinator, note="Panne")
    assert lesson.status == LessonStatus.CANCELLED
    assert lesson.revision == 1
    with pytest.raises(DomainError, match="cancelled"):
        cancel_lesson(lesson, actor=staff.coordinator)
    with pytest.raises(DomainError, match="cancelled"):
        move_lesson(
            lesson,
            actor=staff.coordinator,
            on_date=date(2026, 10, 24),
            start_time=time(10, 0),
            duration_minutes=90,
        )


def test_past_lessons_cannot_change(staff, cohort, frozen_now):
    frozen_now.move_to(datetime(2026, 10, 8, 9, 0, tzinfo=UTC))
    with pytest.raises(DomainError, match="already"):
        cancel_lesson(cohort.lessons[0], actor=staff.coordinator)


def test_only_coordinators_change_the_timetable(staff, cohort):
    with pytest.raises(DomainError, match="Only coordinators"):
        cancel_lesson(cohort.lessons[0], actor=staff.lead)


# ---------------------------------------------------------------------------------------------
# Notices to families (the enrolment domain names them through a hook)


def test_without_an_enrolment_domain_nobody_is_told(staff, cohort):
    cancel_lesson(cohort.lessons[0], actor=staff.coordinator)
    assert outbox() == []


def test_changes_queue_an_email_to_each_parent_once(staff, cohort, families, make_user):
    karim = db.session.get(User, make_user(Role.PARENT, full_name="Karim Alaoui").id)
    nadia = db.session.get(User, make_user(Role.PARENT, full_name="Nadia Bennani", locale="ar").id)
    families.recipients[cohort.id] = [karim, nadia, karim]

    move_lesson(
        cohort.lessons[0],
        actor=staff.coordinator,
        on_date=date(2026, 10, 10),
        start_time=time(10, 0),
        duration_minutes=90,
        note="Le lab accueille un salon mercredi.",
    )
    moved = outbox()
    assert [(m.recipient, m.template, m.language) for m in moved] == [
        (karim.email, "lesson_moved", "fr"),
        (nadia.email, "lesson_moved", "ar"),
    ]
    assert "Robotique LEGO" in moved[0].subject
    assert "mercredi 7 octobre 2026 à 14:30" in moved[0].body or "7 octobre 2026" in moved[0].body
    assert "samedi 10 octobre 2026" in moved[0].body
    assert "10:00" in moved[0].body
    assert "Le lab accueille un salon mercredi." in moved[0].body
    assert "روبوتات ليغو" in moved[1].subject  # the course's Arabic title

    cancel_lesson(cohort.lessons[1], actor=staff.coordinator)
    add_makeup_lesson(
        cohort, actor=staff.coordinator, on_date=date(2026, 12, 5), start_time=time(10, 0)
    )
    assert [m.template for m in outbox()[2:]] == [
        "lesson_cancelled",
        "lesson_cancelled",
        "lesson_added",
        "lesson_added",
    ]


def test_a_refused_change_tells_nobody(staff, cohort, families, parent):
    families.recipients[cohort.id] = [db.session.get(User, parent.id)]
    with pytest.raises(DomainError):
        move_lesson(
            cohort.lessons[0],
            actor=staff.coordinator,
            on_date=date(2026, 9, 1),
            start_time=time(10, 0),
            duration_minutes=90,
        )
    assert outbox() == []


# ---------------------------------------------------------------------------------------------
# Cohort status and editing


def test_cancelling_a_cohort_cancels_its_future_lessons_and_tells_families(
    staff, cohort, families, parent, frozen_now
):
    families.recipients[cohort.id] = [db.session.get(User, parent.id)]
    frozen_now.move_to(datetime(2026, 10, 20, 9, 0, tzinfo=UTC))
    set_cohort_status(cohort, CohortStatus.CANCELLED, actor=staff.coordinator)
    statuses = [lesson.status for lesson in cohort.lessons]
    assert statuses[:2] == [LessonStatus.SCHEDULED] * 2  # already taught
    assert set(statuses[2:]) == {LessonStatus.CANCELLED}
    assert [m.template for m in outbox()] == ["cohort_cancelled"]
    with pytest.raises(DomainError, match="not possible"):
        set_cohort_status(cohort, CohortStatus.OPEN, actor=staff.coordinator)


def test_status_rules(staff, make_cohort, make_course, frozen_now):
    hidden = make_course(title_fr="Cours caché", published=False)
    draft = make_cohort(course=hidden, status=CohortStatus.DRAFT)
    with pytest.raises(DomainError, match="Publish the course"):
        set_cohort_status(draft, CohortStatus.OPEN, actor=staff.coordinator)
    with pytest.raises(DomainError, match="Publish the course"):
        make_cohort(course=hidden, start_time=time(17, 0))
    with pytest.raises(DomainError, match="not possible"):
        set_cohort_status(draft, CohortStatus.COMPLETED, actor=staff.coordinator)

    running = make_cohort(start_time=time(10, 0))
    with pytest.raises(DomainError, match="after its last lesson"):
        set_cohort_status(running, CohortStatus.COMPLETED, actor=staff.coordinator)
    frozen_now.move_to(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    set_cohort_status(running, CohortStatus.COMPLETED, actor=staff.coordinator)
    assert running.status == CohortStatus.COMPLETED
    with pytest.raises(DomainError, match="cancelled or completed"):
        add_makeup_lesson(
            running, actor=staff.coordinator, on_date=date(2026, 12, 5), start_time=time(10, 0)
        )


def _edit(cohort: Cohort, staff, **changes):
    return update_cohort(cohort, replace(CohortPlan.of(cohort), **changes), actor=staff.coordinator)


def test_a_draft_is_planned_again_when_its_pattern_changes(staff, make_cohort):
    draft = make_cohort(status=CohortStatus.DRAFT)
    _edit(draft, staff, weekdays=[5], start_time=time(9, 30), assistants=[staff.assistant])
    assert {d.weekday() for d in local_days(draft)} == {5}
    assert {lesson.local_start.time() for lesson in draft.lessons} == {time(9, 30)}
    assert [lesson.number for lesson in draft.lessons] == list(range(1, 9))
    assert draft.assistants == [staff.assistant]
    assert (
        db.session.scalar(
            select(Lesson.id).where(
                Lesson.cohort_id == draft.id, Lesson.starts_at < draft.lessons[0].starts_at
            )
        )
        is None
    )


def test_an_open_cohort_keeps_its_pattern(staff, cohort):
    with pytest.raises(DomainError, match="fixed") as refused:
        _edit(cohort, staff, weekdays=[4])
    assert refused.value.field == "start_date"
    # Other details can still change.
    _edit(cohort, staff, capacity=10, language="ar", lead=staff.assistant, assistants=[staff.lead])
    assert (cohort.capacity, cohort.language) == (10, "ar")
    assert cohort.lead == staff.assistant
    assert cohort.assistants == [staff.lead]


def test_capacity_never_below_the_seats_taken(staff, cohort):
    cohort.seats_taken = 9
    with pytest.raises(DomainError, match="9 seats are already taken"):
        _edit(cohort, staff, capacity=8)


def test_the_database_holds_the_seat_invariant(ctx, cohort):
    overbook = update(Cohort).where(Cohort.id == cohort.id).values(seats_taken=Cohort.capacity + 1)
    savepoint = db.session.begin_nested()
    with pytest.raises(IntegrityError, match="seats_within_capacity"):
        db.session.execute(overbook)
    savepoint.rollback()


def test_a_closure_can_cancel_the_lessons_already_planned(staff, cohort, families, parent):
    """An unplanned closure (works in the building): the lessons of those days are cancelled,
    with the reason as their note, and each group's families get one e-mail per lesson."""
    families.recipients[cohort.id] = [db.session.get(User, parent.id)]
    closure = create_closure(
        actor=staff.coordinator,
        starts_on=date(2026, 11, 16),
        ends_on=date(2026, 11, 20),
        label="Travaux dans le bâtiment",
    )
    cancelled, left = cancel_lessons_during(closure, actor=staff.coordinator)
    assert [lesson.number for lesson in cancelled] == [7]
    assert left == []
    assert cancelled[0].status == LessonStatus.CANCELLED
    assert cancelled[0].note == "Travaux dans le bâtiment"
    assert [m.template for m in outbox()] == ["lesson_cancelled"]
    # Done twice, nothing more happens; and only coordinators may do it.
    assert cancel_lessons_during(closure, actor=staff.coordinator) == ([], [])
    with pytest.raises(DomainError, match="Only coordinators"):
        cancel_lessons_during(closure, actor=staff.lead)


def test_a_closure_leaves_the_lessons_already_taught(staff, cohort, frozen_now):
    frozen_now.move_to(datetime(2026, 10, 15, 9, 0, tzinfo=UTC))  # lessons 1 and 2 are over
    closure = create_closure(
        actor=staff.coordinator,
        starts_on=date(2026, 10, 5),
        ends_on=date(2026, 10, 25),
        label="Saisie tardive",
    )
    cancelled, left = cancel_lessons_during(closure, actor=staff.coordinator)
    assert [lesson.number for lesson in left] == [1, 2]
    assert [lesson.number for lesson in cancelled] == [3]
    assert {lesson.status for lesson in left} == {LessonStatus.SCHEDULED}
