"""Queue messages (e-mail, WhatsApp, SMS) inside the caller's transaction (never committing
it); lms/notifications/delivery.py sends them once it has committed."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale
from sqlalchemy import func, select

from lms.database import utcnow
from lms.extensions import db
from lms.i18n import babel_locale_for
from lms.notifications.models import (
    Channel,
    OutboxAttachment,
    OutboxMessage,
    OutboxStatus,
)
from lms.notifications.short import short_message

log = logging.getLogger(__name__)

# The ids of the messages queued in a session's transaction, for delivery after its commit.
NEW_IDS_KEY = "lms_outbox_new_ids"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def _request_context():
    """Outside a request (the CLI, the worker), links are built against BASE_URL."""
    if has_request_context():
        return nullcontext()
    app = current_app._get_current_object()
    return app.test_request_context(base_url=app.config["BASE_URL"])


def external_url(endpoint: str, **values) -> str:
    """The full address of a page, for a message (also from the worker or the CLI)."""
    with _request_context():
        return url_for(endpoint, _external=True, **values)


def render_email(template: str, language: str, **context) -> tuple[str, str]:
    """Render ``notifications/email/<template>.txt`` in ``language``: (subject, body).

    The template's first line is ``Subject: ...``, then a blank line, then the body.
    Outside a request (the CLI), links are built against BASE_URL.
    """
    with _request_context(), force_locale(babel_locale_for(language)):
        text = render_template(f"notifications/email/{template}.txt", language=language, **context)
    head, _, body = text.lstrip().partition("\n")
    if not head.startswith("Subject:"):
        raise ValueError(f"e-mail template {template!r} must start with 'Subject:'")
    return head.removeprefix("Subject:").strip(), body.strip() + "\n"


def queue_email(
    *,
    to: str,
    template: str,
    language: str,
    user_id: int | None = None,
    attachments: tuple[Attachment, ...] = (),
    routing: Routing | None = None,
    **context,
) -> OutboxMessage:
    """Write an e-mail to the outbox in the current transaction; it leaves after commit."""
    subject, body = render_email(template, language, **context)
    message = OutboxMessage(
        **(routing or Routing()).columns(),
        channel=Channel.EMAIL,
        recipient=to,
        recipient_user_id=user_id,
        template=template,
        language=language,
        subject=subject[:200],
        body=body,
        attachments=[
            OutboxAttachment(filename=a.filename, content_type=a.content_type, content=a.content)
            for a in attachments
        ],
    )
    return add_to_outbox(message)


def queue_short(
    *,
    channel: str,
    to: str,
    template: str,
    language: str,
    values: dict,
    user_id: int | None = None,
    consent_id: int | None = None,
    routing: Routing | None = None,
    free_form: bool = False,
) -> OutboxMessage:
    """Write a WhatsApp or SMS message to the outbox in the current transaction.

    WhatsApp goes as the template registered with Meta (the only kind that may open a
    conversation) unless ``free_form``, allowed inside the 24 hours after the family wrote.
    """
    body, parameters = short_message(template).render(language, values)
    prefix = current_app.config["WHATSAPP_TEMPLATE_PREFIX"]
    message = OutboxMessage(
        **(routing or Routing()).columns(),
        channel=channel,
        recipient=to,
        recipient_user_id=user_id,
        consent_id=consent_id,
        template=template,
        language=language,
        subject="",
        body=body,
        provider_template=(
            f"{prefix}{template}" if channel == Channel.WHATSAPP and not free_form else None
        ),
        parameters=parameters,
    )
    return add_to_outbox(message)


@dataclass(frozen=True)
class Routing:
    """Where a row stands among the channels of one message."""

    message_key: str | None = None
    rank: int = 0
    held: bool = False  # a fallback, released if the channels before it do not reach
    urgent: bool = False
    topic: str | None = None

    def columns(self) -> dict:
        return {
            "message_key": self.message_key,
            "fallback_rank": self.rank,
            "status": OutboxStatus.HELD if self.held else OutboxStatus.PENDING,
            "urgent": self.urgent,
            "topic": self.topic,
        }


def add_to_outbox(message: OutboxMessage) -> OutboxMessage:
    """Add a row written by one of the queue functions; a pending one leaves after commit."""
    db.session.add(message)
    db.session.flush()
    if message.status == OutboxStatus.PENDING:
        db.session.info.setdefault(NEW_IDS_KEY, []).append(message.id)
    return message


def queue_email_to_user(
    user, template: str, *, routing: Routing | None = None, **context
) -> OutboxMessage:
    """Queue ``template`` for a user, in the user's own language."""
    message = queue_email(
        to=user.email,
        template=template,
        language=user.locale,
        user_id=user.id,
        routing=routing,
        user=user,
        **context,
    )
    message.unconfirmed_address = not getattr(user, "email_confirmed", True)
    return message


def retry_message(message: OutboxMessage) -> OutboxMessage:
    """Put a failed (or waiting) message back in the queue, due now."""
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = utcnow()
    message.claimed_until = None
    db.session.flush()
    db.session.info.setdefault(NEW_IDS_KEY, []).append(message.id)
    return message


def outbox_backlog() -> int:
    """Messages still waiting to leave."""
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    )
