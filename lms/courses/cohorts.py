"""Cohorts: their plan, their lessons from the weekly pattern, their status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import User
from lms.clock import local_instant, local_today
from lms.courses import hooks
from lms.courses.models import (
    Cohort,
    CohortInstructor,
    CohortStatus,
    Course,
    InstructionLanguage,
    Lesson,
    LessonStatus,
    Room,
    TeachingRole,
)
from lms.courses.permissions import require_timetable_manager
from lms.courses.scheduling import (
    Slot,
    check_double_bookings,
    check_lesson_time,
    closures_between,
    parse_weekdays,
    pattern_dates,
    slot_for,
    tell_families,
)
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.roles import Role

MAX_COHORT_DAYS = 366


@dataclass(frozen=True)
class CohortPlan:
    """What a coordinator plans for a cohort: course, room, team, seats, dates, weekly pattern
    and enrolment window (its status has its own transitions: ``set_cohort_status``)."""

    course: Course
    room: Room
    lead: User | None
    start_date: date
    end_date: date
    weekdays: Iterable[int] | str  # Monday = 0, or the stored digits ("25")
    start_time: time  # local time in the lab's zone
    duration_minutes: int = 90
    assistants: Sequence[User] = ()
    capacity: int = 12
    language: str = InstructionLanguage.FRENCH
    enrolment_opens_at: datetime | None = None
    enrolment_closes_at: datetime | None = None

    @classmethod
    def of(cls, cohort: Cohort) -> CohortPlan:
        """The plan ``cohort`` follows now; change a part with ``dataclasses.replace``."""
        return cls(
            course=cohort.course,
            room=cohort.room,
            lead=cohort.lead,
            assistants=tuple(cohort.assistants),
            capacity=cohort.capacity,
            language=cohort.language,
            start_date=cohort.start_date,
            end_date=cohort.end_date,
            weekdays=cohort.weekdays,
            start_time=cohort.start_time,
            duration_minutes=cohort.duration_minutes,
            enrolment_opens_at=cohort.enrolment_opens_at,
            enrolment_closes_at=cohort.enrolment_closes_at,
        )


def _check_dates(start_date: date, end_date: date, *, allow_past: bool) -> None:
    if end_date < start_date:
        raise DomainError(_l("The cohort cannot end before it starts."), field="end_date")
    if (end_date - start_date).days >= MAX_COHORT_DAYS:
        raise DomainError(_l("A cohort lasts at most a year."), field="end_date")
    if not allow_past and start_date < local_today():
        raise DomainError(_l("The start date is in the past."), field="start_date")


def _check_capacity(capacity: int, room: Room, *, seats_taken: int = 0) -> None:
    if capacity < 1:
        raise DomainError(_l("A cohort has at least one seat."), field="capacity")
    if capacity > room.capacity:
        raise DomainError(
            _l(
                "%(room)s holds %(num)d children; the cohort's capacity cannot be higher.",
                room=room.name,
                num=room.capacity,
            ),
            field="capacity",
        )
    if capacity < seats_taken:
        raise DomainError(
            _l("%(num)d seats are already taken; the capacity cannot be lower.", num=seats_taken),
            field="capacity",
        )


def _check_team(lead: User | None, assistants: Sequence[User]) -> list[User]:
    if lead is None or lead.role != Role.INSTRUCTOR or not lead.active:
        raise DomainError(_l("Choose an active instructor as lead."), field="lead_instructor_id")
    unique: dict[int, User] = {}
    for assistant in assistants:
        if assistant.role != Role.INSTRUCTOR or not assistant.active:
            raise DomainError(_l("Assistants must be active instructors."), field="assistant_ids")
        if assistant.id == lead.id:
            raise DomainError(
                _l("The lead instructor cannot also be an assistant."), field="assistant_ids"
            )
        unique[assistant.id] = assistant
    return list(unique.values())


def _check_window(opens_at: datetime | None, closes_at: datetime | None, end_date: date) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise DomainError(_l("Enrolment must close after it opens."), field="enrolment_closes_on")
    if closes_at and closes_at > local_instant(end_date + timedelta(days=1), time(0)):
        raise DomainError(
            _l("Enrolment must close by the cohort's last day."), field="enrolment_closes_on"
        )
    if opens_at and opens_at >= local_instant(end_date + timedelta(days=1), time(0)):
        raise DomainError(
            _l("Enrolment must open before the cohort ends."), field="enrolment_opens_on"
        )


def _check_language(language: str) -> None:
    if language not in InstructionLanguage.__members__.values():
        raise DomainError(_l("Unknown language."), field="language")


def _planned_slots(plan: CohortPlan, weekdays: str) -> list[Slot]:
    first, last = plan.start_date, plan.end_date
    days = pattern_dates(first, last, weekdays, closures_between(first, last))
    if not days:
        raise DomainError(
            _l(
                "This pattern gives no lesson between these dates (closures are skipped). "
                "Check the weekdays and the dates."
            ),
            field="weekdays",
        )
    return [slot_for(day, plan.start_time, plan.duration_minutes, plan.room.id) for day in days]


def _numbered_lessons(slots: Sequence[Slot]) -> list[Lesson]:
    return [
        Lesson(number=number, starts_at=slot.starts_at, ends_at=slot.ends_at)
        for number, slot in enumerate(slots, start=1)
    ]


def _set_team(cohort: Cohort, lead: User, assistants: Sequence[User]) -> None:
    wanted = {lead.id: TeachingRole.LEAD} | {a.id: TeachingRole.ASSISTANT for a in assistants}
    current = {member.instructor_id: member for member in cohort.staff}
    for instructor_id, member in current.items():
        if instructor_id not in wanted:
            cohort.staff.remove(member)
    # Demote first so the one-lead index never sees two leads in the same flush.
    for instructor_id, member in current.items():
        if instructor_id in wanted and member.role != wanted[instructor_id]:
            member.role = TeachingRole.ASSISTANT
    db.session.flush()
    for instructor_id, role in wanted.items():
        if instructor_id in current:
            current[instructor_id].role = role
        else:
            cohort.staff.append(CohortInstructor(instructor_id=instructor_id, role=role))


def create_cohort(
    plan: CohortPlan,
    *,
    actor: User,
    status: str = CohortStatus.DRAFT,
    allow_past: bool = False,
) -> Cohort:
    """Plan a cohort and generate its lessons from the weekly pattern, skipping closures.

    ``allow_past`` lets demo data and imports record a cohort that has already started.
    """
    require_timetable_manager(actor)
    _check_dates(plan.start_date, plan.end_date, allow_past=allow_past)
    weekdays = parse_weekdays(plan.weekdays)
    check_lesson_time(plan.start_time, plan.duration_minutes, "start_time")
    _check_capacity(plan.capacity, plan.room)
    _check_language(plan.language)
    assistants = _check_team(plan.lead, plan.assistants)
    _check_window(plan.enrolment_opens_at, plan.enrolment_closes_at, plan.end_date)
    if status not in (CohortStatus.DRAFT, CohortStatus.OPEN):
        raise DomainError(_l("A new cohort is a draft or open for enrolment."), field="status")
    if status == CohortStatus.OPEN and not plan.course.published:
        raise DomainError(
            _l("Publish the course before opening enrolment for its cohorts."), field="status"
        )
    slots = _planned_slots(plan, weekdays)
    check_double_bookings(slots, instructor_ids=[plan.lead.id, *(a.id for a in assistants)])

    cohort = Cohort(
        course=plan.course,
        room=plan.room,
        capacity=plan.capacity,
        language=plan.language,
        status=status,
        start_date=plan.start_date,
        end_date=plan.end_date,
        weekdays=weekdays,
        start_time=plan.start_time,
        duration_minutes=plan.duration_minutes,
        enrolment_opens_at=plan.enrolment_opens_at,
        enrolment_closes_at=plan.enrolment_closes_at,
    )
    db.session.add(cohort)
    _set_team(cohort, plan.lead, assistants)
    cohort.lessons = _numbered_lessons(slots)
    db.session.flush()
    return cohort


def update_cohort(cohort: Cohort, plan: CohortPlan, *, actor: User) -> Cohort:
    """Change a cohort (it keeps its course). A draft's lessons are planned again from its
    pattern; once the cohort is open to families the pattern is fixed and single lessons are
    moved instead."""
    require_timetable_manager(actor)
    if cohort.status in (CohortStatus.CANCELLED, CohortStatus.COMPLETED):
        raise DomainError(_l("A cancelled or completed cohort cannot be changed."))
    weekdays = parse_weekdays(plan.weekdays)
    pattern = (plan.start_date, plan.end_date, weekdays, plan.start_time, plan.duration_minutes)
    pattern_changed = pattern != (
        cohort.start_date,
        cohort.end_date,
        cohort.weekdays,
        cohort.start_time,
        cohort.duration_minutes,
    )
    if pattern_changed and cohort.status != CohortStatus.DRAFT:
        raise DomainError(
            _l(
                "Families already see this timetable: its dates and weekly pattern are fixed. "
                "Move, cancel or add single lessons instead."
            ),
            field="start_date",
        )
    if pattern_changed:
        _check_dates(plan.start_date, plan.end_date, allow_past=False)
        check_lesson_time(plan.start_time, plan.duration_minutes, "start_time")
    old_capacity = cohort.capacity
    if plan.capacity != old_capacity:
        lock_seats(cohort)
    _check_capacity(plan.capacity, plan.room, seats_taken=cohort.seats_taken)
    _check_language(plan.language)
    assistants = _check_team(plan.lead, plan.assistants)
    _check_window(plan.enrolment_opens_at, plan.enrolment_closes_at, plan.end_date)
    instructor_ids = [plan.lead.id, *(a.id for a in assistants)]

    if pattern_changed:
        slots = _planned_slots(plan, weekdays)
    else:
        now = utcnow()
        slots = [
            Slot(lesson.starts_at, lesson.ends_at, lesson.room_id or plan.room.id)
            for lesson in cohort.lessons
            if lesson.status == LessonStatus.SCHEDULED and lesson.ends_at > now
        ]
    check_double_bookings(slots, instructor_ids=instructor_ids, ignore_cohort_id=cohort.id)

    cohort.room = plan.room
    cohort.capacity = plan.capacity
    cohort.language = plan.language
    cohort.enrolment_opens_at = plan.enrolment_opens_at
    cohort.enrolment_closes_at = plan.enrolment_closes_at
    _set_team(cohort, plan.lead, assistants)
    if pattern_changed:
        cohort.start_date, cohort.end_date, cohort.weekdays = pattern[:3]
        cohort.start_time, cohort.duration_minutes = pattern[3:]
        cohort.lessons.clear()
        db.session.flush()
        cohort.lessons = _numbered_lessons(slots)
    db.session.flush()
    if plan.capacity != old_capacity:
        for changed in hooks.capacity_changed:
            changed(cohort, old_capacity, plan.capacity, actor)
    return cohort


def lock_seats(cohort: Cohort) -> Cohort:
    """Lock the cohort's row until the transaction ends and read its seat counts afresh.

    Seats are taken and freed by the enrolment domain under this lock; on SQLite every write
    transaction is already serialised (BEGIN IMMEDIATE) and FOR UPDATE is left out.
    """
    counts = db.session.execute(
        select(Cohort.status, Cohort.capacity, Cohort.seats_taken, Cohort.waitlist_count)
        .where(Cohort.id == cohort.id)
        .with_for_update()
    ).one()
    for name, value in counts._mapping.items():
        set_committed_value(cohort, name, value)
    return cohort


COHORT_TRANSITIONS = {
    CohortStatus.DRAFT: (CohortStatus.OPEN, CohortStatus.CANCELLED),
    CohortStatus.OPEN: (CohortStatus.CLOSED, CohortStatus.CANCELLED, CohortStatus.COMPLETED),
    CohortStatus.CLOSED: (CohortStatus.OPEN, CohortStatus.CANCELLED, CohortStatus.COMPLETED),
    CohortStatus.CANCELLED: (),
    CohortStatus.COMPLETED: (),
}


def set_cohort_status(cohort: Cohort, status: str, *, actor: User) -> Cohort:
    """Open, close, complete or cancel a cohort. Cancelling cancels its remaining lessons and
    tells the families."""
    require_timetable_manager(actor)
    if status not in COHORT_TRANSITIONS.get(cohort.status, ()):
        raise DomainError(_l("This change of status is not possible."), field="status")
    now = utcnow()
    if status == CohortStatus.OPEN and not cohort.course.published:
        raise DomainError(
            _l("Publish the course before opening enrolment for its cohorts."), field="status"
        )
    if status == CohortStatus.COMPLETED and any(
        lesson.status == LessonStatus.SCHEDULED and lesson.ends_at > now
        for lesson in cohort.lessons
    ):
        raise DomainError(_l("A cohort is completed after its last lesson."), field="status")
    if status == CohortStatus.CANCELLED:
        for lesson in cohort.lessons:
            if lesson.status == LessonStatus.SCHEDULED and lesson.starts_at > now:
                lesson.status = LessonStatus.CANCELLED
                lesson.revision += 1
        tell_families(cohort, "cohort_cancelled")
        for cancelled in hooks.cohort_cancelled:
            cancelled(cohort, actor)
    cohort.status = status
    db.session.flush()
    return cohort
