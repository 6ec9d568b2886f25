"""Short messages for WhatsApp and SMS: their texts in three languages, their parameters (the
templates registered with Meta), and how many SMS segments a text costs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import force_locale, format_date, format_datetime
from flask_babel import lazy_gettext as _l

from lms.i18n import babel_locale_for


@dataclass(frozen=True)
class ShortMessage:
    """A text with named parameters: ``{child}`` in the text, ``{{1}}`` in Meta's template."""

    name: str
    parameters: tuple[str, ...]
    text: object  # a lazy string with {name} placeholders

    def render(self, language: str, values: dict) -> tuple[str, list[str]]:
        """The text in ``language`` and the parameters as Meta's template takes them."""
        with force_locale(babel_locale_for(language)):
            params = [_plain(values[name]) for name in self.parameters]
            text = str(self.text).format(**dict(zip(self.parameters, params, strict=True)))
        return text, params

    def meta_body(self, language: str) -> str:
        """The template's body as registered with Meta: ``{{1}}`` for the first parameter..."""
        with force_locale(babel_locale_for(language)):
            text = str(self.text)
        for index, name in enumerate(self.parameters, start=1):
            text = text.replace("{" + name + "}", "{{" + str(index) + "}}")
        return text


def _plain(value) -> str:
    if isinstance(value, datetime):
        return format_datetime(value, "short")
    if isinstance(value, date):
        return format_date(value, "medium")
    return " ".join(str(value).split())


SHORT_MESSAGES = {
    message.name: message
    for message in (
        ShortMessage(
            "lesson_cancelled",
            ("child", "group", "date", "link"),
            _l("Active Labs: the {group} lesson of {date} is cancelled for {child}. {link}"),
        ),
        ShortMessage(
            "lesson_moved",
            ("child", "group", "date", "link"),
            _l("Active Labs: the {group} lesson of {child} moves to {date}. {link}"),
        ),
        ShortMessage(
            "cohort_cancelled",
            ("child", "group", "link"),
            _l(
                "Active Labs: the group {group} is cancelled; {child} is no longer enrolled. {link}"
            ),
        ),
        ShortMessage(
            "seat_offered",
            ("child", "group", "deadline", "link"),
            _l("Active Labs: a seat in {group} is offered to {child} until {deadline}. {link}"),
        ),
        ShortMessage(
            "fee_reminder",
            ("child", "group", "link"),
            _l("Active Labs: the fee of {child} for {group} is not fully paid yet. {link}"),
        ),
        ShortMessage(
            "attendance_absent",
            ("child", "group", "date", "link"),
            _l("Active Labs: {child} was absent from {group} on {date}. {link}"),
        ),
        ShortMessage(
            "incident_recorded",
            ("child", "group", "link"),
            _l("Active Labs: an incident concerning {child} during {group} was recorded. {link}"),
        ),
        ShortMessage(
            "substitute_assigned",
            ("child", "group", "instructor", "date", "link"),
            _l("Active Labs: {instructor} teaches {group} ({child}) from {date}. {link}"),
        ),
        ShortMessage(
            "substitute_cancelled",
            ("child", "group", "instructor", "link"),
            _l("Active Labs: {instructor} will not teach {group} ({child}) after all. {link}"),
        ),
        ShortMessage(
            "family_message",
            ("group", "subject", "link"),
            _l("Active Labs ({group}): {subject}. Read it: {link}"),
        ),
        ShortMessage(
            "staff_reply",
            ("text",),
            _l("Active Labs: {text}"),
        ),
        ShortMessage(
            "opt_out_confirmed",
            ("channel", "link"),
            _l("Active Labs: this number will get no more messages by {channel}. {link}"),
        ),
        ShortMessage(
            "test_message",
            (),
            _l("Active Labs: test message. Your settings work."),
        ),
    )
}


def short_message(name: str) -> ShortMessage:
    """The short message called ``name``; KeyError if there is none."""
    return SHORT_MESSAGES[name]


# ---------------------------------------------------------------------------------------------
# SMS segments

_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = "^{}\\[~]|€\f"
_GSM7 = re.compile(f"[{re.escape(_GSM7_BASIC + _GSM7_EXTENSION)}]*")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int


def sms_segments(text: str) -> Segments:
    """How an SMS carries ``text``: GSM-7 (160, or 153 per part) or UCS-2 (70, or 67)."""
    if _GSM7.fullmatch(text):
        units = len(text) + sum(1 for char in text if char in _GSM7_EXTENSION)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    count = 1 if units <= single else -(-units // multi)
    return Segments(encoding, units, count)
