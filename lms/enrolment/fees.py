"""Fees: the price copied onto each enrolment, the sibling discount, waivers, payments.

The course's price is copied onto the enrolment when the child joins. The sibling discount
(``SIBLING_DISCOUNT_PERCENT``) applies per family and term (the term the group starts in):
among the children of a family (children who share a guardian) with an enrolled place in
groups of that term, the child who enrolled first (lowest enrolment id) pays full price for
all their groups; every group of every other child gets the discount. It is recomputed
whenever one of the family's enrolled places in that term starts or ends for a reason of the
family's (enrolment, accepted offer, withdrawal, cancellation, move, erasure); a group the lab
cancels never makes a family pay more elsewhere, so a cohort's cancellation leaves the other
discounts as they are. A coordinator may waive part or all of a fee (scholarship) with a
reason; payments are recorded against an enrolment and each has a numbered receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.audit.services import record
from lms.courses.models import Cohort
from lms.courses.terms import Term, term_of
from lms.database import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus, Payment, PaymentMethod
from lms.enrolment.notices import tell_guardians
from lms.enrolment.rules import reason_text, require_coordinator
from lms.enrolment.seats import family_child_ids, local_day
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child
from lms.money import format_money
from lms.numbering import next_number

REFERENCE_MAX = 80


# ---------------------------------------------------------------------------------------------
# The sibling discount


def sibling_discount(fee_centimes: int) -> int:
    """The sibling discount on a fee, rounded to the nearest centime."""
    percent = current_app.config["SIBLING_DISCOUNT_PERCENT"]
    return (fee_centimes * percent + 50) // 100


def _enrolled_in_term(child_ids: Sequence[int], term: Term) -> list[Enrolment]:
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(
                Enrolment.child_id.in_(child_ids),
                Enrolment.status == EnrolmentStatus.ENROLLED,
                Cohort.starting_in(term),
            )
            .order_by(Enrolment.id)
        )
    )


def _discount_for(enrolment: Enrolment, first_child_id: int | None) -> int:
    if first_child_id is None or enrolment.child_id == first_child_id:
        wanted = 0
    else:
        wanted = sibling_discount(enrolment.fee_centimes)
    return max(0, min(wanted, enrolment.fee_centimes - enrolment.waiver_centimes))


def recompute_sibling_discounts(
    child: Child, term: Term, *, family_ids: Sequence[int] | None = None
) -> list[Enrolment]:
    """Give the sibling discount to the family's enrolled places of ``term``, except those of
    the child who enrolled first. Returns the enrolments whose discount changed."""
    enrolled = _enrolled_in_term(family_ids or family_child_ids(child), term)
    first_child_id = enrolled[0].child_id if enrolled else None
    changed = []
    for enrolment in enrolled:
        wanted = _discount_for(enrolment, first_child_id)
        if enrolment.discount_centimes != wanted:
            enrolment.discount_centimes = wanted
            changed.append(enrolment)
    db.session.flush()
    return changed


def expected_discount(enrolment: Enrolment, family_ids: Sequence[int] | None = None) -> int:
    """The discount a waiting child would get if enrolled now (shown, not yet owed)."""
    enrolled = _enrolled_in_term(
        family_ids or family_child_ids(enrolment.child), term_of(enrolment.cohort.start_date)
    )
    first = enrolled[0].child_id if enrolled else enrolment.child_id
    return _discount_for(enrolment, first)


# ---------------------------------------------------------------------------------------------
# Waivers and payments


def set_fee_waiver(
    enrolment: Enrolment, *, actor: User, amount_centimes: int, reason: str | None
) -> Enrolment:
    """A coordinator waives part or all of a fee (scholarship); 0 removes the waiver."""
    require_coordinator(actor)
    reason = reason_text(reason)
    if amount_centimes < 0:
        raise DomainError(_l("The amount cannot be negative."), field="amount")
    most = enrolment.fee_centimes - enrolment.discount_centimes
    if amount_centimes > most:
        raise DomainError(
            _l(
                "The waiver cannot be more than the fee after the discount (%(amount)s).",
                amount=format_money(most),
            ),
            field="amount",
        )
    if amount_centimes and not reason:
        raise DomainError(_l("Say why the fee is waived."), field="reason")
    previous = enrolment.waiver_centimes
    enrolment.waiver_centimes = amount_centimes
    enrolment.waiver_reason = reason if amount_centimes else None
    db.session.flush()
    record(
        "enrolment.fee_waiver",
        actor=actor,
        subject=enrolment,
        reason=reason or None,
        before_centimes=previous,
        after_centimes=amount_centimes,
    )
    return enrolment


RECEIPT = "receipt"


def receipt_number(year: int) -> str:
    """The next receipt number of ``year`` ("AL-2026-000124"): gapless, lms/numbering.py.

    Receipts numbered before the counters (from the payment's id) keep their numbers; the
    migration started each year's counter after the highest of them."""
    return f"AL-{year}-{next_number(RECEIPT, year):06d}"


def record_payment(
    enrolment: Enrolment,
    *,
    actor: User,
    amount_centimes: int,
    method: str,
    paid_on: date,
    reference: str | None = None,
    today: date | None = None,
) -> Payment:
    """A coordinator records money received for an enrolment; the family is e-mailed a
    receipt number. Refused above what is still owed."""
    require_coordinator(actor)
    today = today or local_day(utcnow())
    if method not in PaymentMethod.__members__.values():
        raise DomainError(_l("Choose how the family paid."), field="method")
    if amount_centimes <= 0:
        raise DomainError(_l("The amount must be more than zero."), field="amount")
    if paid_on > today:
        raise DomainError(_l("The payment date cannot be in the future."), field="paid_on")
    if paid_on < today - timedelta(days=366):
        raise DomainError(_l("The payment date is more than a year ago."), field="paid_on")
    balance = enrolment.balance_centimes
    if balance <= 0:
        raise DomainError(_l("Nothing is owed for this enrolment."), field="amount")
    if amount_centimes > balance:
        raise DomainError(
            _l("This is more than what is still owed (%(amount)s).", amount=format_money(balance)),
            field="amount",
        )
    payment = book_payment(
        enrolment,
        amount_centimes=amount_centimes,
        method=method,
        paid_on=paid_on,
        reference=reference,
        recorded_by=actor,
    )
    record(
        "payment.recorded",
        actor=actor,
        subject=payment,
        enrolment_id=enrolment.id,
        amount_centimes=amount_centimes,
        method=method,
    )
    return payment


def book_payment(
    enrolment: Enrolment,
    *,
    amount_centimes: int,
    method: str,
    paid_on: date,
    reference: str | None = None,
    recorded_by: User | None = None,
    card_order_id: int | None = None,
    statement_line_id: int | None = None,
) -> Payment:
    """Write a payment received and its receipt number, and e-mail the family the receipt.

    The receipt is numbered in the year it is issued (the lab's today), which may differ from
    ``paid_on`` for a payment entered late. The callers check the money (a coordinator's
    entry, a card callback, a statement line)."""
    payment = Payment(
        enrolment=enrolment,
        amount_centimes=amount_centimes,
        method=method,
        reference=(reference or "").strip()[:REFERENCE_MAX] or None,
        paid_on=paid_on,
        recorded_by_id=recorded_by.id if recorded_by else None,
        card_order_id=card_order_id,
        statement_line_id=statement_line_id,
        receipt_number=receipt_number(local_day(utcnow()).year),
    )
    db.session.add(payment)
    db.session.flush()
    tell_guardians(
        enrolment.child,
        "payment_recorded",
        enrolment=enrolment,
        cohort=enrolment.cohort,
        payment=payment,
        balance=enrolment.balance_centimes,
    )
    return payment


def owed_enrolments(child_ids: Sequence[int], term: Term | None = None) -> list[Enrolment]:
    """The enrolments of these children that still owe money (in ``term`` if given), in the
    order they were made: what a card payment or a bank transfer pays, first to last."""
    if not child_ids:
        return []
    query = (
        select(Enrolment)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(
            Enrolment.child_id.in_(child_ids),
            # A seat offered is owed once accepted.
            Enrolment.status != EnrolmentStatus.OFFERED,
        )
        .options(selectinload(Enrolment.payments), joinedload(Enrolment.cohort))
        .order_by(Enrolment.id)
    )
    if term is not None:
        query = query.where(Cohort.starting_in(term))
    return [e for e in db.session.scalars(query).unique() if e.balance_centimes > 0]


def allocate(amount_centimes: int, enrolments: Sequence[Enrolment]) -> list[tuple[Enrolment, int]]:
    """Share money received among enrolments that owe, first to last; what is beyond all
    balances goes to the last one (its negative balance is a refund to settle)."""
    shares = []
    left = amount_centimes
    for enrolment in enrolments:
        if left <= 0:
            break
        share = min(left, enrolment.balance_centimes)
        shares.append((enrolment, share))
        left -= share
    if left > 0 and shares:
        last, share = shares[-1]
        shares[-1] = (last, share + left)
    return shares
