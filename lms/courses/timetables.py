"""Timetables: the lessons of a week, of a room, of an instructor, of a calendar feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.clock import local_instant, local_today
from lms.courses import hooks
from lms.courses.models import Cohort, CohortInstructor, CohortStatus, Lesson, LessonStatus
from lms.database import utcnow
from lms.extensions import db


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
