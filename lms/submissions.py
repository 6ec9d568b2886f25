"""One effect per submission: a create form sent twice (a double click, a reload, a retry from
another connection) creates one row, and both answers lead to the same result.

The key of a submission is a hash of who sent it, where, and exactly what was sent, including
the form's CSRF token, which is signed afresh each time a page is shown: the same page sent
again has the same key, while the same words typed into a new page are a new submission. The
key is claimed by inserting it (primary key) in the request's own transaction, before the
service runs: a second copy waits for the first one's transaction (PostgreSQL's unique index,
SQLite's write lock), then finds the key taken and is sent where the first one went. A refused
or failed first copy rolls back its key with everything else, so a retry can go through.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from flask import g, request
from flask_login import current_user
from sqlalchemy import String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from lms.database import UTCDateTime, utcnow
from lms.extensions import db

KEEP = timedelta(days=2)


class FormSubmission(db.Model):
    __tablename__ = "form_submissions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Where the first copy's answer sent the user (a redirect), filled in before its commit.
    result_url: Mapped[str | None] = mapped_column(String(500))


class AlreadySubmitted(Exception):
    """This submission was already received; ``result_url`` is where its answer went."""

    def __init__(self, result_url: str | None) -> None:
        super().__init__(result_url)
        self.result_url = result_url


def submission_key() -> str:
    """The key of the request's submission (who, where, what; files by name and size)."""
    sender = current_user.get_id() if current_user.is_authenticated else request.remote_addr
    files = sorted(
        (name, storage.filename or "", storage.content_length or 0)
        for name, storage in request.files.items(multi=True)
    )
    payload = json.dumps(
        [
            sender,
            request.endpoint,
            sorted((request.view_args or {}).items()),
            sorted(request.form.items(multi=True)),
            files,
        ],
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def claim_submission() -> None:
    """Claim this request's submission, or raise AlreadySubmitted if it was received already."""
    key = submission_key()
    try:
        with db.session.begin_nested():
            db.session.add(FormSubmission(key=key))
    except IntegrityError:
        existing = db.session.get(FormSubmission, key, populate_existing=True)
        raise AlreadySubmitted(existing.result_url if existing else None) from None
    g.submission_key = key


def record_result(location: str | None) -> None:
    """Remember where the claimed submission's answer sends the user (before the commit)."""
    key = g.get("submission_key")
    if key and location:
        submission = db.session.get(FormSubmission, key)
        if submission is not None:
            submission.result_url = location[:500]


def forget_old_submissions(now: datetime | None = None) -> int:
    """Delete keys older than KEEP (the worker's job); returns how many."""
    cutoff = (now or utcnow()) - KEEP
    old = select(FormSubmission.key).where(FormSubmission.created_at < cutoff)
    ids = list(db.session.scalars(old))
    if ids:
        db.session.execute(delete(FormSubmission).where(FormSubmission.key.in_(ids)))
    return len(ids)
