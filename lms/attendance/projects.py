"""Final projects, for courses that require one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.attendance.models import FinalProjectMark
from lms.attendance.permissions import can_view_cohort_attendance
from lms.attendance.roster import ONCE_ENROLLED
from lms.audit import services as audit
from lms.courses.models import Cohort, Lesson, LessonStatus
from lms.database import utcnow
from lms.enrolment.models import Enrolment
from lms.errors import DomainError
from lms.extensions import db


def final_projects(cohort_id: int) -> dict[int, FinalProjectMark]:
    """{child id: final-project mark} of a cohort."""
    return {
        mark.child_id: mark
        for mark in db.session.scalars(
            select(FinalProjectMark).where(FinalProjectMark.cohort_id == cohort_id)
        )
    }


def completed_final_projects(cohort_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(cohort id, child id) pairs whose final project an instructor marked completed."""
    rows = db.session.execute(
        select(FinalProjectMark.cohort_id, FinalProjectMark.child_id).where(
            FinalProjectMark.cohort_id.in_(list(cohort_ids)),
            FinalProjectMark.completed.is_(True),
        )
    )
    return {(cohort_id, child_id) for cohort_id, child_id in rows}


def set_final_projects(
    cohort: Cohort, *, actor: User, completed: Iterable[int], now: datetime | None = None
) -> int:
    """Record which of the cohort's children completed the final project (the others did
    not, yet); returns how many marks changed."""
    now = now or utcnow()
    if not can_view_cohort_attendance(actor, cohort):
        raise DomainError(_l("Only the cohort's instructors and the coordinators can do this."))
    if not cohort.course.requires_final_project:
        raise DomainError(_l("This course has no final project."))
    first_lesson = db.session.scalar(
        select(func.min(Lesson.starts_at)).where(
            Lesson.cohort_id == cohort.id, Lesson.status == LessonStatus.SCHEDULED
        )
    )
    if first_lesson is None or first_lesson > now:
        raise DomainError(_l("The cohort has not started yet."))
    completed = set(completed)
    children = set(
        db.session.scalars(
            select(Enrolment.child_id)
            .where(
                Enrolment.cohort_id == cohort.id,
                Enrolment.status.in_(ONCE_ENROLLED),
                Enrolment.enrolled_at.is_not(None),
            )
            .distinct()
        )
    )
    if not completed <= children:
        raise DomainError(_l("This child is not enrolled in the cohort."))
    existing = final_projects(cohort.id)
    changes = []
    for child_id in sorted(children):
        done = child_id in completed
        mark = existing.get(child_id)
        if mark is not None and mark.completed == done:
            continue
        if mark is None and not done:
            continue  # nothing said yet, nothing to say
        if mark is None:
            mark = FinalProjectMark(cohort_id=cohort.id, child_id=child_id)
            db.session.add(mark)
        mark.completed = done
        mark.marked_by_id = actor.id
        mark.marked_at = now
        changes.append({"child_id": child_id, "completed": done})
    if changes:
        db.session.flush()
        audit.record("attendance.final_project", actor=actor, subject=cohort, changes=changes)
    return len(changes)
