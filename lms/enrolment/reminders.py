"""Reminders of unpaid fees, sent by the worker on a schedule the lab sets.

``FEE_REMINDER_DAYS`` (``LMS_FEE_REMINDER_DAYS``) lists the steps, in the order they come:
``after_enrolment:3`` three days after the child got the seat, ``before_start:2`` two days
before the first lesson, ``after_start:3`` three days after it (an empty value: no reminder).
Each day the worker reminds the families of the enrolled places that still owe money: only
for the latest step whose day has come (a family who enrols the day before the start is not
sent the "after enrolment" reminder and the "before the start" one together), and each step
once per enrolment, held by a unique constraint claimed before the message is queued, so
that two workers never send it twice. A place paid in full (payments less credit notes),
waived, withdrawn or cancelled is reminded of nothing: the balance is read on the day of
sending. The message goes through notify(), in each guardian's language, naming the child
and the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, joinedload, mapped_column, selectinload

from lms.courses.models import Cohort, CohortStatus
from lms.courses.terms import term_of
from lms.database import UTCDateTime, utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.notices import guardians_of, tell_guardians
from lms.enrolment.seats import local_day
from lms.enrolment.transfers import transfer_reference
from lms.extensions import db

AFTER_ENROLMENT = "after_enrolment"
BEFORE_START = "before_start"
AFTER_START = "after_start"
STEPS = (AFTER_ENROLMENT, BEFORE_START, AFTER_START)


class FeeReminder(db.Model):
    """A reminder step sent for an enrolment (once: the unique constraint)."""

    __tablename__ = "fee_reminders"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "step"),
        CheckConstraint(
            "step IN ('after_enrolment', 'before_start', 'after_start')", name="step_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(20))
    balance_centimes: Mapped[int]  # what was still owed when it was sent
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@dataclass(frozen=True)
class Step:
    name: str
    days: int

    def day_for(self, enrolment: Enrolment) -> date | None:
        """The day this step reminds ``enrolment``'s family (None: it does not apply)."""
        start = enrolment.cohort.start_date
        if self.name == AFTER_ENROLMENT:
            if enrolment.enrolled_at is None:
                return None
            return local_day(enrolment.enrolled_at) + timedelta(days=self.days)
        if self.name == BEFORE_START:
            return start - timedelta(days=self.days)
        return start + timedelta(days=self.days)


def parse_schedule(text: str | None) -> list[Step]:
    """``"after_enrolment:3,before_start:2"`` as steps; ValueError naming what is wrong."""
    steps = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, days = part.partition(":")
        name = name.strip()
        if name not in STEPS:
            raise ValueError(f"FEE_REMINDER_DAYS: unknown step {name!r} (one of {STEPS})")
        try:
            number = int(days)
        except ValueError:
            raise ValueError(f"FEE_REMINDER_DAYS: {part!r} needs a number of days") from None
        if not 0 <= number <= 365:
            raise ValueError(f"FEE_REMINDER_DAYS: {part!r}: days between 0 and 365")
        steps.append(Step(name, number))
    return steps


def schedule() -> list[Step]:
    """The lab's reminder steps (FEE_REMINDER_DAYS)."""
    return parse_schedule(current_app.config["FEE_REMINDER_DAYS"])


def step_due(enrolment: Enrolment, steps: list[Step], today: date) -> Step | None:
    """The latest step whose day has come for ``enrolment`` (None: none yet)."""
    due = [(day, step) for step in steps if (day := step.day_for(enrolment)) and day <= today]
    return max(due, key=lambda item: item[0])[1] if due else None


def _owing_enrolments(today: date) -> list[Enrolment]:
    return [
        enrolment
        for enrolment in db.session.scalars(
            select(Enrolment)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(
                Enrolment.status == EnrolmentStatus.ENROLLED,
                Cohort.status != CohortStatus.CANCELLED,
                Cohort.end_date >= today,
            )
            .options(
                selectinload(Enrolment.payments),
                joinedload(Enrolment.cohort).joinedload(Cohort.course),
                joinedload(Enrolment.child),
            )
            .order_by(Enrolment.id)
        ).unique()
        if enrolment.balance_centimes > 0
    ]


def _claim(enrolment: Enrolment, step: Step) -> bool:
    """Write that ``step`` is sent for ``enrolment``; False if it already was."""
    insert = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    claimed = db.session.execute(
        insert(FeeReminder)
        .values(
            enrolment_id=enrolment.id,
            step=step.name,
            balance_centimes=enrolment.balance_centimes,
            sent_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["enrolment_id", "step"])
        .returning(FeeReminder.id)
    ).scalar()
    return claimed is not None


def send_fee_reminders(now: datetime | None = None) -> list[FeeReminder]:
    """Remind the families whose fees are unpaid, per the schedule (the worker's daily job);
    returns the reminders sent. The caller commits."""
    steps = schedule()
    if not steps:
        return []
    today = local_day(now or utcnow())
    sent = []
    for enrolment in _owing_enrolments(today):
        step = step_due(enrolment, steps, today)
        if step is None or not _claim(enrolment, step):
            continue
        term = term_of(enrolment.cohort.start_date)
        tell_guardians(
            enrolment.child,
            "fee_reminder",
            enrolment=enrolment,
            cohort=enrolment.cohort,
            balance=enrolment.balance_centimes,
            references={
                str(user.id): transfer_reference(user.id, term)
                for user in guardians_of(enrolment.child)
            },
        )
        sent.append(
            db.session.scalar(
                select(FeeReminder).where(
                    FeeReminder.enrolment_id == enrolment.id, FeeReminder.step == step.name
                )
            )
        )
    return sent
