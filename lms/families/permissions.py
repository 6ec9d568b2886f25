"""Who may see and change a child's data (DESIGN.md invariant 7)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.clock import local_today
from lms.errors import DomainError
from lms.families.hooks import safeguarding_grants, teaching_periods
from lms.families.models import Child


def is_guardian(user: User, child: Child) -> bool:
    """True if ``user`` is one of the child's guardians."""
    if not user.is_authenticated or child.is_erased:
        return False
    return any(guardianship.user_id == user.id for guardianship in child.guardianships)


def can_manage_child(user: User, child: Child) -> bool:
    """Read and change everything about the child, export, erase, invite: guardians only."""
    return user.is_authenticated and user.is_parent and is_guardian(user, child)


def require_guardian(actor: User, child: Child) -> None:
    """Refuse (DomainError) what only the child's guardians may do; the services' check."""
    if not can_manage_child(actor, child):
        raise DomainError(_l("Only the child's guardians can do this."))


def instructor_teaches(instructor: User, child: Child, *, on: date | None = None) -> bool:
    """True if ``instructor`` teaches ``child`` on ``on`` (today by default), counting the
    days after the cohort ends during which safeguarding data stays visible, or stands in for
    the child's instructor that day (a substitute)."""
    day = on or local_today()
    grace = timedelta(days=current_app.config["INSTRUCTOR_ACCESS_DAYS_AFTER_COHORT"])
    for provider in teaching_periods:
        for period in provider(instructor, child):
            if period.start <= day <= period.cohort_end + grace:
                return True
    return any(grant(instructor, child, day) for grant in safeguarding_grants)


def can_view_safeguarding(user: User, child: Child, *, on: date | None = None) -> bool:
    """Allergies, medical notes, emergency contacts, pickup list and photo consent: the
    guardians, coordinators, and an instructor while teaching the child."""
    if not user.is_authenticated or not user.active or child.is_erased:
        return False
    if user.is_parent:
        return is_guardian(user, child)
    if user.is_coordinator:
        return True
    if user.is_instructor:
        return instructor_teaches(user, child, on=on)
    return False


def can_see_photo(user: User, child: Child, *, on: date | None = None) -> bool:
    """The child's photo on the register (to tell two children apart): the guardians, the
    coordinators, and the instructors and substitutes of a group the child is enrolled in,
    the people who read the safeguarding card."""
    return can_view_safeguarding(user, child, on=on)


def medical_access_is_logged(user: User) -> bool:
    """Staff reading medical data leave a trace the parents can see; parents do not."""
    return user.is_staff
