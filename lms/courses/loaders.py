"""Fetch a course, cohort, lesson, room or closure for a request, or abort 404/403."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.courses.models import Closure, Cohort, CohortInstructor, Course, Lesson, Room
from lms.courses.permissions import can_manage_timetable, can_view_cohort, can_view_course
from lms.extensions import db


def _require_manager() -> None:
    if not can_manage_timetable(current_user):
        abort(403)


def load_public_course(course_id: int) -> Course:
    """A course the visitor may see (published, or any for a coordinator), or 404."""
    course = db.get_or_404(Course, course_id)
    if not can_view_course(current_user, course):
        abort(404)
    return course


def load_public_cohort(cohort_id: int) -> Cohort:
    """A cohort the visitor may see (published course, past the draft stage), or 404."""
    cohort = db.get_or_404(Cohort, cohort_id)
    if not can_view_cohort(current_user, cohort):
        abort(404)
    return cohort


def load_course(course_id: int) -> Course:
    """A course for a coordinator to change, or 404/403."""
    course = db.get_or_404(Course, course_id)
    _require_manager()
    return course


def load_cohort(cohort_id: int) -> Cohort:
    """A cohort with its course, room, team and lessons for a coordinator, or 404/403."""
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(
            joinedload(Cohort.course),
            joinedload(Cohort.room),
            selectinload(Cohort.staff).joinedload(CohortInstructor.instructor),
            selectinload(Cohort.lessons).joinedload(Lesson.room_override),
        )
    )
    if cohort is None:
        abort(404)
    _require_manager()
    return cohort


def load_lesson(lesson_id: int) -> Lesson:
    """A lesson with its cohort and course for a coordinator, or 404/403."""
    lesson = db.session.scalar(
        select(Lesson)
        .where(Lesson.id == lesson_id)
        .options(joinedload(Lesson.cohort).joinedload(Cohort.course))
    )
    if lesson is None:
        abort(404)
    _require_manager()
    return lesson


def load_room(room_id: int) -> Room:
    """A room for a coordinator to change, or 404/403."""
    room = db.get_or_404(Room, room_id)
    _require_manager()
    return room


def load_closure(closure_id: int) -> Closure:
    """A closure for a coordinator to remove, or 404/403."""
    closure = db.get_or_404(Closure, closure_id)
    _require_manager()
    return closure
