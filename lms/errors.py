"""The domain error that services raise, and the HTTP error pages."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain refused the action. ``message`` is translatable and shown as is.

    ``field`` names the form field the message belongs to, when there is one. ``status`` is
    the answer when a page (a GET) cannot be shown because of it: 409 unless a kind of refusal
    says better (410 for a link that is dead).
    """

    status = 409

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    403: (_l("Access denied"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("This page does not exist or is no longer available.")),
    405: (_l("Not allowed"), _l("This action is not allowed here.")),
    409: (_l("Not possible"), _l("This cannot be done now.")),
    410: (_l("Link no longer valid"), _l("This link has expired or was already used.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (
        _l("Too many attempts"),
        _l("Too many attempts in a short time. Please wait a few minutes and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred. Nothing was saved; please try again."),
    ),
}


def render_error(code: int, detail=None):
    title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    return (
        render_template("errors/error.html", code=code, title=title, text=detail or text),
        code,
    )


def init_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            _l(
                "This form has expired or was not sent from this site. "
                "Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in ERROR_TEXTS and error.code >= 400:
            return render_error(error.code)
        return error

    @app.errorhandler(500)
    def internal_error(error):
        db.session.rollback()
        log.error("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
