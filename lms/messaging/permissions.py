"""Who may write to families, and about which cohorts."""

from __future__ import annotations

from lms.accounts.models import User
from lms.courses.models import Cohort
from lms.courses.permissions import teaches


def _active_staff(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.active and user.is_staff)


def can_message_cohort(user: User | None, cohort: Cohort) -> bool:
    """A cohort's families: its instructors and the coordinators."""
    return _active_staff(user) and (user.is_coordinator or teaches(user, cohort))


def can_message_widely(user: User | None) -> bool:
    """A whole course, or every waiting list: coordinators only."""
    return _active_staff(user) and user.is_coordinator


def can_read_message(user: User | None, message) -> bool:
    """A sent message: coordinators, its author, and the instructors of its cohorts."""
    if not _active_staff(user):
        return False
    if user.is_coordinator or message.author_id == user.id:
        return True
    return any(teaches(user, cohort) for cohort in message.cohorts)
