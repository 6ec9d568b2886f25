"""Who may see or change what in the catalogue and the timetable."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.courses.models import PUBLIC_COHORT_STATUSES, Cohort, Course
from lms.errors import DomainError


def can_manage_timetable(user: User | None) -> bool:
    """Coordinators run the catalogue, rooms, closures, cohorts and lessons."""
    return bool(user is not None and user.is_authenticated and user.is_coordinator)


def require_timetable_manager(actor: User | None) -> None:
    """Refuse a change to the catalogue or the timetable by anyone but a coordinator."""
    if not can_manage_timetable(actor):
        raise DomainError(_l("Only coordinators can change the catalogue and the timetable."))


def can_view_course(user: User | None, course: Course) -> bool:
    """Published courses are public; unpublished ones are for coordinators."""
    return course.published or can_manage_timetable(user)


def can_view_cohort(user: User | None, cohort: Cohort) -> bool:
    """A cohort of a published course is public once it has left the draft stage (its calendar
    too); coordinators see every cohort."""
    if can_manage_timetable(user):
        return True
    return cohort.course.published and cohort.status in PUBLIC_COHORT_STATUSES


def teaches(user: User | None, cohort: Cohort) -> bool:
    """Whether ``user`` is the lead or an assistant of ``cohort``."""
    return bool(user is not None and user.is_authenticated and user.id in cohort.instructor_ids)
