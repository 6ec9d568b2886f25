"""The one parser of query strings (``?page=2&term=2026-autumn&week=2026-10-05``).

Every list, report and export reads its query string here. A value that is malformed or out
of range never reaches the database or the calendar: it falls back to the default (a page
number, a filter), or reads as None so that the page can say what is wrong (a term).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask import abort, request
from flask_sqlalchemy.pagination import Pagination

from lms.extensions import db
from lms.forms import EARLIEST_DATE, LARGEST_NUMBER, LATEST_DATE
from lms.text import refused_character

# Past this page a list is empty anyway; the cap keeps OFFSET small on every database.
LAST_PAGE = 10_000


def arg_int(
    name: str, *, default: int | None = None, minimum: int = 1, maximum: int = LARGEST_NUMBER
) -> int | None:
    """An id or a count: ``default`` unless the value is a whole number in range."""
    raw = request.args.get(name, "").strip()
    if not raw or len(raw) > 12 or not raw.lstrip("-").isdigit() or not raw.isascii():
        return default
    value = int(raw)
    return value if minimum <= value <= maximum else default


def arg_page(name: str = "page") -> int:
    """The page number of a list: 1 when none (or no number) is given; a number that is no
    page (0, -3, one past ``LAST_PAGE``) answers 404, like a page past the end."""
    raw = request.args.get(name, "").strip()
    if not raw.lstrip("-").isdigit() or not raw.isascii():
        return 1
    if len(raw) > 6 or not 1 <= int(raw) <= LAST_PAGE:
        abort(404)
    return int(raw)


def arg_choice(name: str, allowed: Iterable[str], *, default: str | None = None) -> str | None:
    """One of ``allowed`` (an enumeration's values), else ``default``."""
    value = request.args.get(name)
    return value if value in set(allowed) else default


def arg_date(name: str, *, default: date | None = None) -> date | None:
    """An ISO date (2026-10-05) the calendar can hold, else ``default``."""
    raw = request.args.get(name, "").strip()
    try:
        value = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None or not EARLIEST_DATE <= value <= LATEST_DATE:
        return default
    return value


def arg_key(name: str, *, max_length: int = 40) -> str | None:
    """A short key (``2026-autumn``) for the caller to look up: None when absent or when it
    cannot be one (too long, or not plain letters, digits, ``-`` and ``_``)."""
    raw = request.args.get(name, "").strip()
    if not raw or len(raw) > max_length or not raw.isascii():
        return None
    return raw if all(c.isalnum() or c in "-_" for c in raw) else None


def arg_text(name: str, *, max_length: int = 100) -> str:
    """Search words: trimmed, cut to ``max_length``, emptied if they hold a control character
    (no one means to search for one; PostgreSQL refuses a NUL)."""
    value = (request.args.get(name) or "").strip()[:max_length]
    return "" if refused_character(value, one_line=True) else value


def paginate(query, *, per_page: int, max_per_page: int) -> Pagination:
    """``db.paginate`` with the page and its size read here (never a number the database
    cannot take)."""
    return db.paginate(
        query,
        page=arg_page(),
        per_page=arg_int("per_page", default=per_page, maximum=max_per_page),
        max_per_page=max_per_page,
        count=True,
    )
