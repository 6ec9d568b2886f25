"""The timetable's ground: rooms, closures, lesson patterns and double bookings, single lessons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import format_date, format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from lms.accounts.contact import cohort_topic, names_list, notify
from lms.accounts.models import User
from lms.clock import lab_zone, local_instant
from lms.courses import hooks
from lms.courses.models import (
    Closure,
    Cohort,
    CohortInstructor,
    CohortStatus,
    Lesson,
    LessonStatus,
    Room,
)
from lms.courses.permissions import require_timetable_manager
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.services import external_url

MAX_CLOSURE_DAYS = 366


# ---------------------------------------------------------------------------------------------
# Rooms


def _check_room(room: Room | None, *, site: str, name: str, capacity: int) -> None:
    if not name:
        raise DomainError(_l("Give the room a name."), field="name")
    if capacity < 1:
        raise DomainError(_l("A room holds at least one child."), field="capacity")
    same = select(Room.id).where(Room.site == site, func.lower(Room.name) == name.lower())
    if room is not None:
        same = same.where(Room.id != room.id)
    if db.session.scalar(same) is not None:
        raise DomainError(_l("This site already has a room with this name."), field="name")


def create_room(
    *, actor: User, name: str, capacity: int, site: str | None = None, name_ar: str | None = None
) -> Room:
    """Add a room at a site (the default site unless another is given)."""
    require_timetable_manager(actor)
    site = (site or "").strip() or current_app.config["DEFAULT_SITE"]
    name = (name or "").strip()
    _check_room(None, site=site, name=name, capacity=capacity)
    room = Room(site=site, name=name, name_ar=(name_ar or "").strip() or None, capacity=capacity)
    db.session.add(room)
    db.session.flush()
    return room


def update_room(
    room: Room,
    *,
    actor: User,
    name: str,
    capacity: int,
    site: str,
    name_ar: str | None = None,
) -> Room:
    """Rename or resize a room; never below the capacity of a running cohort that uses it."""
    require_timetable_manager(actor)
    site = (site or "").strip() or current_app.config["DEFAULT_SITE"]
    name = (name or "").strip()
    _check_room(room, site=site, name=name, capacity=capacity)
    too_big = db.session.scalar(
        select(Cohort)
        .where(
            Cohort.room_id == room.id,
            Cohort.status.not_in((CohortStatus.CANCELLED, CohortStatus.COMPLETED)),
            Cohort.capacity > capacity,
        )
        .options(joinedload(Cohort.course))
        .order_by(Cohort.capacity.desc())
        .limit(1)
    )
    if too_big is not None:
        raise DomainError(
            _l(
                "A cohort of %(course)s in this room has %(num)d seats; lower its capacity first.",
                course=too_big.course.title_fr,
                num=too_big.capacity,
            ),
            field="capacity",
        )
    room.site, room.name, room.capacity = site, name, capacity
    room.name_ar = (name_ar or "").strip() or None
    db.session.flush()
    return room


# ---------------------------------------------------------------------------------------------
# Closures


def create_closure(
    *, actor: User, starts_on: date, label: str, ends_on: date | None = None
) -> Closure:
    """Close the lab for a day or a run of days; new timetables skip them."""
    require_timetable_manager(actor)
    ends_on = ends_on or starts_on
    label = (label or "").strip()
    if not label:
        raise DomainError(_l("Say why the lab is closed."), field="label")
    if ends_on < starts_on:
        raise DomainError(_l("The last day cannot be before the first day."), field="ends_on")
    if (ends_on - starts_on).days >= MAX_CLOSURE_DAYS:
        raise DomainError(_l("A closure lasts at most a year."), field="ends_on")
    closure = Closure(starts_on=starts_on, ends_on=ends_on, label=label)
    db.session.add(closure)
    db.session.flush()
    return closure


def delete_closure(closure: Closure, *, actor: User) -> None:
    """Remove a closure (lessons already planned are not added back)."""
    require_timetable_manager(actor)
    db.session.delete(closure)
    db.session.flush()


def closures_between(first: date, last: date) -> list[Closure]:
    """The closures that touch the days from ``first`` to ``last``."""
    return list(
        db.session.scalars(
            select(Closure)
            .where(Closure.starts_on <= last, Closure.ends_on >= first)
            .order_by(Closure.starts_on)
        )
    )


def closure_on(day: date) -> Closure | None:
    """The closure covering ``day``, if any."""
    found = closures_between(day, day)
    return found[0] if found else None


def scheduled_lessons_during(closure: Closure) -> list[Lesson]:
    """Scheduled lessons that fall in a closure (planned before it was added)."""
    start = local_instant(closure.starts_on, time(0))
    end = local_instant(closure.ends_on + timedelta(days=1), time(0))
    return list(
        db.session.scalars(
            select(Lesson)
            .join(Lesson.cohort)
            .where(
                Lesson.status == LessonStatus.SCHEDULED,
                Cohort.status != CohortStatus.CANCELLED,
                Lesson.starts_at < end,
                Lesson.ends_at > start,
            )
            .options(joinedload(Lesson.cohort).joinedload(Cohort.course))
            .order_by(Lesson.starts_at)
        )
    )


def cancel_lessons_during(closure: Closure, *, actor: User) -> tuple[list[Lesson], list[Lesson]]:
    """Cancel the lessons planned on a closure's days that have not started yet, telling each
    group's families (the closure's reason is the lessons' note). Returns the lessons
    cancelled and those left as they were (already started, or in a completed cohort)."""
    require_timetable_manager(actor)
    cancelled, left = [], []
    for lesson in scheduled_lessons_during(closure):
        try:
            _check_changeable(lesson)
        except DomainError:
            left.append(lesson)
            continue
        cancelled.append(cancel_lesson(lesson, actor=actor, note=closure.label))
    return cancelled, left


# ---------------------------------------------------------------------------------------------
# Lesson patterns and double bookings


def parse_weekdays(weekdays: Iterable[int] | str) -> str:
    """Weekdays (Monday = 0) as the stored digit string, e.g. [5, 2] -> "25"."""
    days = {int(day) for day in weekdays}
    if not days:
        raise DomainError(_l("Choose at least one weekday."), field="weekdays")
    if not days <= set(range(7)):
        raise DomainError(_l("Unknown weekday."), field="weekdays")
    return "".join(str(day) for day in sorted(days))


def pattern_dates(
    start_date: date, end_date: date, weekdays: str, closures: Sequence[Closure]
) -> list[date]:
    """Every date from start to end on one of ``weekdays``, except the closed ones."""
    wanted = {int(day) for day in weekdays}
    days, day = [], start_date
    while day <= end_date:
        if day.weekday() in wanted and not any(c.covers(day) for c in closures):
            days.append(day)
        day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class Slot:
    """A lesson-to-be: when, and in which room."""

    starts_at: datetime
    ends_at: datetime
    room_id: int


def slot_for(day: date, start_time: time, duration_minutes: int, room_id: int) -> Slot:
    """The UTC interval of a lesson on ``day`` at local ``start_time``."""
    starts_at = local_instant(day, start_time)
    return Slot(starts_at, starts_at + timedelta(minutes=duration_minutes), room_id)


def _when(instant: datetime) -> dict:
    return {"date": format_date(instant, "full"), "time": format_time(instant, "short")}


def check_double_bookings(
    slots: Sequence[Slot],
    *,
    instructor_ids: Iterable[int],
    ignore_cohort_id: int | None = None,
    ignore_lesson_id: int | None = None,
) -> None:
    """Refuse if a room or an instructor is already busy at an overlapping time.

    Scheduled lessons of cohorts that are not cancelled count; one query covers every slot.
    """
    instructor_ids = set(instructor_ids)
    if not slots:
        return
    effective_room = func.coalesce(Lesson.room_id, Cohort.room_id)
    taught = select(CohortInstructor.cohort_id).where(
        CohortInstructor.instructor_id.in_(instructor_ids or {-1})
    )
    query = (
        select(Lesson, effective_room)
        .join(Lesson.cohort)
        .where(
            Lesson.status == LessonStatus.SCHEDULED,
            Cohort.status != CohortStatus.CANCELLED,
            Lesson.starts_at < max(s.ends_at for s in slots),
            Lesson.ends_at > min(s.starts_at for s in slots),
            or_(
                effective_room.in_({s.room_id for s in slots}),
                Lesson.cohort_id.in_(taught),
            ),
        )
        .options(
            joinedload(Lesson.cohort).joinedload(Cohort.course),
            joinedload(Lesson.cohort)
            .selectinload(Cohort.staff)
            .joinedload(CohortInstructor.instructor),
        )
        .order_by(Lesson.starts_at)
    )
    if ignore_cohort_id is not None:
        query = query.where(Lesson.cohort_id != ignore_cohort_id)
    if ignore_lesson_id is not None:
        query = query.where(Lesson.id != ignore_lesson_id)
    busy = db.session.execute(query).unique().all()
    if not busy:
        return
    rooms = {room.id: room for room in db.session.scalars(select(Room))}
    for slot in sorted(slots, key=lambda s: s.starts_at):
        for other, other_room_id in busy:
            if not (other.starts_at < slot.ends_at and other.ends_at > slot.starts_at):
                continue
            course = other.cohort.course.title_fr
            if other_room_id == slot.room_id:
                raise DomainError(
                    _l(
                        "%(room)s is already booked on %(date)s at %(time)s (%(course)s).",
                        room=rooms[slot.room_id].name,
                        course=course,
                        **_when(other.starts_at),
                    ),
                    field="room_id",
                )
            for member in other.cohort.staff:
                if member.instructor_id in instructor_ids:
                    raise DomainError(
                        _l(
                            "%(name)s already teaches on %(date)s at %(time)s (%(course)s).",
                            name=member.instructor.full_name,
                            course=course,
                            **_when(other.starts_at),
                        ),
                        field="lead_instructor_id",
                    )


def check_lesson_time(start_time: time, duration_minutes: int, field: str) -> None:
    """Refuse a lesson shorter than 15 minutes, longer than 8 hours, or ending after midnight."""
    if not 15 <= duration_minutes <= 480:
        raise DomainError(
            _l("A lesson lasts between 15 minutes and 8 hours."), field="duration_minutes"
        )
    start = datetime.combine(date(2000, 1, 1), start_time)
    if (start + timedelta(minutes=duration_minutes)).date() != start.date():
        raise DomainError(_l("A lesson must end on the day it starts."), field=field)


# ---------------------------------------------------------------------------------------------
# Single lessons: move, cancel, make-up


def _short(cohort: Cohort, names: Sequence[str], lesson: Lesson | None):
    """The short text's values about a group, in the guardian's language."""

    def values(language: str) -> dict:
        return {
            "child": names_list(names, language),
            "group": cohort.course.title(language),
            "date": lesson.starts_at if lesson is not None else "",
            "link": external_url("dashboard.parent_home"),
        }

    return values


def tell_families(cohort: Cohort, template: str, **context) -> int:
    """Queue ``template`` to each person the enrolment domain names for this cohort, on the
    channels they chose; the short WhatsApp and SMS texts name their children."""
    children = hooks.cohort_children_names(cohort)
    sent: set[int] = set()
    for user in hooks.cohort_recipients(cohort):
        if user.id in sent or not user.active:
            continue
        sent.add(user.id)
        notify(
            user,
            template,
            short=_short(cohort, children.get(user.id, ()), context.get("lesson")),
            topic=cohort_topic(cohort.id),
            cohort=cohort,
            **context,
        )
    return len(sent)


def _check_changeable(lesson: Lesson) -> None:
    if lesson.cohort.status in (CohortStatus.CANCELLED, CohortStatus.COMPLETED):
        raise DomainError(_l("This cohort is cancelled or completed."))
    if lesson.status == LessonStatus.CANCELLED:
        raise DomainError(_l("This lesson is cancelled; add a make-up lesson instead."))
    if lesson.starts_at <= utcnow():
        raise DomainError(_l("This lesson has already started or taken place."))


def _check_new_slot(
    cohort: Cohort, slot: Slot, room: Room, *, ignore_lesson_id: int | None = None
) -> None:
    if slot.starts_at <= utcnow():
        raise DomainError(_l("Choose a date and time in the future."), field="date")
    day = slot.starts_at.astimezone(lab_zone()).date()
    closure = closure_on(day)
    if closure is not None:
        raise DomainError(
            _l(
                "The lab is closed on %(date)s (%(label)s).",
                date=format_date(day, "full"),
                label=closure.label,
            ),
            field="date",
        )
    if room.capacity < cohort.capacity:
        raise DomainError(
            _l(
                "%(room)s holds only %(num)d children; this cohort has %(seats)d seats.",
                room=room.name,
                num=room.capacity,
                seats=cohort.capacity,
            ),
            field="room_id",
        )
    check_double_bookings(
        [slot], instructor_ids=cohort.instructor_ids, ignore_lesson_id=ignore_lesson_id
    )


def move_lesson(
    lesson: Lesson,
    *,
    actor: User,
    on_date: date,
    start_time: time,
    duration_minutes: int,
    room: Room | None = None,
    note: str | None = None,
) -> Lesson:
    """Move one lesson to another day, time or room, and tell the families."""
    require_timetable_manager(actor)
    _check_changeable(lesson)
    check_lesson_time(start_time, duration_minutes, "start_time")
    cohort = lesson.cohort
    room = room or cohort.room
    slot = slot_for(on_date, start_time, duration_minutes, room.id)
    unchanged = (lesson.starts_at, lesson.ends_at, lesson.room.id)
    if (slot.starts_at, slot.ends_at, room.id) == unchanged:
        raise DomainError(_l("Nothing changes: choose another day, time or room."), field="date")
    _check_new_slot(cohort, slot, room, ignore_lesson_id=lesson.id)
    previous_start = lesson.starts_at
    lesson.starts_at, lesson.ends_at = slot.starts_at, slot.ends_at
    lesson.room_override = None if room.id == cohort.room_id else room
    lesson.note = (note or "").strip() or None
    lesson.revision += 1
    db.session.flush()
    tell_families(cohort, "lesson_moved", lesson=lesson, previous_start=previous_start)
    return lesson


def cancel_lesson(lesson: Lesson, *, actor: User, note: str | None = None) -> Lesson:
    """Cancel one lesson and tell the families."""
    require_timetable_manager(actor)
    _check_changeable(lesson)
    lesson.status = LessonStatus.CANCELLED
    lesson.note = (note or "").strip() or None
    lesson.revision += 1
    db.session.flush()
    tell_families(lesson.cohort, "lesson_cancelled", lesson=lesson)
    return lesson


def add_makeup_lesson(
    cohort: Cohort,
    *,
    actor: User,
    on_date: date,
    start_time: time,
    duration_minutes: int | None = None,
    room: Room | None = None,
    note: str | None = None,
) -> Lesson:
    """Add a make-up lesson to a cohort (it takes the next number) and tell the families."""
    require_timetable_manager(actor)
    if cohort.status in (CohortStatus.CANCELLED, CohortStatus.COMPLETED):
        raise DomainError(_l("This cohort is cancelled or completed."))
    duration_minutes = duration_minutes or cohort.duration_minutes
    check_lesson_time(start_time, duration_minutes, "start_time")
    room = room or cohort.room
    slot = slot_for(on_date, start_time, duration_minutes, room.id)
    _check_new_slot(cohort, slot, room)
    number = 1 + (
        db.session.scalar(select(func.max(Lesson.number)).where(Lesson.cohort_id == cohort.id)) or 0
    )
    lesson = Lesson(
        cohort=cohort,
        number=number,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        is_makeup=True,
        room_override=None if room.id == cohort.room_id else room,
        note=(note or "").strip() or None,
    )
    db.session.add(lesson)
    db.session.flush()
    tell_families(cohort, "lesson_added", lesson=lesson)
    return lesson
