"""Jinja filters and globals shared by every template."""

from __future__ import annotations

import math
from datetime import date, datetime

from flask import Flask, request
from flask_babel import format_date, format_datetime, format_percent

from lms.notifications.models import OutboxStatus
from lms.phones import format_phone
from lms.roles import Role


def readable_iso(value: str | None) -> str:
    """A date or instant written as ISO 8601 (JSON data), in the reader's words."""
    if not value:
        return "—"
    if "T" not in value:
        return format_date(date.fromisoformat(value), "long")
    return format_datetime(datetime.fromisoformat(value), "medium")


def percent(value: float | None) -> str:
    """A rate in percent (0-100) as the reader writes it: "75 %" in French. Rounded down, as
    the certificate threshold is compared: 79.6 % shows as 79 %, never as the 80 % it is not."""
    if value is None:
        return "—"
    return format_percent(math.floor(value) / 100)


def init_templating(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.filters["merge"] = lambda first, second: {**first, **second}
    app.jinja_env.filters["isodate"] = readable_iso
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.globals["current_path"] = lambda: request.full_path.rstrip("?")
    app.jinja_env.globals["role_names"] = Role.labels()
    app.jinja_env.globals["outbox_status_names"] = OutboxStatus.labels()
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
