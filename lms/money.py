"""Money: amounts are integers of centimes; dirhams (MAD) are what people read."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from flask_babel import get_locale
from flask_babel import gettext as _


def dirhams(centimes: int) -> Decimal:
    """The amount in dirhams, exact (for exports and spreadsheets)."""
    return Decimal(centimes) / 100


def format_money(centimes: int) -> str:
    """An amount as people read it in the request's language: "1 250 MAD", "99,50 MAD"."""
    digits = "#,##0" if centimes % 100 == 0 else "#,##0.00"
    return format_currency(
        dirhams(centimes),
        "MAD",
        format=f"{digits}\xa0¤",
        locale=get_locale(),
        currency_digits=False,
    )


def format_price(centimes: int) -> str:
    """A price in the catalogue: "Free" for nothing, else the amount."""
    return format_money(centimes) if centimes else _("Free")
