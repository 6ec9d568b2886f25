"""Catalogue and timetable rules: courses, rooms, closures, cohorts, lessons, the catalogue."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import format_date, format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms.accounts.models import User
from lms.clock import local_today
from lms.courses import hooks
from lms.courses.models import (
    INSTRUCTION_LANGUAGES,
    Closure,
    Cohort,
    CohortInstructor,
    CohortStatus,
    Course,
    Lesson,
    LessonStatus,
    Level,
    Room,
    TeachingRole,
    Track,
    course_prerequisites,
    lab_zone,
    local_instant,
)
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.services import queue_email_to_user
from lms.roles import Role

MAX_COHORT_DAYS = 366
MAX_CLOSURE_DAYS = 366


def _require_coordinator(actor: User) -> None:
    if actor is None or not actor.is_coordinator:
        raise DomainError(_l("Only coordinators can change the catalogue and the timetable."))


# ---------------------------------------------------------------------------------------------
# Courses


@dataclass(frozen=True)
class CourseDetails:
    """What a coordinator writes about a course (everything but its prerequisites)."""

    title_fr: str
    summary_fr: str
    track: str
    min_age: int
    max_age: int
    level: str = Level.BEGINNER
    title_ar: str | None = None
    title_en: str | None = None
    summary_ar: str | None = None
    summary_en: str | None = None
    price_centimes: int = 0
    attendance_threshold: int = 80
    requires_final_project: bool = False
    published: bool = False

    def cleaned(self) -> dict:
        """The values to store: trimmed, with empty translations as None."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("title_fr", "summary_fr"):
            values[name] = (values[name] or "").strip()
        for name in ("title_ar", "title_en", "summary_ar", "summary_en"):
            values[name] = (values[name] or "").strip() or None
        return values


def _check_course(course: Course | None, values: dict) -> None:
    config = current_app.config
    low, high = config["PROGRAMME_MIN_AGE"], config["PROGRAMME_MAX_AGE"]
    if not values["title_fr"]:
        raise DomainError(_l("Give the course a French title."), field="title_fr")
    same_title = select(Course.id).where(func.lower(Course.title_fr) == values["title_fr"].lower())
    if course is not None:
        same_title = same_title.where(Course.id != course.id)
    if db.session.scalar(same_title) is not None:
        raise DomainError(_l("Another course already has this title."), field="title_fr")
    if not values["summary_fr"]:
        raise DomainError(_l("Describe the course in French."), field="summary_fr")
    if values["track"] not in Track.__members__.values():
        raise DomainError(_l("Choose a track."), field="track")
    if values["level"] not in Level.__members__.values():
        raise DomainError(_l("Choose a level."), field="level")
    for name in ("min_age", "max_age"):
        if not low <= values[name] <= high:
            raise DomainError(
                _l("The programme is for children aged %(min)d to %(max)d.", min=low, max=high),
                field=name,
            )
    if values["min_age"] > values["max_age"]:
        raise DomainError(_l("The maximum age cannot be below the minimum age."), field="max_age")
    if values["price_centimes"] < 0:
        raise DomainError(_l("The price cannot be negative (0 means free)."), field="price")
    if not 0 <= values["attendance_threshold"] <= 100:
        raise DomainError(
            _l("The attendance threshold is a percentage between 0 and 100."),
            field="attendance_threshold",
        )


def _prerequisites(course: Course | None, prerequisite_ids: Iterable[int]) -> list[Course]:
    ids = set(prerequisite_ids)
    if not ids:
        return []
    if course is not None and course.id in ids:
        raise DomainError(_l("A course cannot be its own prerequisite."), field="prerequisites")
    found = list(db.session.scalars(select(Course).where(Course.id.in_(ids))))
    if len(found) != len(ids):
        raise DomainError(_l("Unknown prerequisite course."), field="prerequisites")
    if course is not None:
        # Refuse cycles: no chosen prerequisite may itself (transitively) require this course.
        edges = defaultdict(set)
        for course_id, prerequisite_id in db.session.execute(select(course_prerequisites)):
            edges[course_id].add(prerequisite_id)
        seen, todo = set(), list(ids)
        while todo:
            current = todo.pop()
            if current == course.id:
                raise DomainError(
                    _l("These prerequisites would make a circle: a course would require itself."),
                    field="prerequisites",
                )
            if current not in seen:
                seen.add(current)
                todo.extend(edges[current])
    return sorted(found, key=lambda c: c.title_fr)


def create_course(
    details: CourseDetails, *, actor: User, prerequisite_ids: Iterable[int] = ()
) -> Course:
    """Add a course to the catalogue (published or not)."""
    _require_coordinator(actor)
    values = details.cleaned()
    _check_course(None, values)
    course = Course(**values)
    course.prerequisites = _prerequisites(None, prerequisite_ids)
    db.session.add(course)
    db.session.flush()
    return course


def update_course(
    course: Course, details: CourseDetails, *, actor: User, prerequisite_ids: Iterable[int]
) -> Course:
    """Change a course; unpublishing is refused while one of its cohorts is open."""
    _require_coordinator(actor)
    values = details.cleaned()
    _check_course(course, values)
    if course.published and not values["published"]:
        open_cohort = db.session.scalar(
            select(Cohort.id).where(
                Cohort.course_id == course.id, Cohort.status == CohortStatus.OPEN
            )
        )
        if open_cohort is not None:
            raise DomainError(
                _l("Close or cancel the open cohorts of this course before unpublishing it."),
                field="published",
            )
    prerequisites = _prerequisites(course, prerequisite_ids)
    for name, value in values.items():
        setattr(course, name, value)
    course.prerequisites = prerequisites
    db.session.flush()
    return course


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


def create_room(*, actor: User, name: str, capacity: int, site: str | None = None) -> Room:
    """Add a room at a site (the default site unless another is given)."""
    _require_coordinator(actor)
    site = (site or "").strip() or current_app.config["DEFAULT_SITE"]
    name = (name or "").strip()
    _check_room(None, site=site, name=name, capacity=capacity)
    room = Room(site=site, name=name, capacity=capacity)
    db.session.add(room)
    db.session.flush()
    return room


def update_room(room: Room, *, actor: User, name: str, capacity: int, site: str) -> Room:
    """Rename or resize a room; never below the capacity of a running cohort that uses it."""
    _require_coordinator(actor)
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
    db.session.flush()
    return room


# ---------------------------------------------------------------------------------------------
# Closures


def create_closure(
    *, actor: User, starts_on: date, label: str, ends_on: date | None = None
) -> Closure:
    """Close the lab for a day or a run of days; new timetables skip them."""
    _require_coordinator(actor)
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
    _require_coordinator(actor)
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
    _require_coordinator(actor)
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


# ---------------------------------------------------------------------------------------------
# Cohorts


def _check_dates(start_date: date, end_date: date, *, allow_past: bool) -> None:
    if end_date < start_date:
        raise DomainError(_l("The cohort cannot end before it starts."), field="end_date")
    if (end_date - start_date).days >= MAX_COHORT_DAYS:
        raise DomainError(_l("A cohort lasts at most a year."), field="end_date")
    if not allow_past and start_date < local_today():
        raise DomainError(_l("The start date is in the past."), field="start_date")


def _check_lesson_time(start_time: time, duration_minutes: int, field: str) -> None:
    if not 15 <= duration_minutes <= 480:
        raise DomainError(
            _l("A lesson lasts between 15 minutes and 8 hours."), field="duration_minutes"
        )
    start = datetime.combine(date(2000, 1, 1), start_time)
    if (start + timedelta(minutes=duration_minutes)).date() != start.date():
        raise DomainError(_l("A lesson must end on the day it starts."), field=field)


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
    if language not in INSTRUCTION_LANGUAGES:
        raise DomainError(_l("Unknown language."), field="language")


def _planned_slots(
    *,
    start_date: date,
    end_date: date,
    weekdays: str,
    start_time: time,
    duration_minutes: int,
    room: Room,
) -> list[Slot]:
    days = pattern_dates(start_date, end_date, weekdays, closures_between(start_date, end_date))
    if not days:
        raise DomainError(
            _l(
                "This pattern gives no lesson between these dates (closures are skipped). "
                "Check the weekdays and the dates."
            ),
            field="weekdays",
        )
    return [slot_for(day, start_time, duration_minutes, room.id) for day in days]


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
    *,
    actor: User,
    course: Course,
    room: Room,
    lead: User,
    start_date: date,
    end_date: date,
    weekdays: Iterable[int] | str,
    start_time: time,
    duration_minutes: int = 90,
    assistants: Sequence[User] = (),
    capacity: int = 12,
    language: str = "fr",
    enrolment_opens_at: datetime | None = None,
    enrolment_closes_at: datetime | None = None,
    status: str = CohortStatus.DRAFT,
    allow_past: bool = False,
) -> Cohort:
    """Plan a cohort and generate its lessons from the weekly pattern, skipping closures.

    ``allow_past`` lets demo data and imports record a cohort that has already started.
    """
    _require_coordinator(actor)
    _check_dates(start_date, end_date, allow_past=allow_past)
    weekdays = parse_weekdays(weekdays)
    _check_lesson_time(start_time, duration_minutes, "start_time")
    _check_capacity(capacity, room)
    _check_language(language)
    assistants = _check_team(lead, assistants)
    _check_window(enrolment_opens_at, enrolment_closes_at, end_date)
    if status not in (CohortStatus.DRAFT, CohortStatus.OPEN):
        raise DomainError(_l("A new cohort is a draft or open for enrolment."), field="status")
    if status == CohortStatus.OPEN and not course.published:
        raise DomainError(
            _l("Publish the course before opening enrolment for its cohorts."), field="status"
        )
    slots = _planned_slots(
        start_date=start_date,
        end_date=end_date,
        weekdays=weekdays,
        start_time=start_time,
        duration_minutes=duration_minutes,
        room=room,
    )
    check_double_bookings(slots, instructor_ids=[lead.id, *(a.id for a in assistants)])

    cohort = Cohort(
        course=course,
        room=room,
        capacity=capacity,
        language=language,
        status=status,
        start_date=start_date,
        end_date=end_date,
        weekdays=weekdays,
        start_time=start_time,
        duration_minutes=duration_minutes,
        enrolment_opens_at=enrolment_opens_at,
        enrolment_closes_at=enrolment_closes_at,
    )
    db.session.add(cohort)
    _set_team(cohort, lead, assistants)
    cohort.lessons = [
        Lesson(number=number, starts_at=slot.starts_at, ends_at=slot.ends_at)
        for number, slot in enumerate(slots, start=1)
    ]
    db.session.flush()
    return cohort


def update_cohort(
    cohort: Cohort,
    *,
    actor: User,
    room: Room,
    lead: User,
    assistants: Sequence[User],
    capacity: int,
    language: str,
    start_date: date,
    end_date: date,
    weekdays: Iterable[int] | str,
    start_time: time,
    duration_minutes: int,
    enrolment_opens_at: datetime | None,
    enrolment_closes_at: datetime | None,
) -> Cohort:
    """Change a cohort. A draft's lessons are planned again from its pattern; once the cohort
    is open to families the pattern is fixed and single lessons are moved instead."""
    _require_coordinator(actor)
    if cohort.status in (CohortStatus.CANCELLED, CohortStatus.COMPLETED):
        raise DomainError(_l("A cancelled or completed cohort cannot be changed."))
    weekdays = parse_weekdays(weekdays)
    pattern_changed = (start_date, end_date, weekdays, start_time, duration_minutes) != (
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
        _check_dates(start_date, end_date, allow_past=False)
        _check_lesson_time(start_time, duration_minutes, "start_time")
    old_capacity = cohort.capacity
    if capacity != old_capacity:
        lock_seats(cohort)
    _check_capacity(capacity, room, seats_taken=cohort.seats_taken)
    _check_language(language)
    assistants = _check_team(lead, assistants)
    _check_window(enrolment_opens_at, enrolment_closes_at, end_date)
    instructor_ids = [lead.id, *(a.id for a in assistants)]

    if pattern_changed:
        slots = _planned_slots(
            start_date=start_date,
            end_date=end_date,
            weekdays=weekdays,
            start_time=start_time,
            duration_minutes=duration_minutes,
            room=room,
        )
    else:
        now = utcnow()
        slots = [
            Slot(lesson.starts_at, lesson.ends_at, lesson.room_id or room.id)
            for lesson in cohort.lessons
            if lesson.status == LessonStatus.SCHEDULED and lesson.ends_at > now
        ]
    check_double_bookings(slots, instructor_ids=instructor_ids, ignore_cohort_id=cohort.id)

    cohort.room = room
    cohort.capacity = capacity
    cohort.language = language
    cohort.enrolment_opens_at = enrolment_opens_at
    cohort.enrolment_closes_at = enrolment_closes_at
    _set_team(cohort, lead, assistants)
    if pattern_changed:
        cohort.start_date, cohort.end_date, cohort.weekdays = start_date, end_date, weekdays
        cohort.start_time, cohort.duration_minutes = start_time, duration_minutes
        cohort.lessons.clear()
        db.session.flush()
        cohort.lessons = [
            Lesson(number=number, starts_at=slot.starts_at, ends_at=slot.ends_at)
            for number, slot in enumerate(slots, start=1)
        ]
    db.session.flush()
    if capacity != old_capacity:
        for changed in hooks.capacity_changed:
            changed(cohort, old_capacity, capacity, actor)
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
    _require_coordinator(actor)
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
        _tell_families(cohort, "cohort_cancelled")
        for cancelled in hooks.cohort_cancelled:
            cancelled(cohort, actor)
    cohort.status = status
    db.session.flush()
    return cohort


# ---------------------------------------------------------------------------------------------
# Single lessons: move, cancel, make-up


def _tell_families(cohort: Cohort, template: str, **context) -> int:
    """Queue ``template`` to each person the enrolment domain names for this cohort."""
    sent: set[int] = set()
    for user in hooks.cohort_recipients(cohort):
        if user.id in sent or not user.active:
            continue
        sent.add(user.id)
        queue_email_to_user(user, template, cohort=cohort, **context)
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
    _require_coordinator(actor)
    _check_changeable(lesson)
    _check_lesson_time(start_time, duration_minutes, "start_time")
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
    _tell_families(cohort, "lesson_moved", lesson=lesson, previous_start=previous_start)
    return lesson


def cancel_lesson(lesson: Lesson, *, actor: User, note: str | None = None) -> Lesson:
    """Cancel one lesson and tell the families."""
    _require_coordinator(actor)
    _check_changeable(lesson)
    lesson.status = LessonStatus.CANCELLED
    lesson.note = (note or "").strip() or None
    lesson.revision += 1
    db.session.flush()
    _tell_families(lesson.cohort, "lesson_cancelled", lesson=lesson)
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
    _require_coordinator(actor)
    if cohort.status in (CohortStatus.CANCELLED, CohortStatus.COMPLETED):
        raise DomainError(_l("This cohort is cancelled or completed."))
    duration_minutes = duration_minutes or cohort.duration_minutes
    _check_lesson_time(start_time, duration_minutes, "start_time")
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
    _tell_families(cohort, "lesson_added", lesson=lesson)
    return lesson


# ---------------------------------------------------------------------------------------------
# The public catalogue

TIMES_OF_DAY = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59, 59)),
}


@dataclass(frozen=True)
class CatalogueFilters:
    """What a visitor narrowed the catalogue to; None is "any"."""

    age: int | None = None
    birth_date: date | None = None
    track: str | None = None
    weekday: int | None = None
    time_of_day: str | None = None
    language: str | None = None
    course_id: int | None = None


def _catalogue_query(statuses: Sequence[str], filters: CatalogueFilters, today: date):
    query = (
        select(Cohort)
        .join(Cohort.course)
        .where(
            Course.published.is_(True),
            Cohort.status.in_(statuses),
            Cohort.end_date >= today,
        )
        .options(
            joinedload(Cohort.course),
            joinedload(Cohort.room),
        )
        .order_by(Course.track, Course.title_fr, Cohort.start_date, Cohort.start_time, Cohort.id)
    )
    if filters.age is not None:
        query = query.where(Course.min_age <= filters.age, Course.max_age >= filters.age)
    if filters.track:
        query = query.where(Course.track == filters.track)
    if filters.language:
        query = query.where(Cohort.language == filters.language)
    if filters.weekday is not None:
        query = query.where(Cohort.weekdays.contains(str(filters.weekday)))
    if filters.time_of_day in TIMES_OF_DAY:
        low, high = TIMES_OF_DAY[filters.time_of_day]
        query = query.where(Cohort.start_time >= low, Cohort.start_time < high)
    if filters.course_id is not None:
        query = query.where(Cohort.course_id == filters.course_id)
    return query


def catalogue_cohorts(
    filters: CatalogueFilters | None = None,
    *,
    statuses: Sequence[str] = (CohortStatus.OPEN,),
    today: date | None = None,
) -> list[Cohort]:
    """Cohorts of published courses, not over yet, that match ``filters``.

    A fixed number of queries whatever the number of cohorts. With a birth date, only the
    cohorts a child born that day can join: age checked on each cohort's start date.
    """
    filters = filters or CatalogueFilters()
    today = today or local_today()
    cohorts = list(db.session.scalars(_catalogue_query(statuses, filters, today)).unique())
    if filters.birth_date is not None:
        cohorts = [c for c in cohorts if c.accepts_age(filters.birth_date)]
    return cohorts


def cohorts_for_birth_date(
    birth_date: date, *, today: date | None = None, **filters
) -> list[Cohort]:
    """Open cohorts a child born on ``birth_date`` is eligible for on each start date."""
    return catalogue_cohorts(CatalogueFilters(birth_date=birth_date, **filters), today=today)


def lesson_counts(cohort_ids: Iterable[int]) -> dict[int, int]:
    """Scheduled lessons per cohort, in one aggregate query."""
    ids = list(cohort_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Lesson.cohort_id, func.count())
        .where(Lesson.cohort_id.in_(ids), Lesson.status == LessonStatus.SCHEDULED)
        .group_by(Lesson.cohort_id)
    )
    return dict(rows.all())


def group_by_track(cohorts: Iterable[Cohort]) -> list[tuple[str, list[Cohort]]]:
    """Cohorts grouped by their course's track, in the tracks' order."""
    groups: dict[str, list[Cohort]] = {track: [] for track in Track}
    for cohort in cohorts:
        groups[cohort.course.track].append(cohort)
    return [(track, items) for track, items in groups.items() if items]


def child_for(user: User | None, child_id: int) -> hooks.ChildSummary | None:
    """One of the user's children, as the families domain describes it (None if not theirs)."""
    if user is None or not user.is_authenticated:
        return None
    return next((c for c in hooks.family_children(user) if c.id == child_id), None)


# ---------------------------------------------------------------------------------------------
# Timetables and calendars


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def lessons_between(
    first: date,
    last: date,
    *,
    room_id: int | None = None,
    instructor_id: int | None = None,
    cohort_ids: Iterable[int] | None = None,
    include_cancelled: bool = True,
) -> list[Lesson]:
    """Lessons on the local days ``first`` to ``last``, with what a timetable shows."""
    query = (
        select(Lesson)
        .join(Lesson.cohort)
        .where(
            Lesson.starts_at >= local_instant(first, time(0)),
            Lesson.starts_at < local_instant(last + timedelta(days=1), time(0)),
        )
        .options(*_lesson_display_options())
        .order_by(Lesson.starts_at, Lesson.id)
    )
    if room_id is not None:
        query = query.where(func.coalesce(Lesson.room_id, Cohort.room_id) == room_id)
    if instructor_id is not None:
        query = query.where(Lesson.cohort_id.in_(_taught_by(instructor_id)))
    if cohort_ids is not None:
        query = query.where(Lesson.cohort_id.in_(list(cohort_ids)))
    if not include_cancelled:
        query = query.where(Lesson.status == LessonStatus.SCHEDULED)
    return list(db.session.scalars(query).unique())


def _taught_by(instructor_id: int):
    return select(CohortInstructor.cohort_id).where(CohortInstructor.instructor_id == instructor_id)


def _lesson_display_options():
    return (
        joinedload(Lesson.cohort).joinedload(Cohort.course),
        joinedload(Lesson.cohort).joinedload(Cohort.room),
        joinedload(Lesson.room_override),
        joinedload(Lesson.cohort)
        .selectinload(Cohort.staff)
        .joinedload(CohortInstructor.instructor),
    )


def upcoming_lessons_for_instructor(user: User, *, days: int = 7) -> list[Lesson]:
    """The lessons of the cohorts ``user`` teaches, from now to the end of the ``days``-day
    week that starts today (cancelled ones included, so that nobody comes for nothing)."""
    today = local_today()
    now = utcnow()
    return [
        lesson
        for lesson in lessons_between(
            today, today + timedelta(days=days - 1), instructor_id=user.id
        )
        if lesson.ends_at > now and lesson.cohort.status != CohortStatus.CANCELLED
    ]


def feed_lessons(
    *, cohort_ids: Iterable[int] | None = None, instructor_id: int | None = None
) -> list[Lesson]:
    """Lessons for a calendar feed: from 60 days ago on, cancelled ones included."""
    query = (
        select(Lesson)
        .join(Lesson.cohort)
        .where(
            Lesson.starts_at >= utcnow() - timedelta(days=60),
            Cohort.status != CohortStatus.DRAFT,
        )
        .options(*_lesson_display_options())
        .order_by(Lesson.starts_at, Lesson.id)
    )
    if cohort_ids is not None:
        query = query.where(Lesson.cohort_id.in_(list(cohort_ids)))
    if instructor_id is not None:
        query = query.where(Lesson.cohort_id.in_(_taught_by(instructor_id)))
    return list(db.session.scalars(query).unique())


def private_feed_lessons(user: User) -> list[Lesson]:
    """A user's private feed: a parent's family lessons (from the enrolment domain), or the
    lessons of the cohorts a staff member teaches."""
    if user.is_parent:
        cohort_ids = list(hooks.family_cohort_ids(user))
        return feed_lessons(cohort_ids=cohort_ids) if cohort_ids else []
    return feed_lessons(instructor_id=user.id)


def regenerate_calendar_token(user: User) -> str:
    """Give the user a new secret calendar address; the old one stops working at once."""
    user.calendar_token = secrets.token_urlsafe(24)
    db.session.flush()
    return user.calendar_token


def user_for_calendar_token(token: str) -> User | None:
    """The active user whose private calendar address holds ``token``."""
    if not token or len(token) > 64:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.active:
        return None
    return user
