"""Who may read and take attendance, and when (the marking window); a substitute's rights;
who reads lesson notes and incidents."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import User
from lms.attendance.models import SubstituteAssignment
from lms.clock import lab_zone
from lms.courses.models import Cohort, Lesson
from lms.courses.permissions import teaches
from lms.database import utcnow
from lms.extensions import db
from lms.families.models import Child
from lms.families.permissions import can_manage_child, is_guardian

# Instructors may take the roll from half an hour before a lesson starts...
MARKING_OPENS_BEFORE = timedelta(minutes=30)
# ...until a week after it ends; after that only a coordinator can change the marks.
INSTRUCTOR_CAN_MARK_FOR = timedelta(days=7)


def _active_staff(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.active and user.is_staff)


def can_view_cohort_attendance(user: User | None, cohort: Cohort) -> bool:
    """A cohort's rosters, grid and exports: its instructors and the coordinators."""
    if not _active_staff(user):
        return False
    return user.is_coordinator or teaches(user, cohort)


def substitutes_for(user: User | None, lesson: Lesson, *, now: datetime | None = None) -> bool:
    """Whether ``user`` stands in for the lesson's instructors at ``now`` (the lab's clock by
    default): the lesson is today, and an assignment in force covers today. A substitute
    opens a lesson's roster on its day only (not a later lesson of the range in advance, not
    a past one to correct it: a coordinator does that); the access ends with the day."""
    if not _active_staff(user) or not user.is_instructor:
        return False
    today = (now or utcnow()).astimezone(lab_zone()).date()
    if lesson.local_start.date() != today:
        return False
    found = db.session.scalar(
        select(SubstituteAssignment.id)
        .where(
            SubstituteAssignment.cohort_id == lesson.cohort_id,
            SubstituteAssignment.substitute_id == user.id,
            SubstituteAssignment.cancelled_at.is_(None),
            SubstituteAssignment.first_day <= today,
            SubstituteAssignment.last_day >= today,
        )
        .limit(1)
    )
    return found is not None


def can_view_roster(user: User | None, lesson: Lesson, *, now: datetime | None = None) -> bool:
    """A lesson's roster: the cohort's instructors, the coordinators, and a substitute on the
    days of the assignment."""
    return can_view_cohort_attendance(user, lesson.cohort) or substitutes_for(user, lesson, now=now)


def marking_opens_at(lesson: Lesson) -> datetime:
    """The earliest instant at which anyone may mark this lesson."""
    return lesson.starts_at - MARKING_OPENS_BEFORE


def instructor_marking_closes_at(lesson: Lesson) -> datetime:
    """After this instant only a coordinator may change the lesson's marks."""
    return lesson.ends_at + INSTRUCTOR_CAN_MARK_FOR


def marking_refusal(user: User | None, lesson: Lesson, *, now: datetime):
    """Why ``user`` may not mark (or check out) ``lesson`` at ``now``; None if they may."""
    if not can_view_roster(user, lesson, now=now):
        return _l("Only the cohort's instructors and the coordinators can take attendance.")
    if lesson.is_cancelled:
        return _l("This lesson is cancelled: there is no attendance to take.")
    if now < marking_opens_at(lesson):
        return _l("Attendance can be taken from 30 minutes before the lesson starts.")
    if not user.is_coordinator and now > instructor_marking_closes_at(lesson):
        return _l(
            "Attendance for this lesson can no longer be changed by instructors (more than "
            "7 days have passed). Ask a coordinator."
        )
    return None


def is_correction(lesson: Lesson, *, now: datetime) -> bool:
    """A change made after the instructors' window closed is a coordinator's correction."""
    return now > instructor_marking_closes_at(lesson)


def can_view_child_attendance(user: User | None, child: Child) -> bool:
    """A child's attendance across cohorts: the child's guardians and the coordinators."""
    if user is None or not user.is_authenticated or not user.active or child.is_erased:
        return False
    if user.is_coordinator:
        return True
    return user.is_parent and is_guardian(user, child)


def can_report_absence(user: User | None, child: Child) -> bool:
    """Reporting an absence in advance: the child's guardians."""
    return bool(user is not None and can_manage_child(user, child))


# ---------------------------------------------------------------------------------------------
# Lesson notes, incidents, substitutes


def can_write_lesson_note(
    user: User | None, lesson: Lesson, *, now: datetime | None = None
) -> bool:
    """A lesson's note: written by the cohort's instructors, or by the substitute on the days
    of the assignment."""
    if not _active_staff(user) or not user.is_instructor:
        return False
    return teaches(user, lesson.cohort) or substitutes_for(user, lesson, now=now)


def can_record_incident(user: User | None, lesson: Lesson, *, now: datetime | None = None) -> bool:
    """An incident during a lesson: recorded by whoever may read its roster (the cohort's
    instructors, the substitute on the assignment's days, the coordinators)."""
    return can_view_roster(user, lesson, now=now)


def can_view_incident(user: User | None, child: Child) -> bool:
    """A child's incident records: the coordinators and the child's parents, nobody else (not
    other families, not the instructors, not even the one who recorded it)."""
    if user is None or not user.is_authenticated or not user.active or child.is_erased:
        return False
    if user.is_coordinator:
        return True
    return user.is_parent and is_guardian(user, child)


def can_manage_substitutes(user: User | None) -> bool:
    """Assigning, listing and cancelling substitutes: the coordinators."""
    return bool(_active_staff(user) and user.is_coordinator)
