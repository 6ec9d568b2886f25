"""The lab's clock: its time zone, today's date there, local times as UTC instants, ages.

Everything the lab plans is in Africa/Casablanca local time (Morocco moves its clocks around
Ramadan), and stored as UTC instants. The IANA rules come from the ``tzdata`` package (see
``lms.i18n.use_packaged_zone_rules``), the same release Babel formats with.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app


def lab_zone() -> ZoneInfo:
    """The lab's time zone (BABEL_DEFAULT_TIMEZONE, Africa/Casablanca)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    """Today's date at the lab, which is what ages, windows and deadlines count in."""
    return datetime.now(UTC).astimezone(lab_zone()).date()


def local_instant(day: date, at: time) -> datetime:
    """The UTC instant of ``day`` at local time ``at`` in the lab's zone."""
    return datetime.combine(day, at, tzinfo=lab_zone()).astimezone(UTC)


def age_in_years(date_of_birth: date, day: date) -> int:
    """Age in whole years on ``day`` (born on 29 February: a year older on 1 March)."""
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (0 if had_birthday else 1)
