"""What families send back by WhatsApp or SMS: replies for the staff's inbox, and STOP."""

from __future__ import annotations

import re
import unicodedata

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.extensions import db
from lms.notifications import hooks
from lms.notifications.models import Channel, InboundMessage, OutboxMessage
from lms.notifications.services import Routing, queue_short

# Compared once lower-cased, without accents, punctuation or spaces (Twilio's list, French,
# Arabic: "stop", "cancel", "unsubscribe").
STOP_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "arret",
        "arreter",
        "desabonner",
        "desinscrire",
        "توقف",
        "قف",
        "الغاء",
        "إلغاء",
        "ايقاف",
        "إيقاف",
    }
)


def is_stop(text: str) -> bool:
    """Is ``text`` a request to stop (STOP, Arrêt, توقف, ...), and nothing more?"""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    # Drops Latin accents and Arabic short vowels alike (both are combining marks).
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    word = re.sub(r"[\W_]+", "", letters)
    return word in STOP_WORDS or unicodedata.normalize("NFC", word) in STOP_WORDS


def receive(
    *,
    channel: str,
    provider_message_id: str,
    sender: str,
    body: str,
    answers_provider_id: str | None = None,
) -> tuple[InboundMessage, bool]:
    """Store a message a family sent (once however often the provider delivers it) and act
    on a STOP; returns the message and whether it is new."""
    known = _known(channel, provider_message_id)
    if known is not None:
        return known, False
    answered = _answered(channel, sender, answers_provider_id)
    message = InboundMessage(
        channel=channel,
        provider_message_id=provider_message_id,
        sender=sender,
        sender_user_id=(
            answered.recipient_user_id
            if answered and answered.recipient_user_id
            else hooks.account_of_number(channel=channel, phone=sender)
        ),
        body=body[:4000],
        in_reply_to=answered,
        opt_out=is_stop(body),
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:  # the same event, delivered twice at once
        return _known(channel, provider_message_id), False
    if message.opt_out and hooks.opt_out(channel=channel, phone=sender, text=body):
        queue_short(
            channel=channel,
            to=sender,
            template="opt_out_confirmed",
            language=answered.language if answered else current_app.config["BABEL_DEFAULT_LOCALE"],
            values={
                "channel": Channel(channel).label,
                "link": url_for("accounts.contact_choices", _external=True),
            },
            user_id=message.sender_user_id,
            # Inside the 24 hours the family opened by writing: free-form is allowed.
            free_form=True,
            routing=Routing(message_key=f"opt-out:{message.id}"),
        )
    return message, True


def _known(channel: str, provider_message_id: str) -> InboundMessage | None:
    return db.session.scalar(
        select(InboundMessage).where(
            InboundMessage.channel == channel,
            InboundMessage.provider_message_id == provider_message_id,
        )
    )


def _answered(channel: str, sender: str, provider_id: str | None) -> OutboxMessage | None:
    """The message a reply answers: the one it quotes, else the last one sent to that number."""
    if provider_id:
        quoted = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.channel == channel,
                OutboxMessage.provider_message_id == provider_id,
            )
        )
        if quoted is not None:
            return quoted
    return db.session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.recipient == sender,
            OutboxMessage.sent_at.is_not(None),
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )
