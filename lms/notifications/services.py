"""Queue e-mails inside the caller's transaction (never committing it); lms/notifications/
delivery.py sends them once it has committed."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import func, select

from lms.database import utcnow
from lms.extensions import db
from lms.i18n import babel_locale_for
from lms.notifications.models import OutboxAttachment, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# The ids of the messages queued in a session's transaction, for delivery after its commit.
NEW_IDS_KEY = "lms_outbox_new_ids"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def render_email(template: str, language: str, **context) -> tuple[str, str]:
    """Render ``notifications/email/<template>.txt`` in ``language``: (subject, body).

    The template's first line is ``Subject: ...``, then a blank line, then the body.
    Outside a request (the CLI), links are built against BASE_URL.
    """
    app = current_app._get_current_object()
    request_context = (
        nullcontext()
        if has_request_context()
        else app.test_request_context(base_url=app.config["BASE_URL"])
    )
    with request_context, force_locale(babel_locale_for(language)):
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
    **context,
) -> OutboxMessage:
    """Write an e-mail to the outbox in the current transaction; it leaves after commit."""
    subject, body = render_email(template, language, **context)
    message = OutboxMessage(
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
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(NEW_IDS_KEY, []).append(message.id)
    return message


def queue_email_to_user(user, template: str, **context) -> OutboxMessage:
    """Queue ``template`` for a user, in the user's own language."""
    message = queue_email(
        to=user.email,
        template=template,
        language=user.locale,
        user_id=user.id,
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
