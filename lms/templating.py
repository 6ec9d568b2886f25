"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask, request

from lms.accounts.models import ROLE_LABELS
from lms.notifications.models import OUTBOX_STATUS_LABELS
from lms.phones import format_phone


def init_templating(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.filters["merge"] = lambda first, second: {**first, **second}
    app.jinja_env.globals["current_path"] = lambda: request.full_path.rstrip("?")
    app.jinja_env.globals["role_names"] = ROLE_LABELS
    app.jinja_env.globals["outbox_status_names"] = OUTBOX_STATUS_LABELS
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
