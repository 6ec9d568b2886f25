"""Terms of the lab's school year: the periods fees, discounts and reports are counted in.

The year runs from September to August, like Moroccan schools: autumn term (September to
December), winter term (January to March), spring term (April to June), summer (July and
August). A cohort belongs to the term in which it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

FIRST_YEAR, LAST_YEAR = 1900, 2200

# (first month, last month, key, label)
_TERMS = (
    (9, 12, "autumn", _l("Autumn term")),
    (1, 3, "winter", _l("Winter term")),
    (4, 6, "spring", _l("Spring term")),
    (7, 8, "summer", _l("Summer")),
)


@dataclass(frozen=True)
class Term:
    key: str  # "2026-autumn": the school year's first calendar year, then the season
    label: str
    starts_on: date
    ends_on: date  # inclusive

    @property
    def school_year(self) -> str:
        first = int(self.key.split("-")[0])
        return f"{first}-{first + 1}"

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def next(self) -> Term:
        return term_of(self.ends_on + timedelta(days=1))

    def previous(self) -> Term:
        return term_of(self.starts_on - timedelta(days=1))


def term_of(day: date) -> Term:
    """The term ``day`` falls in."""
    for first, last, season, label in _TERMS:
        if first <= day.month <= last:
            starts_on = date(day.year, first, 1)
            ends_on = (date(day.year + (last == 12), last % 12 + 1, 1)) - timedelta(days=1)
            school_year = day.year if first >= 9 else day.year - 1
            return Term(f"{school_year}-{season}", str(label), starts_on, ends_on)
    raise AssertionError("every month belongs to a term")


def term_by_key(key: str) -> Term | None:
    """The term named ``key`` ("2026-autumn"), or None if the key means nothing."""
    year, _, season = key.partition("-")
    # Years the calendar can hold with a term on either side (a term in 9999 has none after).
    if not year.isascii() or not year.isdigit() or not FIRST_YEAR <= int(year) <= LAST_YEAR:
        return None
    for first, _last, name, _label in _TERMS:
        if name == season:
            return term_of(date(int(year) + (first < 9), first, 1))
    return None
