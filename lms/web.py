"""How every request ends: one commit point, one path for refusals.

Like Indico's ``RH.process``, the app, not the view, ends the transaction:

- a view returns -> if it wrote something and its answer is not an error (status < 400), the
  app commits once; otherwise it rolls back. Views never call ``commit()``.
- any exception -> rollback (here for domain errors, in the 500 handler and at teardown for
  the rest).
- a ``DomainError`` (a service refused the action) is turned into what the user sees, in one
  place (:func:`refused`): on a form page the view is shown again with what was typed and the
  reason on the right field (status 422); on a button POST the reason is flashed and the user
  goes back where they came from (a safe ``next``, else the referrer on this site; 303).
- GET never writes. A GET that flushed a change is rolled back and logged (an error in tests);
  the one justified exception is an audit record of a reading (a coordinator reading medical
  notes, a download written to the audit log), which calls :func:`record_reading` first.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (
    Flask,
    Request,
    Response,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter, ValidationError

from lms.database import READ_ONLY_METHODS, Session, is_busy_error
from lms.errors import DomainError, render_error
from lms.extensions import db, limiter
from lms.security import safe_next_url
from lms.submissions import AlreadySubmitted, record_result

log = logging.getLogger(__name__)

SAFE_METHODS = READ_ONLY_METHODS
REDIRECTS = frozenset({301, 302, 303, 307, 308})
WROTE_KEY = "lms.wrote"


class DatabaseId(IntegerConverter):
    """``<int:...>`` in a URL: a number the database can hold, else the URL matches nothing
    (404), instead of an overflow in the query."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class _NoControlCharacters:
    """A URL part holding a control character (a NUL in a token) matches nothing (404): no
    database is asked about it (PostgreSQL refuses a NUL in text)."""

    def to_python(self, value: str) -> str:
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ValidationError()
        return super().to_python(value)


class UrlText(_NoControlCharacters, UnicodeConverter):
    pass


class UrlPath(_NoControlCharacters, PathConverter):
    pass


class LmsRequest(Request):
    """A request whose body may be larger than MAX_CONTENT_LENGTH on a page that says so
    (:func:`accepts_upload`): that page, not a bare 413, tells what is too large."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.url_rule is not None and current_app:
            view = current_app.view_functions.get(self.url_rule.endpoint)
            limit = getattr(view, "max_content_length", None)
            if limit is not None:
                return limit
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def accepts_upload(max_bytes: int):
    """Let a view's requests carry up to ``max_bytes`` (put it right under the route)."""

    def mark(view):
        view.max_content_length = max_bytes
        return view

    return mark


class LmsFlask(Flask):
    """Flask, with the request's transaction ended here after the view returns."""

    request_class = LmsRequest

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        converters = self.url_map.converters
        converters["int"] = DatabaseId
        converters["default"] = converters["string"] = UrlText
        converters["path"] = UrlPath

    def dispatch_request(self):
        response = self.make_response(super().dispatch_request())
        end_transaction(response)
        return response


# ---------------------------------------------------------------------------------------------
# The commit point


@event.listens_for(Session, "after_flush")
def _remember_write(session, _flush_context) -> None:
    session.info[WROTE_KEY] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE_KEY, None)


@event.listens_for(Session, "before_commit")
def _refuse_commit_on_get(session) -> None:
    if (
        has_request_context()
        and request.method in SAFE_METHODS
        and not g.get("records_reading")
        and not session.in_nested_transaction()
    ):
        message = f"{request.method} {request.endpoint} commits: GET never writes"
        if current_app.testing:
            raise RuntimeError(message)
        log.error(message)  # a bug, but the user's page still shows


def session_wrote() -> bool:
    """True when the request's session has changes, flushed or pending."""
    session = db.session
    return bool(session.info.get(WROTE_KEY) or session.new or session.dirty or session.deleted)


def record_reading() -> None:
    """Allow this GET to write: it records that something was read (an audit of reads)."""
    g.records_reading = True
    session = db.session()
    if session.in_transaction() and session.get_bind().dialect.name == "sqlite":
        # The GET's transaction began as a plain read (lms/database.py); SQLite refuses a
        # read transaction that turns into a write once another writer went first, so the
        # read ends here and the next statement begins a writing transaction.
        session.commit()


def end_transaction(response: Response) -> None:
    """Commit what a successful request wrote; roll back everything else."""
    if not session_wrote():
        return  # nothing to commit; teardown closes the session
    if request.method in SAFE_METHODS and not g.get("records_reading"):
        db.session.rollback()
        message = f"{request.method} {request.endpoint} wrote to the database; rolled back"
        if current_app.testing:
            raise RuntimeError(message)
        log.error(message)
        return
    if response.status_code >= 400:
        db.session.rollback()
        return
    record_result(response.location if response.status_code in REDIRECTS else None)
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Refusals


@dataclass(frozen=True)
class Refusal:
    """A domain error raised after ``form_key``'s form validated, shown on that form (None:
    on whichever form was sent, for a refusal that came before any form was read)."""

    form_key: tuple | None
    error: DomainError


def acting_form(key: tuple) -> None:
    """Remember that the form ``key`` validated in this request (called by lms.forms.Form)."""
    g.acting_form = key


def current_refusal() -> Refusal | None:
    """The refusal being shown, while a refused form page is shown again."""
    return g.get("refusal")


def back_url(default: str | None = None) -> str:
    """Where "back" goes: a safe ``next``, else the referrer when it is this site."""
    target = safe_next_url(request.form.get("next")) or safe_next_url(request.args.get("next"))
    if target:
        return target
    if request.referrer:
        parts = urlsplit(request.referrer)
        if parts.netloc == request.host and parts.path.startswith("/"):
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if safe_next_url(path):
                return path
    if default:
        return default
    return url_for("dashboard.home" if current_user.is_authenticated else "dashboard.index")


def _show_again() -> Response:
    """Run the request's view again (g.refusal set), without its rate-limit wrappers: the
    request was already counted once."""
    view = current_app.view_functions[request.endpoint]
    while getattr(view, "__wrapper-limiter-instance", None) is not None:
        view = view.__wrapped__
    return current_app.make_response(view(**(request.view_args or {})))


def refused(error: DomainError):
    """Show a refusal: on the form that was sent, or as a flash back where the user came from."""
    db.session.rollback()
    form_key = g.get("acting_form")
    rule = request.url_rule
    if form_key is not None and rule is not None and "GET" in (rule.methods or ()):
        g.refusal = Refusal(form_key, error)
        try:
            response = _show_again()
        except DomainError:
            db.session.rollback()  # the page itself refused to show: fall back to a flash
        else:
            db.session.rollback()  # showing the form again writes nothing
            if response.status_code == 200:
                response.status_code = 422
            return response
    if request.method in SAFE_METHODS:
        return render_error(error.status, error.message)
    flash(str(error.message), "error")
    return redirect(back_url(), 303)


def _wait_minutes() -> int:
    limit = limiter.current_limit
    seconds = (limit.reset_at - time.time()) if limit is not None else 60
    return max(1, math.ceil(seconds / 60))


def too_many(error: RateLimitExceeded):
    """A limit was hit: a form page comes back with what was typed and when to try again."""
    db.session.rollback()
    message = _l(
        "Too many attempts from here in a short time. Please try again in %(minutes)d "
        "minute(s); what you typed is kept.",
        minutes=_wait_minutes(),
    )
    rule = request.url_rule
    if request.method == "POST" and rule is not None and "GET" in (rule.methods or ()):
        g.refusal = Refusal(None, DomainError(message))
        response = _show_again()
        db.session.rollback()
        response.status_code = 429
        return response
    return render_error(429, message)


def already_submitted(error: AlreadySubmitted):
    """A second copy of a submission: nothing is done again; go where the first one went."""
    db.session.rollback()
    flash(_("This was already received; here is the result."), "info")
    return redirect(error.result_url or back_url(), 303)


def database_busy(error: OperationalError):
    """SQLite's write lock stayed taken past the busy timeout: ask to try again (503)."""
    if not is_busy_error(error):
        raise error
    db.session.rollback()
    log.warning("database busy on %s %s", request.method, request.path)
    response = current_app.make_response(
        render_error(
            503,
            _l(
                "The lab's system is busy for a moment. Nothing was saved: please try again "
                "in a few seconds."
            ),
        )
    )
    response.headers["Retry-After"] = "5"
    return response


def init_request_end(app: Flask) -> None:
    app.register_error_handler(OperationalError, database_busy)
    app.register_error_handler(DomainError, refused)
    app.register_error_handler(AlreadySubmitted, already_submitted)
    app.register_error_handler(RateLimitExceeded, too_many)
