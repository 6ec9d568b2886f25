"""Queue e-mails inside the caller's transaction; deliver them after it commits."""

from __future__ import annotations

import logging
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session

from lms.database import utcnow
from lms.extensions import db
from lms.i18n import babel_locale_for
from lms.notifications.models import OutboxAttachment, OutboxMessage, OutboxStatus
from lms.notifications.transports import get_transport

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
_SESSION_KEY = "lms_outbox_new_ids"


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
    db.session.info.setdefault(_SESSION_KEY, []).append(message.id)
    return message


def queue_email_to_user(user, template: str, **context) -> OutboxMessage:
    """Queue ``template`` for a user, in the user's own language."""
    return queue_email(
        to=user.email,
        template=template,
        language=user.locale,
        user_id=user.id,
        user=user,
        **context,
    )


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, to retry {self.retried}, failed {self.failed}"


def _due(now: datetime):
    return (
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 1, 2, 4, ... minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


def deliver_due(*, limit: int = 100, only_ids: list[int] | None = None) -> DeliveryReport:
    """Send due messages. Commits: each message is claimed, sent, and recorded on its own.

    Safe with several workers: a message is claimed by an atomic conditional UPDATE, so two
    workers never send the same one, and the SMTP conversation happens outside any transaction.
    """
    now = utcnow()
    candidates = select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.id)
    if only_ids is not None:
        candidates = candidates.where(OutboxMessage.id.in_(only_ids))
    ids = list(db.session.scalars(candidates.limit(limit)))
    if not ids:
        db.session.rollback()
        return DeliveryReport()
    claimed = list(
        db.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), *_due(now))
            .values(claimed_until=now + CLAIM_LEASE)
            .returning(OutboxMessage.id)
        )
    )
    db.session.commit()

    report = DeliveryReport()
    transport = get_transport()
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    for message_id in sorted(claimed):
        message = db.session.get(OutboxMessage, message_id)
        try:
            transport.send(message)
        except Exception as error:  # any transport failure is recorded and retried
            message.attempts += 1
            message.last_error = f"{type(error).__name__}: {error}"[:500]
            message.claimed_until = None
            if message.attempts >= max_attempts:
                message.status = OutboxStatus.FAILED
                report.failed += 1
            else:
                message.next_attempt_at = utcnow() + backoff(message.attempts)
                report.retried += 1
            log.warning("outbox message %s not delivered: %s", message.id, type(error).__name__)
        else:
            message.attempts += 1
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            message.claimed_until = None
            message.last_error = None
            report.sent += 1
        db.session.commit()
    return report


def retry_message(message: OutboxMessage) -> OutboxMessage:
    """Put a failed (or waiting) message back in the queue, due now."""
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = utcnow()
    message.claimed_until = None
    db.session.flush()
    db.session.info.setdefault(_SESSION_KEY, []).append(message.id)
    return message


def outbox_backlog() -> int:
    """Messages still waiting to leave."""
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    )


# ---------------------------------------------------------------------------------------------
# Delivery right after commit


def _deliver_in_background(app: Flask, ids: list[int]) -> None:
    with app.app_context():
        try:
            deliver_due(only_ids=ids)
        except Exception:
            # The send-mail worker will pick these up; never let a thread die noisily.
            log.exception("delivery after commit failed; the worker will retry")
        finally:
            db.session.remove()


# SQLAlchemy sends after_commit and after_rollback for savepoints too (begin_nested). A
# released savepoint commits nothing yet: the messages wait for the whole transaction (a
# delivery thread started then would find no row to send). A savepoint rolled back keeps the
# list: the rows it removed are skipped at delivery, which sends only pending messages.


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    ids = session.info.pop(_SESSION_KEY, None)
    if not ids:
        return
    app = current_app._get_current_object()
    if app.config["MAIL_DELIVER_AFTER_COMMIT"]:
        threading.Thread(
            target=_deliver_in_background, args=(app, ids), name="outbox", daemon=True
        ).start()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.info.pop(_SESSION_KEY, None)
