"""How a family is reached: the channels each guardian chose per kind of message, the ledger of
consents to WhatsApp and SMS, and sending a message through them (lms/notifications queues and
delivers; it knows nothing of families, so the choice of channels is made here)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from babel.lists import format_list
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from lms.accounts.models import ContactConsent, ContactPreference, User
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.i18n import babel_locale_for
from lms.labels import LabelledEnum
from lms.notifications.deferred import queue_email_later
from lms.notifications.models import PHONE_CHANNELS, Channel, OutboxMessage
from lms.notifications.services import Attachment, Routing, queue_email_to_user, queue_short
from lms.notifications.short import SHORT_MESSAGES
from lms.phones import format_phone, is_mobile


class MessageKind(LabelledEnum):
    URGENT = "urgent", _l("Urgent: cancellations and closures, seat offers, absences, pickup")
    ROUTINE = "routine", _l("Routine: receipts, reminders, messages from the lab")


# The e-mail templates that are urgent; every other one is routine.
URGENT_TEMPLATES = frozenset(
    {
        "lesson_cancelled",
        "lesson_moved",
        "cohort_cancelled",
        "seat_offered",
        "attendance_absent",
        "incident_recorded",
    }
)

# The order channels are tried in: the first chosen leaves, the others wait as fallbacks.
CHANNEL_ORDER = (Channel.WHATSAPP, Channel.SMS, Channel.EMAIL)

SOURCE_PAGE = "page"
SOURCE_KEYWORD = "keyword"


def kind_of(template: str) -> MessageKind:
    """Whether messages of ``template`` are urgent or routine."""
    return MessageKind.URGENT if template in URGENT_TEMPLATES else MessageKind.ROUTINE


def consent_text(channel: str, phone: str, language: str | None = None) -> str:
    """The words a parent agrees to when they choose WhatsApp or SMS (kept in the ledger)."""
    text = _l(
        "I agree that Active Labs sends me messages about my children by %(channel)s at "
        "%(phone)s. I can stop them at any time from this page or by answering STOP.",
        channel=Channel(channel).label,
        phone=format_phone(phone),
    )
    if language is None:
        return str(text)
    with force_locale(babel_locale_for(language)):
        return str(text)


# ---------------------------------------------------------------------------------------------
# Reading the choices


def chosen_channels(user: User) -> dict[str, set[str]]:
    """Per kind of message, the channels ``user`` chose (e-mail alone until they choose)."""
    chosen: dict[str, set[str]] = {kind.value: set() for kind in MessageKind}
    for preference in db.session.scalars(
        select(ContactPreference).where(ContactPreference.user_id == user.id)
    ):
        chosen[preference.kind].add(preference.channel)
    for channels in chosen.values():
        if not channels:
            channels.add(Channel.EMAIL.value)
    return chosen


def consents_in_force(user: User) -> dict[str, ContactConsent]:
    """The consent in force per phone channel."""
    rows = db.session.scalars(
        select(ContactConsent)
        .where(ContactConsent.user_id == user.id, ContactConsent.withdrawn_at.is_(None))
        .order_by(ContactConsent.id)
    )
    return {consent.channel: consent for consent in rows}


def consent_history(user: User) -> list[ContactConsent]:
    """Every consent given and withdrawn, newest first (what the parent's page shows)."""
    return list(
        db.session.scalars(
            select(ContactConsent)
            .where(ContactConsent.user_id == user.id)
            .order_by(ContactConsent.granted_at.desc(), ContactConsent.id.desc())
        )
    )


def is_consent_in_force(consent_id: int) -> bool:
    """Has consent ``consent_id`` not been withdrawn? (Asked before every send to a phone.)"""
    consent = db.session.get(ContactConsent, consent_id)
    return consent is not None and consent.in_force


def account_of_number(*, channel: str, phone: str) -> int | None:
    """The guardian whose consent to ``channel`` at ``phone`` is in force (the latest given),
    or None: a family writing first is still recognised."""
    return db.session.scalar(
        select(ContactConsent.user_id)
        .where(
            ContactConsent.channel == channel,
            ContactConsent.phone == phone,
            ContactConsent.withdrawn_at.is_(None),
        )
        .order_by(ContactConsent.granted_at.desc(), ContactConsent.id.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------------------------
# Changing them


def save_contact_choices(
    user: User, *, phone: str | None, chosen: dict[str, Iterable[str]], actor: User
) -> User:
    """A guardian's channels per kind of message; opting in to WhatsApp or SMS is recorded."""
    chosen = {
        kind: {Channel(channel).value for channel in chosen.get(kind, ())} for kind in MessageKind
    }
    phone_channels = {channel for channels in chosen.values() for channel in channels} & {
        channel.value for channel in PHONE_CHANNELS
    }
    if phone_channels and not phone:
        raise DomainError(
            _l("Give a mobile number to receive messages by WhatsApp or SMS."), field="phone"
        )
    if phone_channels and not is_mobile(phone):
        raise DomainError(
            _l(
                "This number is a landline: it cannot receive WhatsApp or SMS. Give a mobile "
                "number, or choose e-mail."
            ),
            field="phone",
        )
    if chosen[MessageKind.URGENT] == set():
        raise DomainError(_l("Choose at least one way to reach you for urgent messages."))
    in_force = consents_in_force(user)
    for channel in PHONE_CHANNELS:
        consent = in_force.get(channel)
        wanted = channel in phone_channels
        if consent is not None and (not wanted or consent.phone != phone):
            _withdraw(consent, source=SOURCE_PAGE, text="contact page")
            consent = None
        if wanted and consent is None:
            db.session.add(
                ContactConsent(
                    user_id=user.id,
                    channel=channel,
                    phone=phone,
                    source=SOURCE_PAGE,
                    notice_version=current_app.config["CONTACT_NOTICE_VERSION"],
                    text_shown=consent_text(channel, phone, user.locale),
                )
            )
    db.session.execute(delete(ContactPreference).where(ContactPreference.user_id == user.id))
    for kind, channels in chosen.items():
        for channel in channels:
            db.session.add(ContactPreference(user_id=user.id, kind=kind, channel=channel))
    if phone and not user.phone:
        user.phone = phone
    db.session.flush()
    return user


def _withdraw(consent: ContactConsent, *, source: str, text: str) -> None:
    consent.withdrawn_at = utcnow()
    consent.withdrawn_source = source
    consent.withdrawn_text = text[:500]


def opt_out_by_keyword(*, channel: str, phone: str, text: str) -> bool:
    """A STOP from ``phone``: every consent to ``channel`` on that number ends now."""
    consents = list(
        db.session.scalars(
            select(ContactConsent).where(
                ContactConsent.channel == channel,
                ContactConsent.phone == phone,
                ContactConsent.withdrawn_at.is_(None),
            )
        )
    )
    for consent in consents:
        _withdraw(consent, source=SOURCE_KEYWORD, text=text)
        db.session.execute(
            delete(ContactPreference).where(
                ContactPreference.user_id == consent.user_id,
                ContactPreference.channel == channel,
            )
        )
    db.session.flush()
    return bool(consents)


# ---------------------------------------------------------------------------------------------
# Sending


ShortValues = dict | Callable[[str], dict]


def notify(
    user: User,
    template: str,
    *,
    short: ShortValues | None = None,
    topic: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    later: bool = False,
    later_attachments: tuple[tuple[str, dict], ...] = (),
    extras: tuple[tuple[str, dict], ...] = (),
    **context,
) -> list[OutboxMessage]:
    """Queue ``template`` for a guardian on the channels they chose, in their language.

    The first channel leaves; the others are held and go only if it fails (or, for WhatsApp,
    is not delivered in time). An urgent message always ends with e-mail. WhatsApp and SMS
    need ``short`` (the values of the short text, naming the child and the group; or a
    function of the guardian's language giving them) and a consent in force.

    ``later``: the worker writes the e-mail (lms/notifications/deferred.py), with
    ``later_attachments`` and ``extras`` built by the builders registered under their names.
    """
    kind = kind_of(template)
    key = secrets.token_hex(16)
    chain: list[tuple[str, ContactConsent | None]] = []
    chosen = chosen_channels(user)[kind]
    if short is not None and template in SHORT_MESSAGES:
        in_force = consents_in_force(user)
        chain += [
            (channel, in_force[channel])
            for channel in PHONE_CHANNELS
            if channel in chosen and channel in in_force
        ]
    if Channel.EMAIL in chosen or kind == MessageKind.URGENT or not chain:
        chain.append((Channel.EMAIL, None))
    values = short(user.locale) if callable(short) else short
    rows = []
    for rank, (channel, consent) in enumerate(chain):
        routing = Routing(
            message_key=key,
            rank=rank,
            held=rank > 0,
            urgent=kind == MessageKind.URGENT,
            topic=topic,
        )
        if channel == Channel.EMAIL and later:
            rows.append(
                queue_email_later(
                    to=user.email,
                    template=template,
                    language=user.locale,
                    user_id=user.id,
                    unconfirmed_address=not user.email_confirmed,
                    attachments=later_attachments,
                    extras=extras,
                    routing=routing,
                    user=user,
                    **context,
                )
            )
        elif channel == Channel.EMAIL:
            rows.append(
                queue_email_to_user(
                    user, template, routing=routing, attachments=attachments, **context
                )
            )
        else:
            rows.append(
                queue_short(
                    channel=channel,
                    to=consent.phone,
                    template=template,
                    language=user.locale,
                    values=values,
                    user_id=user.id,
                    consent_id=consent.id,
                    routing=routing,
                )
            )
    return rows


def cohort_topic(cohort_id: int) -> str:
    """The topic of messages about a group: the group's instructors read the replies."""
    return f"cohort:{cohort_id}"


def names_list(names: Iterable[str], language: str) -> str:
    """``Yasmine and Adam`` in ``language`` (the children a message is about)."""
    names = list(dict.fromkeys(names))
    return format_list(names, locale=babel_locale_for(language)) if names else ""
