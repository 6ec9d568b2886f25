"""Loaders of the attendance pages: fetch the object, check the per-object permission, else
404 or 403."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.attendance.permissions import (
    can_report_absence,
    can_view_child_attendance,
    can_view_cohort_attendance,
    can_view_roster,
)
from lms.attendance.roster import roster_enrolments
from lms.courses.models import Cohort, CohortInstructor, Lesson
from lms.extensions import db
from lms.families.models import Child


def load_lesson(lesson_id: int) -> Lesson:
    """A lesson with its cohort, course, room and team: 404, or 403 unless it is one's roster."""
    lesson = db.session.scalar(
        select(Lesson)
        .where(Lesson.id == lesson_id)
        .options(
            joinedload(Lesson.cohort).joinedload(Cohort.course),
            joinedload(Lesson.cohort).joinedload(Cohort.room),
            joinedload(Lesson.cohort)
            .selectinload(Cohort.staff)
            .joinedload(CohortInstructor.instructor),
            joinedload(Lesson.room_override),
        )
    )
    if lesson is None:
        abort(404)
    if not can_view_roster(current_user, lesson):
        abort(403)
    return lesson


def load_cohort(cohort_id: int) -> Cohort:
    """A cohort with its course and team: 404, or 403 for staff who may not read it."""
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(
            joinedload(Cohort.course),
            joinedload(Cohort.room),
            selectinload(Cohort.staff).joinedload(CohortInstructor.instructor),
        )
    )
    if cohort is None:
        abort(404)
    if not can_view_cohort_attendance(current_user, cohort):
        abort(403)
    return cohort


def load_child(child_id: int) -> Child:
    """A child whose attendance the current user may see (guardians, coordinators), else 404."""
    child = db.get_or_404(Child, child_id)
    if not can_view_child_attendance(current_user, child):
        abort(404)
    return child


def load_roster_child(lesson: Lesson, child_id: int) -> Child:
    """A child on the roster of ``lesson`` (already loaded for the current user), else 404."""
    child = db.get_or_404(Child, child_id)
    if child.id not in roster_enrolments(lesson):
        abort(404)
    return child


def load_absence_lesson(child_id: int, lesson_id: int) -> tuple[Child, Lesson]:
    """A child of the current user's and a lesson on that child's roster, else 404."""
    child = db.get_or_404(Child, child_id)
    if not can_report_absence(current_user, child):
        abort(404)
    lesson = db.session.scalar(
        select(Lesson).where(Lesson.id == lesson_id).options(joinedload(Lesson.cohort))
    )
    if lesson is None or child.id not in roster_enrolments(lesson):
        abort(404)
    return child, lesson
