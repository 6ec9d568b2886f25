"""A message written to families, who received it, and which cohorts it concerned."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.courses.models import Cohort, Course
from lms.database import UTCDateTime, utcnow
from lms.extensions import db
from lms.labels import LabelledEnum
from lms.notifications.models import InboundMessage, OutboxMessage

SUBJECT_MAX = 150
BODY_MAX = 5000
# A reply from the inbox: within one WhatsApp template parameter (Meta allows 1024 characters
# for the template's whole body) and a few SMS segments.
REPLY_MAX = 900


class Audience(LabelledEnum):
    # The parents of the children holding a seat in one cohort.
    COHORT = "cohort", _l("The families of a cohort")
    # ... in every cohort of a course that starts in one term.
    COURSE = "course", _l("The families of every cohort of a course this term")
    # The parents of every child on a waiting list.
    WAITING_LISTS = "waiting_lists", _l("Every family with a child on a waiting list")


message_cohorts = Table(
    "message_cohorts",
    db.metadata,
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_message_cohorts_cohort_id", "cohort_id"),
)


class Message(db.Model):
    """A copy of what was sent: by whom, to which audience, when, to how many parents."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("audience IN ('cohort', 'course', 'waiting_lists')", name="audience_known"),
        CheckConstraint(
            "(audience = 'cohort' AND cohort_id IS NOT NULL) "
            "OR (audience = 'course' AND course_id IS NOT NULL AND term_key IS NOT NULL) "
            "OR audience = 'waiting_lists'",
            name="audience_complete",
        ),
        CheckConstraint("recipient_count >= 0", name="recipient_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    audience: Mapped[str] = mapped_column(String(20))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    term_key: Mapped[str | None] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    recipient_count: Mapped[int] = mapped_column(default=0)

    author: Mapped[User | None] = relationship()
    cohort: Mapped[Cohort | None] = relationship()
    course: Mapped[Course | None] = relationship()
    cohorts: Mapped[list[Cohort]] = relationship(secondary=message_cohorts, order_by="Cohort.id")

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.audience}>"


class MessageRecipient(db.Model):
    """A parent the message was sent to (what their dashboard lists)."""

    __tablename__ = "message_recipients"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    message: Mapped[Message] = relationship()


class InboxReply(db.Model):
    """What a member of staff answered, from the inbox, to a message a family sent: the words
    as written, and the outbox row that carries them (free-form, or the reply template)."""

    __tablename__ = "inbox_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_message_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="CASCADE"), index=True
    )
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    # Sent as typed (inside the 24 hours after the family wrote), else inside the template.
    free_form: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    inbound_message: Mapped[InboundMessage] = relationship()
    outbox_message: Mapped[OutboxMessage | None] = relationship()
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<InboxReply {self.id} to {self.inbound_message_id}>"
