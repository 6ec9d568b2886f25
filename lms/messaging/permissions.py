"""Who may write to families, about which cohorts, and read what they send back."""

from __future__ import annotations

from sqlalchemy import Select, select

from lms.accounts.models import User
from lms.courses.models import Cohort, CohortInstructor
from lms.courses.permissions import teaches
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.families.models import Guardianship


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


def can_read_family(user: User | None, family: User) -> bool:
    """A family's messages in the inbox: coordinators, and the instructors of a group in which
    one of its children is enrolled."""
    if not _active_staff(user):
        return False
    if user.is_coordinator:
        return True
    taught = taught_families(user).where(Guardianship.user_id == family.id).limit(1)
    return db.session.scalar(taught) is not None


def taught_families(instructor: User) -> Select:
    """The guardians (user ids) of the children enrolled in a group ``instructor`` teaches."""
    return (
        select(Guardianship.user_id)
        .join(Enrolment, Enrolment.child_id == Guardianship.child_id)
        .join(CohortInstructor, CohortInstructor.cohort_id == Enrolment.cohort_id)
        .where(
            CohortInstructor.instructor_id == instructor.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
    )
