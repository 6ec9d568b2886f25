"""Credit notes: money given back on a payment, never an edit of the payment.

A withdrawal before the first day or a group the lab cancels leaves the family owing nothing
for the place; what they paid shows as a refund due (a negative balance). A coordinator gives
it back by issuing a credit note on the payment: numbered in the year's credit-note sequence
("AL-AV-2026-000001", lms/numbering.py), at most what remains of the payment after its earlier
credit notes, printed as a PDF like the receipt. The payment and its receipt stay as they
were; balances and the term's figures subtract the credit notes.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.audit.services import record
from lms.database import utcnow
from lms.enrolment.models import CreditNote, Enrolment, Payment
from lms.enrolment.notices import tell_guardians
from lms.enrolment.rules import reason_text, require_coordinator
from lms.enrolment.seats import local_day
from lms.errors import DomainError
from lms.extensions import db
from lms.money import format_money
from lms.numbering import next_number

CREDIT_NOTE = "credit_note"


def credit_note_number(year: int) -> str:
    """The next credit-note number of ``year`` ("AL-AV-2026-000001"; AV for avoir)."""
    return f"AL-AV-{year}-{next_number(CREDIT_NOTE, year):06d}"


def refund_due(enrolment: Enrolment) -> int:
    """What the lab owes the family back on this place (paid beyond what is owed)."""
    return max(0, -enrolment.balance_centimes)


def suggested_refund(payment: Payment) -> int:
    """The amount a credit note on ``payment`` would give back by default: the refund due on
    its place, within what the payment still holds."""
    return min(payment.kept_centimes, refund_due(payment.enrolment))


def _refunded_already(payment: Payment) -> int:
    # The payment's row is locked first, so that two coordinators crediting the same payment
    # at once take turns (PostgreSQL; SQLite's writers always do) and the second one sees the
    # first one's credit note.
    db.session.execute(select(Payment.id).where(Payment.id == payment.id).with_for_update())
    return db.session.scalar(
        select(func.coalesce(func.sum(CreditNote.amount_centimes), 0)).where(
            CreditNote.payment_id == payment.id
        )
    )


def issue_credit_note(
    payment: Payment,
    *,
    actor: User,
    amount_centimes: int,
    reason: str | None,
    today: date | None = None,
) -> CreditNote:
    """A coordinator gives back part or all of a payment: a numbered credit note beside it;
    the family is told. Refused above what the payment still holds."""
    require_coordinator(actor)
    reason = reason_text(reason)
    if amount_centimes <= 0:
        raise DomainError(_l("The amount must be more than zero."), field="amount")
    if not reason:
        raise DomainError(_l("Say why the money is given back."), field="reason")
    left = payment.amount_centimes - _refunded_already(payment)
    if left <= 0:
        raise DomainError(_l("This payment was already given back in full."), field="amount")
    if amount_centimes > left:
        raise DomainError(
            _l(
                "This is more than what is left of the payment to give back (%(amount)s).",
                amount=format_money(left),
            ),
            field="amount",
        )
    issued_on = today or local_day(utcnow())
    note = CreditNote(
        payment=payment,
        amount_centimes=amount_centimes,
        reason=reason,
        issued_on=issued_on,
        created_by_id=actor.id,
        number=credit_note_number(issued_on.year),
    )
    db.session.add(note)
    db.session.flush()
    record(
        "payment.credit_note",
        actor=actor,
        subject=payment,
        credit_note=note.number,
        amount_centimes=amount_centimes,
        reason=reason,
    )
    enrolment = payment.enrolment
    tell_guardians(
        enrolment.child,
        "credit_note_issued",
        enrolment=enrolment,
        cohort=enrolment.cohort,
        credit_note=note,
        payment=payment,
    )
    return note
