"""Enrolments, prerequisite waivers, payments, credit notes, card orders and bank statement
lines."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import lab_zone
from lms.courses.models import Cohort, CohortStatus, Course
from lms.database import UTCDateTime, utcnow
from lms.extensions import db
from lms.families.models import Child
from lms.labels import LabelledEnum


class EnrolmentStatus(LabelledEnum):
    ENROLLED = "enrolled", _l("Enrolled")
    WAITLISTED = "waitlisted", _l("On the waiting list")
    OFFERED = "offered", _l("Seat offered")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    CANCELLED = "cancelled", _l("Cancelled")


# A child has at most one of these per cohort (invariant 2).
ACTIVE_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED, EnrolmentStatus.OFFERED)
# These hold a seat: cohorts.seats_taken counts them and never exceeds capacity (invariant 1).
SEAT_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.OFFERED)


class EndReason(LabelledEnum):
    """Why an enrolment stopped being active."""

    WITHDRAWN_BY_PARENT = "withdrawn_by_parent", _l("Withdrawn by the family")
    OFFER_DECLINED = "offer_declined", _l("Seat declined")
    OFFER_EXPIRED = "offer_expired", _l("Offer expired")
    CANCELLED_BY_COORDINATOR = "cancelled_by_coordinator", _l("Cancelled by the lab")
    COHORT_CANCELLED = "cohort_cancelled", _l("Group cancelled")
    MOVED = "moved", _l("Moved to another group")
    CHILD_ERASED = "child_erased", _l("Child's data erased")


def _sql_list(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Enrolment(db.Model):
    """A child in a cohort: enrolled, waiting, offered a seat, or no longer there."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_list(EnrolmentStatus)})",
            name="status_known",
        ),
        CheckConstraint(
            f"end_reason IS NULL OR end_reason IN ({_sql_list(EndReason)})",
            name="end_reason_known",
        ),
        CheckConstraint(
            "status <> 'offered' OR offer_expires_at IS NOT NULL", name="offer_has_deadline"
        ),
        CheckConstraint("fee_centimes >= 0", name="fee_not_negative"),
        CheckConstraint(
            "discount_centimes >= 0 AND waiver_centimes >= 0 "
            "AND discount_centimes + waiver_centimes <= fee_centimes",
            name="reductions_within_fee",
        ),
        # Invariant 2, held by the database: one active enrolment per child and cohort.
        Index(
            "uq_enrolments_active_child_cohort",
            "child_id",
            "cohort_id",
            unique=True,
            sqlite_where=text(f"status IN ({_sql_list(ACTIVE_STATUSES)})"),
            postgresql_where=text(f"status IN ({_sql_list(ACTIVE_STATUSES)})"),
        ),
        # The waiting list of a cohort, in arrival order.
        Index("ix_enrolments_cohort_id_status_id", "cohort_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # arrival order: first come, first served
    child_id: Mapped[int] = mapped_column(
        ForeignKey("children.id", ondelete="RESTRICT"), index=True
    )
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(30))
    # A coordinator's enrolment outside the rules (age, prerequisites): why.
    override_reason: Mapped[str | None] = mapped_column(String(500))
    # Fees, in centimes of MAD: the course price when the child joined, less reductions.
    fee_centimes: Mapped[int] = mapped_column(default=0)
    discount_centimes: Mapped[int] = mapped_column(default=0)  # sibling discount
    waiver_centimes: Mapped[int] = mapped_column(default=0)  # scholarship
    waiver_reason: Mapped[str | None] = mapped_column(String(500))
    moved_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="SET NULL")
    )

    child: Mapped[Child] = relationship()
    cohort: Mapped[Cohort] = relationship()
    created_by: Mapped[User | None] = relationship()
    payments: Mapped[list[Payment]] = relationship(
        back_populates="enrolment", order_by="Payment.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Enrolment {self.id} child={self.child_id} cohort={self.cohort_id} {self.status}>"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_STATUSES

    def offer_lapsed_at(self, now: datetime) -> bool:
        """A seat offered whose deadline has passed at ``now``: it can no longer be accepted,
        though it stays counted until the periodic job moves it to the next child."""
        return self.status == EnrolmentStatus.OFFERED and self.offer_expires_at <= now

    @property
    def offer_lapsed(self) -> bool:
        """A seat offered whose deadline has passed (derived on reading, never stored)."""
        return self.offer_lapsed_at(utcnow())

    @property
    def offer_is_open(self) -> bool:
        """A seat offered that the family may still accept or decline."""
        return self.status == EnrolmentStatus.OFFERED and not self.offer_lapsed

    @property
    def group_over(self) -> bool:
        """A place held to the end of a group that has ended (not cancelled by the lab)."""
        return (
            self.status == EnrolmentStatus.ENROLLED
            and self.cohort.status != CohortStatus.CANCELLED
            and not self.cohort.is_running()
        )

    @property
    def amount_due_centimes(self) -> int:
        """What the family owes for this enrolment, before payments.

        A seat held (enrolled, or offered once accepted) is owed. A child who never held a
        seat owes nothing. A child whose seat ended owes nothing when the lab ended it (the
        cohort or the enrolment cancelled, an offer that lapsed) or when the parents withdrew
        before the first day; a withdrawal once the cohort has started keeps the fee due.
        Money paid beyond what is owed shows as a negative balance: a refund to settle.
        """
        fee = self.fee_centimes - self.discount_centimes - self.waiver_centimes
        if self.status in SEAT_STATUSES:
            return fee
        if self.enrolled_at is None or self.status == EnrolmentStatus.CANCELLED:
            return 0
        if self.ended_at is not None and self.ended_at.astimezone(lab_zone()).date() < (
            self.cohort.start_date
        ):
            return 0
        return fee

    @property
    def paid_centimes(self) -> int:
        """What the family paid and kept: payments less the credit notes (refunds) on them."""
        return sum(payment.kept_centimes for payment in self.payments)

    @property
    def balance_centimes(self) -> int:
        """Still to pay (negative: paid too much)."""
        return self.amount_due_centimes - self.paid_centimes


class PrerequisiteWaiver(db.Model):
    """A coordinator lets a child join a course without a prerequisite's certificate."""

    __tablename__ = "prerequisite_waivers"
    __table_args__ = (UniqueConstraint("child_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    child: Mapped[Child] = relationship()
    course: Mapped[Course] = relationship()
    granted_by: Mapped[User | None] = relationship()


class PaymentMethod(LabelledEnum):
    CASH = "cash", _l("Cash")
    BANK_TRANSFER = "bank_transfer", _l("Bank transfer")
    CARD = "card", _l("Card")


class Payment(db.Model):
    """Money received for an enrolment: recorded by a coordinator, by the card gateway's
    callback (``card_order_id``) or by a confirmed line of a bank statement."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_centimes > 0", name="amount_positive"),
        CheckConstraint(f"method IN ({_sql_list(PaymentMethod)})", name="method_known"),
        # A card order, or a statement line, pays each enrolment at most once: a callback
        # delivered again, or a line confirmed twice, records nothing more.
        UniqueConstraint("card_order_id", "enrolment_id", name="one_per_card_order"),
        UniqueConstraint("statement_line_id", "enrolment_id", name="one_per_statement_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="RESTRICT"), index=True
    )
    amount_centimes: Mapped[int]
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(80))
    paid_on: Mapped[date] = mapped_column(Date)
    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    card_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("card_orders.id", ondelete="RESTRICT")
    )
    statement_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("statement_lines.id", ondelete="RESTRICT")
    )

    enrolment: Mapped[Enrolment] = relationship(back_populates="payments")
    recorded_by: Mapped[User | None] = relationship()
    credit_notes: Mapped[list[CreditNote]] = relationship(
        back_populates="payment", order_by="CreditNote.id", lazy="selectin"
    )

    @property
    def refunded_centimes(self) -> int:
        return sum(note.amount_centimes for note in self.credit_notes)

    @property
    def kept_centimes(self) -> int:
        """The payment less what its credit notes gave back: what may still be refunded."""
        return self.amount_centimes - self.refunded_centimes


class CreditNote(db.Model):
    """Money given back on a payment (a withdrawal before the start, a group cancelled), with
    its own number in the year's credit-note sequence. The payment itself is never edited:
    a credit note is written beside it, and balances subtract it."""

    __tablename__ = "credit_notes"
    __table_args__ = (CheckConstraint("amount_centimes > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), index=True
    )
    amount_centimes: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500))
    issued_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="credit_notes")
    created_by: Mapped[User | None] = relationship()


class CardOrderStatus(LabelledEnum):
    PENDING = "pending", _l("Waiting for the bank")
    PAID = "paid", _l("Paid")
    DECLINED = "declined", _l("Declined by the bank")


class CardOrder(db.Model):
    """A card payment sent to the CMI gateway: what it pays, and what the bank answered.

    Only the gateway's signed server-to-server callback moves it out of ``pending``.
    """

    __tablename__ = "card_orders"
    __table_args__ = (
        CheckConstraint("amount_centimes > 0", name="amount_positive"),
        CheckConstraint(f"status IN ({_sql_list(CardOrderStatus)})", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32), unique=True)  # CMI's "oid"
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    amount_centimes: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default=CardOrderStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_code: Mapped[str | None] = mapped_column(String(4))  # ProcReturnCode
    transaction_id: Mapped[str | None] = mapped_column(String(64))  # CMI's TransId

    payer: Mapped[User | None] = relationship()
    lines: Mapped[list[CardOrderLine]] = relationship(
        back_populates="order", order_by="CardOrderLine.id", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(order_by="Payment.id", viewonly=True)


class CardOrderLine(db.Model):
    """The part of a card order that pays one enrolment."""

    __tablename__ = "card_order_lines"
    __table_args__ = (
        UniqueConstraint("card_order_id", "enrolment_id"),
        CheckConstraint("amount_centimes > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_order_id: Mapped[int] = mapped_column(ForeignKey("card_orders.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="RESTRICT"))
    amount_centimes: Mapped[int]

    order: Mapped[CardOrder] = relationship(back_populates="lines")
    enrolment: Mapped[Enrolment] = relationship()


class BankCsvMapping(db.Model):
    """Which columns of a bank's CSV statement hold what, remembered per bank."""

    __tablename__ = "bank_csv_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank: Mapped[str] = mapped_column(String(60), unique=True)
    date_column: Mapped[str] = mapped_column(String(60))
    amount_column: Mapped[str] = mapped_column(String(60))
    text_column: Mapped[str] = mapped_column(String(60))
    name_column: Mapped[str | None] = mapped_column(String(60))
    reference_column: Mapped[str | None] = mapped_column(String(60))
    date_format: Mapped[str] = mapped_column(String(20), default="%d/%m/%Y")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class StatementLineStatus(LabelledEnum):
    UNMATCHED = "unmatched", _l("Not matched")
    SUGGESTED = "suggested", _l("Match to confirm")
    CONFIRMED = "confirmed", _l("Confirmed")
    IGNORED = "ignored", _l("Not a family's payment")


class MatchBasis(LabelledEnum):
    REFERENCE = "reference", _l("Transfer reference")
    AMOUNT_AND_NAME = "amount_name", _l("Amount and name")


class StatementLine(db.Model):
    """A credit on the lab's bank account, imported from a statement, waiting to be matched.

    ``fingerprint`` identifies the line across imports (the bank's own reference when it gives
    one, else its date, amount, text and rank among identical lines): importing the same
    statement again adds nothing.
    """

    __tablename__ = "statement_lines"
    __table_args__ = (
        CheckConstraint(f"status IN ({_sql_list(StatementLineStatus)})", name="status_known"),
        CheckConstraint("amount_centimes > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(60))  # the bank, or "camt.053"
    booked_on: Mapped[date] = mapped_column(Date)
    amount_centimes: Mapped[int]
    payer_name: Mapped[str | None] = mapped_column(String(140))
    text: Mapped[str] = mapped_column(String(500), default="")
    bank_reference: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(
        String(10), default=StatementLineStatus.UNMATCHED, index=True
    )
    match_basis: Mapped[str | None] = mapped_column(String(12))
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    term_key: Mapped[str | None] = mapped_column(String(12))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    payer: Mapped[User | None] = relationship(foreign_keys=[payer_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    payments: Mapped[list[Payment]] = relationship(order_by="Payment.id", viewonly=True)
