"""Who may join which group: the actor, the group's window, the child's age on the start date,
prerequisites (a certificate or a coordinator's waiver), no lesson at the same time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from babel.lists import format_list
from flask_babel import format_date, format_time, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased, joinedload

from lms.accounts.models import User
from lms.audit.services import record
from lms.clock import age_in_years
from lms.courses.models import Cohort, CohortStatus, Course, Lesson, LessonStatus
from lms.database import utcnow
from lms.enrolment import hooks
from lms.enrolment.models import (
    ACTIVE_STATUSES,
    Enrolment,
    EnrolmentStatus,
    PrerequisiteWaiver,
)
from lms.enrolment.seats import is_running, local_day
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child, Guardianship
from lms.families.permissions import can_manage_child
from lms.i18n import current_language

REASON_MAX = 500


def reason_text(text: str | None) -> str:
    """A reason typed by a coordinator, trimmed to what is stored."""
    return (text or "").strip()[:REASON_MAX]


@contextmanager
def reported_on(field: str) -> Iterator[None]:
    """Show the refusals of the rules (which name the parents' ``children`` field) on
    ``field`` of a coordinator's form instead."""
    try:
        yield
    except DomainError as error:
        if error.field == "children":
            error.field = field
        raise


# ---------------------------------------------------------------------------------------------
# The actor


def require_guardian(actor: User, child: Child) -> None:
    """Refuse unless ``actor`` is one of the child's guardians."""
    if actor is None or not can_manage_child(actor, child):
        raise DomainError(
            _l("You can only enrol and withdraw your own children."), field="children"
        )


def require_coordinator(actor: User) -> None:
    """Refuse unless ``actor`` is a coordinator."""
    if actor is None or not actor.is_authenticated or not actor.is_coordinator:
        raise DomainError(_l("Only coordinators can do this."))


# ---------------------------------------------------------------------------------------------
# The group


def children_for_enrolment(user: User) -> list[Child]:
    """The children a parent may enrol, oldest first, with their guardians loaded."""
    # One statement: the guardians come joined to their children (a family has a few rows).
    return list(
        db.session.scalars(
            select(Child)
            .join(Guardianship, Guardianship.child_id == Child.id)
            .where(Guardianship.user_id == user.id, Child.erased_at.is_(None))
            .options(joinedload(Child.guardianships).joinedload(Guardianship.user))
            .order_by(Child.date_of_birth, Child.id)
        ).unique()
    )


def check_open_to_families(cohort: Cohort, now: datetime) -> None:
    """Refuse unless families may enrol in the group now (open, inside its window)."""
    if cohort.status != CohortStatus.OPEN:
        raise DomainError(_l("This group is not open for enrolment."), field="children")
    if cohort.enrolment_opens_at and now < cohort.enrolment_opens_at:
        raise DomainError(
            _l(
                "Enrolment for this group opens on %(date)s.",
                date=format_date(local_day(cohort.enrolment_opens_at), "long"),
            ),
            field="children",
        )
    if cohort.enrolment_closes_at and now >= cohort.enrolment_closes_at:
        raise DomainError(
            _l(
                "Enrolment for this group closed on %(date)s.",
                date=format_date(cohort.enrolment_last_day, "long"),
            ),
            field="children",
        )
    if cohort.end_date < local_day(now):
        raise DomainError(_l("This group is over."), field="children")


def check_running(cohort: Cohort, now: datetime) -> None:
    """Refuse unless the group is running (coordinators enrol outside the window)."""
    if not is_running(cohort, now):
        raise DomainError(
            _l("This group is not running: it is a draft, cancelled or over."), field="children"
        )


# ---------------------------------------------------------------------------------------------
# The child


def _check_child(child: Child) -> None:
    if child.is_erased:
        raise DomainError(_l("This child's data was erased."), field="children")


def active_places(child: Child) -> list[Enrolment]:
    """The child's enrolled, waiting or offered places, in every group."""
    return list(
        db.session.scalars(
            select(Enrolment).where(
                Enrolment.child_id == child.id, Enrolment.status.in_(ACTIVE_STATUSES)
            )
        )
    )


def _place_in(places: list[Enrolment], cohort: Cohort) -> Enrolment | None:
    return next((place for place in places if place.cohort_id == cohort.id), None)


def active_enrolment(child: Child, cohort: Cohort) -> Enrolment | None:
    """The child's enrolled, waiting or offered place in the group, if any."""
    return _place_in(active_places(child), cohort)


def _check_not_already(child: Child, cohort: Cohort, places: list[Enrolment]) -> None:
    """Refuse when the child already has a place, a waiting place or an offer in the group."""
    existing = _place_in(places, cohort)
    if existing is None:
        return
    name = child.first_name
    if existing.offer_lapsed:
        message = _l(
            "The deadline to accept this seat has passed; it goes to the next child waiting."
        )
    else:
        message = {
            EnrolmentStatus.ENROLLED: _l("%(name)s is already enrolled in this group.", name=name),
            EnrolmentStatus.WAITLISTED: _l(
                "%(name)s is already on this group's waiting list.", name=name
            ),
            EnrolmentStatus.OFFERED: _l(
                "A seat in this group is already offered to %(name)s: accept it from your page.",
                name=name,
            ),
        }[existing.status]
    raise DomainError(message, field="children")


def _check_age(child: Child, cohort: Cohort) -> None:
    course = cohort.course
    if cohort.accepts_age(child.date_of_birth):
        return
    raise DomainError(
        _l(
            "On the group's first day (%(date)s) %(name)s will be %(age)d; this course is for "
            "children aged %(min)d to %(max)d.",
            date=format_date(cohort.start_date, "long"),
            name=child.first_name,
            age=age_in_years(child.date_of_birth, cohort.start_date),
            min=course.min_age,
            max=course.max_age,
        ),
        field="children",
    )


def missing_prerequisites(child: Child, course: Course) -> list[Course]:
    """The prerequisite courses for which the child has neither a certificate nor a waiver."""
    if not course.prerequisites:
        return []
    waived = set(
        db.session.scalars(
            select(PrerequisiteWaiver.course_id).where(PrerequisiteWaiver.child_id == child.id)
        )
    )
    return [
        prerequisite
        for prerequisite in course.prerequisites
        if prerequisite.id not in waived and not hooks.holds_valid_certificate(child, prerequisite)
    ]


def _check_prerequisites(child: Child, cohort: Cohort) -> None:
    missing = missing_prerequisites(child, cohort.course)
    if not missing:
        return
    language = current_language()
    raise DomainError(
        _l(
            "%(name)s first needs the certificate of %(courses)s, or a coordinator's waiver.",
            name=child.first_name,
            courses=format_list([c.title(language) for c in missing], locale=get_locale()),
        ),
        field="children",
    )


def overlapping_lesson(
    cohort: Cohort, places: list[Enrolment], *, now: datetime, ignore_cohort_id: int | None = None
) -> Lesson | None:
    """A lesson of the child's other active groups (``places``) at the same time as one of
    ``cohort``'s lessons still to come (scheduled lessons of groups that are not cancelled)."""
    other_groups = [
        place.cohort_id for place in places if place.cohort_id not in (cohort.id, ignore_cohort_id)
    ]
    if not other_groups:
        return None
    mine = aliased(Lesson)
    theirs = aliased(Lesson)
    return db.session.scalars(
        select(theirs)
        .join(mine, and_(mine.starts_at < theirs.ends_at, theirs.starts_at < mine.ends_at))
        .join(Cohort, Cohort.id == theirs.cohort_id)
        .where(
            mine.cohort_id == cohort.id,
            mine.status == LessonStatus.SCHEDULED,
            mine.ends_at > now,
            theirs.status == LessonStatus.SCHEDULED,
            theirs.cohort_id.in_(other_groups),
            Cohort.status != CohortStatus.CANCELLED,
        )
        .options(joinedload(theirs.cohort).joinedload(Cohort.course))
        .order_by(theirs.starts_at)
        .limit(1)
    ).first()


def _check_overlap(
    child: Child,
    cohort: Cohort,
    places: list[Enrolment],
    now: datetime,
    *,
    ignore_cohort_id: int | None = None,
) -> None:
    clash = overlapping_lesson(cohort, places, now=now, ignore_cohort_id=ignore_cohort_id)
    if clash is None:
        return
    raise DomainError(
        _l(
            "%(name)s already has a lesson at that time: %(course)s on %(date)s at %(time)s.",
            name=child.first_name,
            course=clash.cohort.course.title(current_language()),
            date=format_date(clash.starts_at, "full"),
            time=format_time(clash.starts_at, "short"),
        ),
        field="children",
    )


def check_rules(
    child: Child,
    cohort: Cohort,
    *,
    now: datetime,
    check_age: bool = True,
    check_prerequisites: bool = True,
    ignore_cohort_id: int | None = None,
) -> None:
    """The rules every enrolment obeys, most specific refusal first: not already there, age on
    the start date, prerequisites, no lesson at the same time as another group's."""
    _check_child(child)
    places = active_places(child)  # one read for the two rules that look at them
    _check_not_already(child, cohort, places)
    if check_age:
        _check_age(child, cohort)
    if check_prerequisites:
        _check_prerequisites(child, cohort)
    _check_overlap(child, cohort, places, now, ignore_cohort_id=ignore_cohort_id)


def enrolment_problem(
    child: Child, cohort: Cohort, *, actor: User, now: datetime | None = None
) -> str | None:
    """Why ``actor`` could not enrol ``child`` in ``cohort`` now, or None (a dry run)."""
    now = now or utcnow()
    try:
        require_guardian(actor, child)
        check_open_to_families(cohort, now)
        check_rules(child, cohort, now=now)
    except DomainError as error:
        return str(error.message)
    return None


# ---------------------------------------------------------------------------------------------
# Prerequisite waivers


def grant_prerequisite_waiver(
    child: Child, course: Course, *, actor: User, reason: str
) -> PrerequisiteWaiver:
    """A coordinator lets a child join courses that require ``course`` without its certificate."""
    require_coordinator(actor)
    reason = reason_text(reason)
    if not reason:
        raise DomainError(_l("Say why the prerequisite is waived."), field="reason")
    if child.is_erased:
        raise DomainError(_l("This child's data was erased."), field="child_id")
    existing = db.session.scalar(
        select(PrerequisiteWaiver).where(
            PrerequisiteWaiver.child_id == child.id, PrerequisiteWaiver.course_id == course.id
        )
    )
    if existing is not None:
        raise DomainError(
            _l("%(name)s already has a waiver for this course.", name=child.first_name),
            field="course_id",
        )
    waiver = PrerequisiteWaiver(child=child, course=course, reason=reason, granted_by_id=actor.id)
    db.session.add(waiver)
    db.session.flush()
    record(
        "enrolment.prerequisite_waived",
        actor=actor,
        subject=waiver,
        reason=reason,
        child_id=child.id,
        course_id=course.id,
    )
    return waiver


def revoke_prerequisite_waiver(waiver: PrerequisiteWaiver, *, actor: User) -> None:
    """A coordinator withdraws a waiver (groups already joined are kept)."""
    require_coordinator(actor)
    record(
        "enrolment.prerequisite_waiver_revoked",
        actor=actor,
        subject=waiver,
        child_id=waiver.child_id,
        course_id=waiver.course_id,
    )
    db.session.delete(waiver)
    db.session.flush()
