"""Delivery of the outbox: the worker's side, which owns its transactions.

Request code only queues (lms/notifications/services.py) inside the caller's transaction and
never commits. Delivery is a worker -- `flask lms worker`, `flask lms send-mail` from cron, and
a thread started right after a request's transaction commits -- so it commits for itself: a
batch is claimed with a lease (committed), each message is marked as being sent (committed)
before its provider is called and recorded (committed) after. A message found marked but not
recorded once its lease ran out was being sent when its worker died: it is never sent again
(it may have left), and the next channel of its family takes over.

A message goes to a family on several channels as rows sharing a ``message_key``: the first
leaves, the others are held; a held row is released when the one before it fails, is refused,
is not allowed any more (consent withdrawn) or, for WhatsApp and SMS, is not reported delivered
within WHATSAPP_DELIVERY_TIMEOUT_SECONDS; it is dropped once an earlier row has reached the family.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, event, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from lms.database import utcnow
from lms.extensions import db
from lms.notifications import hooks
from lms.notifications.deferred import render_pending
from lms.notifications.models import (
    PHONE_CHANNELS,
    REACHED_STATUSES,
    Channel,
    OutboxMessage,
    OutboxStatus,
)
from lms.notifications.services import NEW_IDS_KEY
from lms.notifications.transports import Refused, channel_is_live, get_transport, transport_for

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)

# Messages that go to a number without a consent: the confirmation that a STOP was heard,
# and the operator's own test.
CONSENT_FREE_TEMPLATES = frozenset({"opt_out_confirmed", "test_message"})


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        text = f"sent {self.sent}, to retry {self.retried}, failed {self.failed}"
        return f"{text}, not sent {self.skipped}" if self.skipped else text


def _due(now: datetime):
    return (
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 1, 2, 4, ... minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


class Pacer:
    """At most ``rate`` calls per second to one provider, from this worker."""

    def __init__(self, rate: float) -> None:
        self.interval = 1 / rate if rate and rate > 0 else 0.0
        self.last = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        pause = self.last + self.interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self.last = time.monotonic()


def _pacers() -> dict[str, Pacer]:
    config = current_app.config
    return {
        Channel.EMAIL: Pacer(0),
        Channel.WHATSAPP: Pacer(config["WHATSAPP_RATE_PER_SECOND"]),
        Channel.SMS: Pacer(config["SMS_RATE_PER_SECOND"]),
    }


def _sms_status_callback() -> str | None:
    if not channel_is_live(Channel.SMS):
        return None
    return f"{current_app.config['BASE_URL'].rstrip('/')}/webhooks/sms"


def deliver_due(*, limit: int = 100, only_ids: list[int] | None = None) -> DeliveryReport:
    """Send due messages. Commits: each message is claimed, sent, and recorded on its own.

    Safe with several workers: a message is claimed by an atomic conditional UPDATE, so two
    workers never send the same one, and the provider is called outside any transaction.
    """
    give_up_interrupted()
    release_undelivered()
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
    transports: dict[str, object] = {}
    pacers = _pacers()
    for message_id in sorted(claimed):
        message = db.session.get(OutboxMessage, message_id)
        if message.status != OutboxStatus.PENDING:  # skipped since the claim (a consent gone)
            db.session.rollback()
            continue
        refusal = _not_allowed(message)
        if refusal:
            _close(message, OutboxStatus.SKIPPED, refusal)
            report.skipped += 1
            db.session.commit()
            continue
        if message.channel not in transports:
            transports[message.channel] = (
                get_transport()
                if message.channel == Channel.EMAIL
                else transport_for(message.channel, sms_status_callback=_sms_status_callback())
            )
        pacers[message.channel].wait()
        message.attempt_started_at = utcnow()
        db.session.commit()
        _attempt(message, transports[message.channel], report)
        db.session.commit()
    return report


def _not_allowed(message: OutboxMessage) -> str | None:
    """Why a message may not go to its phone number (no consent in force), or None."""
    if message.channel not in PHONE_CHANNELS or message.template in CONSENT_FREE_TEMPLATES:
        return None
    if message.consent_id is None or not hooks.consent_in_force(message.consent_id):
        return "no consent in force for this number"
    return None


def _attempt(message: OutboxMessage, transport, report: DeliveryReport) -> None:
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    try:
        render_pending(message)  # the text of a message the request left to the worker
        sent = transport.send(message)
    except Refused as error:
        message.attempts += 1
        _close(message, OutboxStatus.FAILED, f"refused: {error}")
        report.failed += 1
        log.warning("outbox message %s refused by the provider", message.id)
    except Exception as error:  # any other transport failure is recorded and retried
        message.attempts += 1
        message.last_error = f"{type(error).__name__}: {error}"[:500]
        message.claimed_until = None
        message.attempt_started_at = None
        if message.attempts >= max_attempts:
            _close(message, OutboxStatus.FAILED, message.last_error)
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
        message.attempt_started_at = None
        message.last_error = None
        if sent is not None:
            message.provider_message_id = sent.provider_message_id
            message.provider_answer = sent.answer[:500] or None
        # An e-mail counts as reached once accepted, and so does a message written to the log
        # (development: no status will come); WhatsApp and SMS wait for their "delivered"
        # status, or for the timeout, before the next channel goes.
        if message.channel == Channel.EMAIL or not channel_is_live(message.channel):
            drop_fallbacks(message)
        report.sent += 1


def _close(message: OutboxMessage, status: str, reason: str) -> None:
    """End a row that did not reach its family, and let the next channel go."""
    message.status = status
    message.last_error = reason[:500]
    message.claimed_until = None
    message.attempt_started_at = None
    release_fallback(message)


def release_fallback(message: OutboxMessage) -> OutboxMessage | None:
    """Let the next held channel of ``message``'s family go now; once per row."""
    if not message.message_key:
        return None
    taken = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.fallback_released.is_(False))
        .values(fallback_released=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    message.fallback_released = True
    if not taken:
        return None
    following = db.session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.message_key == message.message_key,
            OutboxMessage.status == OutboxStatus.HELD,
            OutboxMessage.fallback_rank > message.fallback_rank,
        )
        .order_by(OutboxMessage.fallback_rank)
        .limit(1)
    )
    if following is None:
        return None
    following.status = OutboxStatus.PENDING
    following.next_attempt_at = utcnow()
    db.session.flush()
    db.session.info.setdefault(NEW_IDS_KEY, []).append(following.id)
    log.info("outbox message %s goes by %s instead", message.id, following.channel)
    return following


def drop_fallbacks(message: OutboxMessage) -> int:
    """``message`` reached its family: its held fallbacks will not be needed."""
    if not message.message_key:
        return 0
    return db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.message_key == message.message_key,
            OutboxMessage.status == OutboxStatus.HELD,
        )
        .values(status=OutboxStatus.SKIPPED, last_error="reached on another channel")
        .execution_options(synchronize_session=False)
    ).rowcount


def give_up_interrupted() -> int:
    """Messages whose worker died while sending them: never sent again, the next channel goes."""
    now = utcnow()
    stuck = list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.attempt_started_at.is_not(None),
                OutboxMessage.claimed_until < now,
            )
        )
    )
    for message in stuck:
        message.attempts += 1
        _close(
            message,
            OutboxStatus.FAILED,
            "interrupted while sending: not sent again, it may have left once",
        )
        log.warning("outbox message %s was interrupted while sending; not retried", message.id)
    db.session.commit()
    return len(stuck)


def release_undelivered() -> int:
    """WhatsApp and SMS messages not delivered in time: the next channel of the family goes."""
    deadline = utcnow() - timedelta(seconds=current_app.config["WHATSAPP_DELIVERY_TIMEOUT_SECONDS"])
    late = list(
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.channel.in_(PHONE_CHANNELS),
                OutboxMessage.status == OutboxStatus.SENT,
                OutboxMessage.sent_at < deadline,
                OutboxMessage.message_key.is_not(None),
                OutboxMessage.fallback_released.is_(False),
            )
        )
    )
    released = sum(1 for message in late if release_fallback(message) is not None)
    db.session.commit()
    return released


# ---------------------------------------------------------------------------------------------
# What the providers tell afterwards (status webhooks)


def record_status(channel: str, provider_message_id: str, status: str, error: str = "") -> bool:
    """A provider's news about a message it took: delivered, or failed. Idempotent."""
    message = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.channel == channel,
            OutboxMessage.provider_message_id == provider_message_id,
        )
    )
    if message is None:
        return False
    if status in ("delivered", "read"):
        if message.delivered_at is None:
            message.delivered_at = utcnow()
        if message.status == OutboxStatus.SENT:
            message.status = OutboxStatus.DELIVERED
            drop_fallbacks(message)
        return True
    if status in ("failed", "undelivered") and message.status == OutboxStatus.SENT:
        _close(message, OutboxStatus.FAILED, f"{status}: {error}" if error else status)
        return True
    return False


# ---------------------------------------------------------------------------------------------
# Figures for the coordinators


def channel_figures() -> dict[str, dict[str, int]]:
    """Per channel: messages sent (and not yet confirmed), delivered, failed; and the urgent
    messages that reached their family on no channel (``not_reached``), counted under the
    channel tried first."""
    rows = db.session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count())
        .where(
            OutboxMessage.status.in_(
                (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.FAILED)
            )
        )
        .group_by(OutboxMessage.channel, OutboxMessage.status)
    )
    figures = {
        channel.value: dict.fromkeys(("sent", "delivered", "failed", "not_reached"), 0)
        for channel in Channel
    }
    for channel, status, count in rows:
        figures[channel][status] = count
    first_rows = not_reached_query().order_by(None).subquery()
    for channel, count in db.session.execute(
        select(first_rows.c.channel, func.count()).group_by(first_rows.c.channel)
    ):
        figures[channel]["not_reached"] = count
    return figures


def not_reached_query():
    """The first row of each urgent message that reached no channel and has none left to try."""
    other = aliased(OutboxMessage)
    return (
        select(OutboxMessage)
        .where(
            OutboxMessage.urgent.is_(True),
            OutboxMessage.fallback_rank == 0,
            ~exists().where(
                and_(
                    or_(
                        and_(
                            other.message_key.is_not(None),
                            other.message_key == OutboxMessage.message_key,
                        ),
                        other.id == OutboxMessage.id,
                    ),
                    other.status.in_((*REACHED_STATUSES, OutboxStatus.PENDING, OutboxStatus.HELD)),
                )
            ),
        )
        .order_by(OutboxMessage.id.desc())
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
