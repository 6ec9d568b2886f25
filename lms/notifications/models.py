"""The outbox: messages (e-mail, WhatsApp, SMS) waiting to leave, what happened to them, and
the messages families send back."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import UTCDateTime, utcnow
from lms.extensions import db
from lms.labels import LabelledEnum


class Channel(LabelledEnum):
    EMAIL = "email", _l("E-mail")
    WHATSAPP = "whatsapp", _l("WhatsApp")
    SMS = "sms", _l("SMS")


PHONE_CHANNELS = (Channel.WHATSAPP, Channel.SMS)


class OutboxStatus(LabelledEnum):
    PENDING = "pending", _l("Waiting")
    # A fallback: leaves only if the channel before it fails or is not delivered in time.
    HELD = "held", _l("Held as fallback")
    SENT = "sent", _l("Sent")
    DELIVERED = "delivered", _l("Delivered")
    FAILED = "failed", _l("Failed")
    # Not needed (an earlier channel reached the family) or no longer allowed (consent withdrawn).
    SKIPPED = "skipped", _l("Not sent")


# A message has reached its family on a channel in one of these.
REACHED_STATUSES = (OutboxStatus.SENT, OutboxStatus.DELIVERED)


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'held', 'sent', 'delivered', 'failed', 'skipped')",
            name="status_known",
        ),
        CheckConstraint("channel IN ('email', 'whatsapp', 'sms')", name="channel_known"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        # One row per message and channel: a fallback is written once, released once.
        UniqueConstraint("message_key", "channel", name="one_row_per_channel"),
        UniqueConstraint("channel", "provider_message_id", name="provider_message_id_unique"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), default=Channel.EMAIL)
    # An e-mail address, or a phone number in E.164 for WhatsApp and SMS.
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The recipient's account had not confirmed this address when the message was written:
    # coordinators see such messages flagged (a seat offer may never be read).
    unconfirmed_address: Mapped[bool] = mapped_column(default=False)
    template: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # What the worker needs to write subject and body (lms/notifications/deferred.py); None
    # once written, or for a message written by the request itself.
    context_json: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A worker that takes a message holds it until this instant; another worker skips it.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The rows of one message on its channels share a key; ``fallback_rank`` orders them.
    message_key: Mapped[str | None] = mapped_column(String(64), index=True)
    fallback_rank: Mapped[int] = mapped_column(default=0)
    # Urgent messages (closures, seat offers, absences) must reach at least one channel.
    urgent: Mapped[bool] = mapped_column(default=False)
    # The consent in force that allows this row to go to a phone number (the ledger's row).
    consent_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_consents.id", ondelete="SET NULL")
    )
    # WhatsApp: the template registered with Meta and its body parameters; none: free-form
    # text, allowed only inside the 24 hours after the family last wrote.
    provider_template: Mapped[str | None] = mapped_column(String(80))
    parameters: Mapped[list | None] = mapped_column(JSON)
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    provider_answer: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the message is about, for the staff who may read the replies (``cohort:12``).
    topic: Mapped[str | None] = mapped_column(String(40), index=True)
    # Set (committed) just before the provider is called: a row found with it set after its
    # lease ran out was being sent when its worker died, and is never sent again.
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # This row has let the next channel go (failed, or not delivered in time): once only.
    fallback_released: Mapped[bool] = mapped_column(default=False)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.template} {self.status}>"


class OutboxAttachment(db.Model):
    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")


class InboundMessage(db.Model):
    """A message a family sent back by WhatsApp or SMS (a reply, or a STOP)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        # A webhook delivered twice (providers retry) stores its message once.
        UniqueConstraint("channel", "provider_message_id", name="one_row_per_event"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    sender: Mapped[str] = mapped_column(String(20))  # E.164
    sender_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    in_reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )
    # A STOP keyword: handled by the consent ledger, not shown as a reply.
    opt_out: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a member of staff first read it in the inbox (one shared inbox), and who.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    in_reply_to: Mapped[OutboxMessage | None] = relationship()

    def __repr__(self) -> str:
        return f"<InboundMessage {self.id} {self.channel}>"
