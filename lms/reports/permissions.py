"""Who may read the term's figures and download which files."""

from __future__ import annotations

from lms.accounts.models import User
from lms.courses.models import Cohort
from lms.courses.permissions import teaches


def _active_staff(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.active and user.is_staff)


def can_export_roster(user: User | None, cohort: Cohort) -> bool:
    """A cohort's roster (contacts, pickup list): its instructors and the coordinators."""
    return _active_staff(user) and (user.is_coordinator or teaches(user, cohort))


def can_read_medical_notes_in_exports(user: User | None) -> bool:
    """Allergies and medical notes in a roster file: coordinators (their reading is logged);
    instructors get a yes/no flag, as on the roll call."""
    return _active_staff(user) and user.is_coordinator


def can_export_office_files(user: User | None) -> bool:
    """Family contacts, enrolments, waiting lists, certificates, payments: coordinators."""
    return _active_staff(user) and user.is_coordinator
