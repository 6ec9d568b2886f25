"""Joining a group: a seat if one is free and nobody waits, else the end of the waiting list;
by the family (inside the enrolment window) or by a coordinator (rules set aside if need be)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.audit.services import record
from lms.courses.cohorts import lock_seats
from lms.courses.models import Cohort
from lms.courses.terms import term_of
from lms.database import utcnow
from lms.enrolment.fees import expected_discount, recompute_sibling_discounts
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.notices import tell_enrolled, tell_guardians
from lms.enrolment.rules import (
    check_open_to_families,
    check_rules,
    check_running,
    reason_text,
    reported_on,
    require_coordinator,
    require_guardian,
)
from lms.enrolment.seats import lock_family, move_counters, take_seat
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child


@dataclass
class EnrolResult:
    """What happened to one child of a multi-child enrolment."""

    child: Child
    enrolment: Enrolment | None = None
    error: DomainError | None = None
    position: int | None = None

    @property
    def ok(self) -> bool:
        return self.enrolment is not None


def _join(
    child: Child,
    cohort: Cohort,
    *,
    actor: User,
    now: datetime,
    override_reason: str | None = None,
    family_ids: Sequence[int] | None = None,
) -> tuple[Enrolment, int | None]:
    """Insert the enrolment (the cohort is locked): a seat if one is free and nobody waits,
    else the end of the waiting list. Returns it, and its place in the waiting list."""
    # The cohort's counters were read under the lock (lock_seats): a full group, or one with
    # children waiting, is not asked for a seat, and a child who waits is last in line.
    position = cohort.waitlist_count + 1
    free = cohort.seats_taken < cohort.capacity and cohort.waitlist_count == 0
    seated = free and take_seat(cohort)
    enrolment = Enrolment(
        child=child,
        cohort=cohort,
        status=EnrolmentStatus.ENROLLED if seated else EnrolmentStatus.WAITLISTED,
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
        enrolled_at=now if seated else None,
        override_reason=override_reason,
        fee_centimes=cohort.course.price_centimes,
    )
    db.session.add(enrolment)
    if not seated:
        move_counters(cohort, waiting=1)
    db.session.flush()
    # An only child (the family's lock listed its children) has no sibling discount to give
    # or to move: the query is skipped.
    only_child = family_ids is not None and len(family_ids) == 1
    if seated and not only_child:
        recompute_sibling_discounts(child, term_of(cohort.start_date), family_ids=family_ids)
    elif not only_child:
        enrolment.discount_centimes = expected_discount(enrolment, family_ids)
        db.session.flush()
    record(
        "enrolment.enrolled" if seated else "enrolment.waitlisted",
        actor=actor,
        subject=enrolment,
        child_id=child.id,
        cohort_id=cohort.id,
    )
    if seated:
        tell_enrolled(enrolment, now)
    else:
        tell_guardians(
            child,
            "enrolment_waitlisted",
            enrolment=enrolment,
            cohort=cohort,
            position=position,
        )
    return enrolment, None if seated else position


def enrol(child: Child, cohort: Cohort, *, actor: User, now: datetime | None = None) -> Enrolment:
    """A parent enrols their child in a group: a seat if one is free, else the waiting list."""
    return _enrol(child, cohort, actor=actor, now=now or utcnow())[0]


def _enrol(
    child: Child, cohort: Cohort, *, actor: User, now: datetime
) -> tuple[Enrolment, int | None]:
    if actor is None or not actor.is_authenticated or not actor.is_parent:
        raise DomainError(_l("Only a child's parents can enrol the child."), field="children")
    require_guardian(actor, child)
    check_open_to_families(cohort, now)
    # The rules are read under the family's lock, which every change to a child's places
    # takes first: the same form sent twice, or this child enrolled at the same instant in
    # a group at the same time, waits here and then sees the other enrolment.
    family_ids = lock_family(child)
    check_rules(child, cohort, now=now)
    lock_seats(cohort)
    # Under the group's lock: it may have closed meanwhile (its status was read again).
    check_open_to_families(cohort, now)
    return _join(child, cohort, actor=actor, now=now, family_ids=family_ids)


def enrol_children(
    children: Sequence[Child], cohort: Cohort, *, actor: User, now: datetime | None = None
) -> list[EnrolResult]:
    """Enrol several children of a family at once; each is checked on its own (one refusal
    does not stop the others)."""
    now = now or utcnow()
    results = []
    for child in children:
        result = EnrolResult(child=child)
        # No savepoint for one child: a refusal comes before anything is written, and a
        # request refused as a whole is rolled back (lms/web.py).
        savepoint = db.session.begin_nested() if len(children) > 1 else nullcontext()
        try:
            with savepoint:
                result.enrolment, result.position = _enrol(child, cohort, actor=actor, now=now)
        except DomainError as error:
            result.error = error
        results.append(result)
    return results


def enrol_by_coordinator(
    child: Child,
    cohort: Cohort,
    *,
    actor: User,
    override_age: bool = False,
    override_prerequisites: bool = False,
    reason: str | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """A coordinator enrols a child by hand, in or out of the enrolment window, with the age or
    prerequisite rule set aside if need be (the reason is logged). Never above capacity: a
    full group puts the child on its waiting list."""
    now = now or utcnow()
    require_coordinator(actor)
    reason = reason_text(reason)
    overriding = override_age or override_prerequisites
    if overriding and not reason:
        raise DomainError(_l("Say why the rules are set aside."), field="reason")
    with reported_on("child_id"):
        check_running(cohort, now)
        lock_family(child)  # first, as in enrol: the rules then see every other change
        check_rules(
            child,
            cohort,
            now=now,
            check_age=not override_age,
            check_prerequisites=not override_prerequisites,
        )
        lock_seats(cohort)
        check_running(cohort, now)
    enrolment, _position = _join(
        child, cohort, actor=actor, now=now, override_reason=reason or None
    )
    if overriding:
        record(
            "enrolment.override",
            actor=actor,
            subject=enrolment,
            reason=reason,
            age=override_age,
            prerequisites=override_prerequisites,
        )
    return enrolment
