"""The staff's inbox: what families sent back by WhatsApp or SMS, read by the coordinators and
by the instructors of the families' groups, and the replies sent from it through the outbox.

WhatsApp allows a free-form message only inside the 24 hours after the family last wrote; after
that only a template registered with Meta may open the conversation again, so a late reply goes
inside the ``staff_reply`` template ("Active Labs: {text}", README). SMS has no such window, but
follows the same rule so that a family reads the same thing on either channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.contact import consents_in_force
from lms.accounts.models import User
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.messaging.models import REPLY_MAX, InboxReply
from lms.messaging.permissions import taught_families
from lms.messaging.services import clean_body
from lms.notifications.models import Channel, InboundMessage
from lms.notifications.services import Routing, queue_short

# How long after the family's last message on a channel a reply may go as typed.
FREE_FORM_WINDOW = timedelta(hours=24)
REPLY_TEMPLATE = "staff_reply"


def visible_replies(user: User) -> Select:
    """The families' messages ``user`` may read, newest first (a STOP is not a reply)."""
    query = (
        select(InboundMessage)
        .where(InboundMessage.opt_out.is_(False))
        .options(selectinload(InboundMessage.in_reply_to))
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
    )
    if not user.is_coordinator:
        query = query.where(InboundMessage.sender_user_id.in_(taught_families(user)))
    return query


def unread_count(user: User) -> int:
    """How many of the messages ``user`` may read nobody has read yet."""
    visible = visible_replies(user).where(InboundMessage.read_at.is_(None)).order_by(None)
    return db.session.scalar(select(func.count()).select_from(visible.subquery())) or 0


@dataclass(frozen=True)
class ThreadItem:
    """One line of a family's thread: what they wrote, or what the staff answered."""

    at: datetime
    inbound: InboundMessage | None = None
    reply: InboxReply | None = None


def thread(family: User) -> list[ThreadItem]:
    """What ``family`` wrote and what the staff answered from the inbox, oldest first."""
    inbound = list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.sender_user_id == family.id, InboundMessage.opt_out.is_(False))
            .options(selectinload(InboundMessage.in_reply_to))
        )
    )
    replies = list(
        db.session.scalars(
            select(InboxReply)
            .join(InboundMessage, InboundMessage.id == InboxReply.inbound_message_id)
            .where(InboundMessage.sender_user_id == family.id)
            .options(selectinload(InboxReply.author), selectinload(InboxReply.outbox_message))
        )
    )
    items = [ThreadItem(m.received_at, inbound=m) for m in inbound]
    items += [ThreadItem(r.created_at, reply=r) for r in replies]
    return sorted(items, key=lambda item: (item.at, item.reply is not None))


def latest_message(family: User) -> InboundMessage | None:
    """The family's last message (a reply answers it, on its channel)."""
    return db.session.scalar(
        select(InboundMessage)
        .where(InboundMessage.sender_user_id == family.id, InboundMessage.opt_out.is_(False))
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(1)
    )


def window_open(message: InboundMessage, *, now: datetime | None = None) -> bool:
    """Whether the family wrote on ``message``'s channel, from its number, in the last 24 hours
    (a reply may then go as typed)."""
    last = db.session.scalar(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.channel == message.channel,
            InboundMessage.sender == message.sender,
        )
    )
    return last is not None and last >= (now or utcnow()) - FREE_FORM_WINDOW


def mark_read(family: User, *, actor: User) -> int:
    """Mark every unread message of ``family`` as read by ``actor``; returns how many."""
    unread = list(
        db.session.scalars(
            select(InboundMessage).where(
                InboundMessage.sender_user_id == family.id, InboundMessage.read_at.is_(None)
            )
        )
    )
    now = utcnow()
    for message in unread:
        message.read_at = now
        message.read_by_id = actor.id
    db.session.flush()
    return len(unread)


def reply(message: InboundMessage, *, actor: User, text: str | None) -> InboxReply:
    """Answer a family's message on its channel through the outbox: as typed inside the 24
    hours after the family last wrote there, else inside the reply template."""
    body = clean_body(text)
    if not body:
        raise DomainError(_l("Write the reply."), field="body")
    if len(body) > REPLY_MAX:
        raise DomainError(
            _l(
                "A reply holds at most %(max)d characters (this one has %(num)d).",
                max=REPLY_MAX,
                num=len(body),
            ),
            field="body",
        )
    family = db.session.get(User, message.sender_user_id) if message.sender_user_id else None
    if family is None:
        raise DomainError(_l("This number belongs to no family of the lab: no reply can go."))
    consent = consents_in_force(family).get(message.channel)
    if consent is None or consent.phone != message.sender:
        raise DomainError(
            _l(
                "This family no longer accepts messages by %(channel)s at this number; write "
                "to them by e-mail or call them.",
                channel=Channel(message.channel).label,
            )
        )
    free_form = window_open(message)
    row = queue_short(
        channel=message.channel,
        to=message.sender,
        template=REPLY_TEMPLATE,
        language=family.locale,
        values={"text": body},
        user_id=family.id,
        consent_id=consent.id,
        routing=Routing(topic=message.in_reply_to.topic if message.in_reply_to else None),
        free_form=free_form,
    )
    if free_form:
        row.body = body  # as typed, line breaks kept: the family is in the conversation
    answer = InboxReply(
        inbound_message_id=message.id,
        outbox_message=row,
        author_id=actor.id,
        body=body,
        free_form=free_form,
    )
    db.session.add(answer)
    now = utcnow()
    message.answered_at = now
    mark_read(family, actor=actor)
    db.session.flush()
    return answer


def _written_by(user: User):
    return or_(
        InboundMessage.sender_user_id == user.id,
        *([InboundMessage.sender == user.phone] if user.phone else []),
    )


def has_written(user: User) -> bool:
    """Whether the family sent the lab a message (a STOP aside)."""
    query = select(InboundMessage.id).where(_written_by(user), InboundMessage.opt_out.is_(False))
    return db.session.scalar(query.limit(1)) is not None


def forget_family(user: User) -> int:
    """An erased account's messages to the lab and the staff's answers to them go (they are
    the family's words and number); what the outbox sent keeps only its delivery record."""
    mine = _written_by(user)
    ids = select(InboundMessage.id).where(mine)
    db.session.execute(delete(InboxReply).where(InboxReply.inbound_message_id.in_(ids)))
    # A STOP stays: it is the proof that the number opted out.
    return db.session.execute(
        delete(InboundMessage).where(mine, InboundMessage.opt_out.is_(False))
    ).rowcount
