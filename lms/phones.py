"""Phone numbers: parsed and validated with Google's libphonenumber, stored as E.164."""

from __future__ import annotations

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError


def normalize_phone(raw: str, region: str | None = None) -> str:
    """``raw`` as E.164 (``+212612345678``); ValueError if it is not a valid number.

    A number without a country code is read as Moroccan (DEFAULT_PHONE_REGION).
    """
    region = region or current_app.config["DEFAULT_PHONE_REGION"]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(str(error)) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """A stored number as people write it: national format for Morocco, international else."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = current_app.config["DEFAULT_PHONE_REGION"]
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class PhoneNumber:
    """WTForms validator: a valid phone number; the field's data becomes E.164."""

    def __init__(self, message=None) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalize_phone(field.data)
        except ValueError:
            raise ValidationError(
                self.message
                or _l(
                    "Enter a valid phone number, for example 06 12 34 56 78 or +212 6 12 34 56 78."
                )
            ) from None


MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def is_mobile(e164: str) -> bool:
    """Can ``e164`` receive WhatsApp and SMS? A landline cannot."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in MOBILE_TYPES
