"""The term's books, for the coordinators and the accountant.

Per term (the groups that start in it, cancelled ones included: they are where refunds come
from; drafts have no families):

- **billed**: what the places owe (Enrolment.amount_due_centimes: an enrolled place, or a
  place that ended once the fee was due), for every place that is enrolled or has a payment;
- **paid by card / transfer / cash**: the payments received on those places, by method;
- **refunded**: the credit notes on those payments;
- **outstanding**: what each place still owes, added up (an overpayment on one place pays
  no other); **refunds due**: what the lab owes back on places paid beyond what they owe.

So billed - (paid - refunded) = outstanding - refunds due, to the centime. Each figure has the
list behind it; the export is the journal of receipts and credit notes the figures come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.courses.models import Cohort, CohortStatus
from lms.courses.terms import Term
from lms.enrolment.models import (
    CreditNote,
    Enrolment,
    EnrolmentStatus,
    Payment,
    PaymentMethod,
)
from lms.extensions import db
from lms.money import dirhams

FIGURES = ("billed", "card", "bank_transfer", "cash", "refunded", "outstanding", "refunds_due")


@dataclass
class TermBooks:
    term: Term
    places: list[Enrolment] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    credit_notes: list[CreditNote] = field(default_factory=list)

    @property
    def billed(self) -> int:
        return sum(e.amount_due_centimes for e in self.places)

    def paid_by(self, method: str) -> int:
        return sum(p.amount_centimes for p in self.payments if p.method == method)

    @property
    def paid(self) -> int:
        return sum(p.amount_centimes for p in self.payments)

    @property
    def refunded(self) -> int:
        return sum(note.amount_centimes for note in self.credit_notes)

    @property
    def outstanding(self) -> int:
        return sum(max(e.balance_centimes, 0) for e in self.places)

    @property
    def refunds_due(self) -> int:
        return sum(max(-e.balance_centimes, 0) for e in self.places)

    def figure(self, name: str) -> int:
        if name in PaymentMethod.__members__.values():
            return self.paid_by(name)
        return getattr(self, name)

    def behind(self, name: str) -> list:
        """The rows behind a figure: places, payments or credit notes."""
        if name == "billed":
            return [e for e in self.places if e.amount_due_centimes]
        if name in PaymentMethod.__members__.values():
            return [p for p in self.payments if p.method == name]
        if name == "refunded":
            return self.credit_notes
        if name == "outstanding":
            return [e for e in self.places if e.balance_centimes > 0]
        return [e for e in self.places if e.balance_centimes < 0]


def term_books(term: Term) -> TermBooks:
    """The figures of ``term`` and the rows behind them (three queries)."""
    enrolments = db.session.scalars(
        select(Enrolment)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Cohort.starting_in(term), Cohort.status != CohortStatus.DRAFT)
        .options(
            selectinload(Enrolment.payments),
            joinedload(Enrolment.child),
            joinedload(Enrolment.cohort).joinedload(Cohort.course),
        )
        .order_by(Enrolment.id)
    ).unique()
    places = [e for e in enrolments if e.status == EnrolmentStatus.ENROLLED or e.payments]
    payments = sorted((p for e in places for p in e.payments), key=lambda p: (p.paid_on, p.id))
    notes = sorted((n for p in payments for n in p.credit_notes), key=lambda n: n.id)
    return TermBooks(term, places, payments, notes)


def journal_rows(books: TermBooks, *, language: str) -> list[list]:
    """The accountant's journal: every receipt and credit note of the term, a credit note as a
    negative amount."""
    methods = PaymentMethod.labels()
    rows = [
        [
            _("Document"),
            _("Number"),
            _("Date"),
            _("Amount (MAD)"),
            _("Method"),
            _("Reference"),
            _("Credits receipt"),
            _("Child"),
            _("Course"),
            _("Cohort start"),
        ]
    ]
    documents = [(p.paid_on, 0, p.id, p) for p in books.payments] + [
        (n.issued_on, 1, n.id, n) for n in books.credit_notes
    ]
    for _day, _kind, _id, document in sorted(documents, key=lambda item: item[:3]):
        if isinstance(document, Payment):
            payment, number, amount = document, document.receipt_number, document.amount_centimes
            kind, day, credits = _("Receipt"), document.paid_on, ""
        else:
            payment, number, amount = document.payment, document.number, -document.amount_centimes
            kind, day, credits = _("Credit note"), document.issued_on, payment.receipt_number
        cohort = payment.enrolment.cohort
        rows.append(
            [
                kind,
                number,
                day.isoformat(),
                float(dirhams(amount)),
                str(methods.get(payment.method, payment.method)),
                payment.reference or "",
                credits,
                payment.enrolment.child.full_name,
                cohort.course.title(language),
                cohort.start_date.isoformat(),
            ]
        )
    return rows
