"""Delivery of the outbox: the worker's side, which owns its transactions.

Request code only queues (lms/notifications/services.py) inside the caller's transaction and
never commits. Delivery is a worker -- `flask lms send-mail` from cron, and a thread started
right after a request's transaction commits -- so it commits for itself: each message is
claimed (committed) before the SMTP conversation and recorded (committed) after it, so that a
crash half-way never sends a message twice or loses the record of one sent.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from lms.database import utcnow
from lms.extensions import db
from lms.notifications.deferred import render_pending
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.notifications.services import NEW_IDS_KEY
from lms.notifications.transports import get_transport

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)


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
            render_pending(message)  # the text of a message the request left to the worker
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
    ids = session.info.pop(NEW_IDS_KEY, None)
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
    session.info.pop(NEW_IDS_KEY, None)
