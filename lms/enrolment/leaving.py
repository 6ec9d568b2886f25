"""Leaving a group: a family withdraws, a coordinator cancels or moves a place, the lab cancels
the group or changes its capacity, a child's data is erased. A freed seat goes to the next
child waiting (lms/enrolment/offers.py)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.contact import cohort_topic, notify
from lms.accounts.models import User
from lms.audit.services import record
from lms.courses.cohorts import lock_seats
from lms.courses.models import Cohort
from lms.courses.terms import term_of
from lms.database import utcnow
from lms.enrolment.fees import recompute_sibling_discounts
from lms.enrolment.models import (
    ACTIVE_STATUSES,
    SEAT_STATUSES,
    EndReason,
    Enrolment,
    EnrolmentStatus,
    PrerequisiteWaiver,
)
from lms.enrolment.notices import guardians_of, tell_enrolled, tell_guardians
from lms.enrolment.offers import decline_offer, end, fill_free_seats, leave
from lms.enrolment.rules import (
    check_rules,
    check_running,
    reason_text,
    reported_on,
    require_coordinator,
    require_guardian,
)
from lms.enrolment.seats import (
    empty_cohort,
    local_day,
    lock_children,
    lock_cohorts,
    lock_family,
    reread,
    take_seat,
)
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child, Guardianship
from lms.notifications.services import external_url

# ---------------------------------------------------------------------------------------------
# One child's place


def withdraw(enrolment: Enrolment, *, actor: User, now: datetime | None = None) -> Enrolment:
    """A parent takes their child out of a group or its waiting list (before or during the
    group); a freed seat is offered to the next child waiting."""
    now = now or utcnow()
    require_guardian(actor, enrolment.child)
    if enrolment.status == EnrolmentStatus.OFFERED:
        return decline_offer(enrolment, actor=actor, now=now)
    lock_family(enrolment.child)
    lock_seats(enrolment.cohort)
    enrolment = reread(enrolment)
    if enrolment.status == EnrolmentStatus.OFFERED:
        return decline_offer(enrolment, actor=actor, now=now)
    if not enrolment.is_active:
        raise DomainError(
            _l("%(name)s is no longer in this group.", name=enrolment.child.first_name)
        )
    if enrolment.cohort.end_date < local_day(now):
        raise DomainError(_l("This group is over."))
    was_enrolled = enrolment.status == EnrolmentStatus.ENROLLED
    leave(enrolment, EnrolmentStatus.WITHDRAWN, EndReason.WITHDRAWN_BY_PARENT, now)
    if was_enrolled:
        recompute_sibling_discounts(enrolment.child, term_of(enrolment.cohort.start_date))
    record("enrolment.withdrawn", actor=actor, subject=enrolment, cohort_id=enrolment.cohort_id)
    tell_guardians(
        enrolment.child, "enrolment_withdrawn", enrolment=enrolment, cohort=enrolment.cohort
    )
    return enrolment


def cancel_enrolment(
    enrolment: Enrolment, *, actor: User, reason: str, now: datetime | None = None
) -> Enrolment:
    """A coordinator ends a child's place (or waiting) in a group, with a reason; the family
    is told and a freed seat is offered to the next child waiting."""
    now = now or utcnow()
    require_coordinator(actor)
    reason = reason_text(reason)
    if not reason:
        raise DomainError(_l("Say why the enrolment is cancelled."), field="reason")
    lock_family(enrolment.child)
    lock_seats(enrolment.cohort)
    enrolment = reread(enrolment)
    if not enrolment.is_active:
        raise DomainError(_l("This enrolment has already ended."))
    was_enrolled = enrolment.status == EnrolmentStatus.ENROLLED
    leave(enrolment, EnrolmentStatus.CANCELLED, EndReason.CANCELLED_BY_COORDINATOR, now)
    if was_enrolled:
        recompute_sibling_discounts(enrolment.child, term_of(enrolment.cohort.start_date))
    record(
        "enrolment.cancelled",
        actor=actor,
        subject=enrolment,
        reason=reason,
        cohort_id=enrolment.cohort_id,
    )
    tell_guardians(
        enrolment.child, "enrolment_cancelled", enrolment=enrolment, cohort=enrolment.cohort
    )
    return enrolment


def move_enrolment(
    enrolment: Enrolment,
    target: Cohort,
    *,
    actor: User,
    override_rules: bool = False,
    reason: str | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """A coordinator moves an enrolled child to another group, in one transaction: the new
    place first (it needs a free seat), then the old one ends (``moved``) and its seat goes to
    the next child waiting. Payments follow the child."""
    now = now or utcnow()
    require_coordinator(actor)
    reason = reason_text(reason)
    if override_rules and not reason:
        raise DomainError(_l("Say why the rules are set aside."), field="reason")
    if target.id == enrolment.cohort_id:
        raise DomainError(_l("Choose another group."), field="cohort_id")
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise DomainError(_l("Only an enrolled child can be moved."), field="cohort_id")
    child = enrolment.child
    with reported_on("cohort_id"):
        check_running(target, now)
    lock_family(child)  # first, as in joining.enrol: the rules then see every other change
    with reported_on("cohort_id"):
        check_rules(
            child,
            target,
            now=now,
            check_age=not override_rules,
            check_prerequisites=not override_rules,
            ignore_cohort_id=enrolment.cohort_id,
        )
    lock_cohorts([enrolment.cohort, target])
    enrolment = reread(enrolment)
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise DomainError(_l("Only an enrolled child can be moved."), field="cohort_id")
    with reported_on("cohort_id"):
        check_running(target, now)
    if not take_seat(target):
        raise DomainError(
            _l("The other group has no free seat (or children are waiting for one)."),
            field="cohort_id",
        )
    moved = Enrolment(
        child=child,
        cohort=target,
        status=EnrolmentStatus.ENROLLED,
        created_at=now,
        created_by_id=actor.id,
        enrolled_at=now,
        override_reason=(reason or None) if override_rules else enrolment.override_reason,
        fee_centimes=target.course.price_centimes,
        moved_from_id=enrolment.id,
    )
    moved.waiver_centimes = min(enrolment.waiver_centimes, moved.fee_centimes)
    moved.waiver_reason = enrolment.waiver_reason if moved.waiver_centimes else None
    db.session.add(moved)
    db.session.flush()
    for payment in list(enrolment.payments):
        payment.enrolment = moved
    leave(enrolment, EnrolmentStatus.WITHDRAWN, EndReason.MOVED, now)
    for term in {term_of(enrolment.cohort.start_date), term_of(target.start_date)}:
        recompute_sibling_discounts(child, term)
    record(
        "enrolment.moved",
        actor=actor,
        subject=moved,
        reason=reason or None,
        from_enrolment_id=enrolment.id,
        from_cohort_id=enrolment.cohort_id,
        to_cohort_id=target.id,
        override=override_rules,
    )
    tell_enrolled(moved, now, template="enrolment_moved")
    return moved


def erase_child_enrolments(child: Child, *, now: datetime | None = None) -> None:
    """A child's data is erased: their active places end (seats go to the next child), the
    free texts coordinators wrote about them go; the rows stay, the child row is anonymous."""
    now = now or utcnow()
    active = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.child_id == child.id, Enrolment.status.in_(ACTIVE_STATUSES))
        .order_by(Enrolment.cohort_id)
    ).all()
    if active:
        lock_family(child)
        lock_cohorts(e.cohort for e in active)
    terms = set()
    for enrolment in active:
        enrolment = reread(enrolment)
        if not enrolment.is_active:
            continue
        if enrolment.status == EnrolmentStatus.ENROLLED:
            terms.add(term_of(enrolment.cohort.start_date))
        leave(enrolment, EnrolmentStatus.WITHDRAWN, EndReason.CHILD_ERASED, now)
        record("enrolment.withdrawn", actor=None, subject=enrolment, child_erased=True)
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.child_id == child.id)):
        if enrolment.override_reason:
            enrolment.override_reason = "—"
        if enrolment.waiver_reason:
            enrolment.waiver_reason = "—"
    for waiver in db.session.scalars(
        select(PrerequisiteWaiver).where(PrerequisiteWaiver.child_id == child.id)
    ):
        db.session.delete(waiver)
    db.session.flush()
    for term in terms:
        recompute_sibling_discounts(child, term)


# ---------------------------------------------------------------------------------------------
# The whole group (called through the courses hooks)


def capacity_changed(cohort: Cohort, old: int, new: int, actor: User | None = None) -> None:
    """More seats: offer each new free seat to the next child waiting (cohort locked)."""
    if new > old:
        offers = fill_free_seats(cohort)
        if offers:
            record(
                "cohort.seats_offered",
                actor=actor,
                subject=cohort,
                capacity=new,
                enrolment_ids=[e.id for e in offers],
            )


def _cancelled_short(child: Child, cohort: Cohort):
    """The short text's values when a group is cancelled, in the guardian's language."""

    def values(language: str) -> dict:
        return {
            "child": child.first_name,
            "group": cohort.course.title(language),
            "link": external_url("dashboard.parent_home"),
        }

    return values


def cohort_cancelled(cohort: Cohort, actor: User | None = None, *, now=None) -> list[Enrolment]:
    """The lab cancels a group: every active enrolment is cancelled; the families on the
    waiting list are told too (courses already told those holding a seat)."""
    now = now or utcnow()
    # The children's rows first, as every family's change does (an acceptance at the same
    # instant then finishes before their places end), then the cohort's.
    child_ids = db.session.scalars(
        select(Enrolment.child_id).where(
            Enrolment.cohort_id == cohort.id, Enrolment.status.in_(ACTIVE_STATUSES)
        )
    ).all()
    if child_ids:
        lock_children(child_ids)
    lock_seats(cohort)
    active = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(ACTIVE_STATUSES))
        .options(
            selectinload(Enrolment.child)
            .selectinload(Child.guardianships)
            .joinedload(Guardianship.user)
        )
        .order_by(Enrolment.id)
    ).all()
    told = {user.id for e in active if e.status in SEAT_STATUSES for user in guardians_of(e.child)}
    for enrolment in active:
        if enrolment.status == EnrolmentStatus.WAITLISTED:
            for user in guardians_of(enrolment.child):
                if user.id not in told:
                    told.add(user.id)
                    notify(
                        user,
                        "cohort_cancelled",
                        short=_cancelled_short(enrolment.child, cohort),
                        topic=cohort_topic(cohort.id),
                        cohort=cohort,
                    )
        end(enrolment, EnrolmentStatus.CANCELLED, EndReason.COHORT_CANCELLED, now)
        record("enrolment.cancelled", actor=actor, subject=enrolment, cohort_cancelled=True)
    empty_cohort(cohort)
    return list(active)
