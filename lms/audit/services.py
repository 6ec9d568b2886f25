"""Write and read the audit log."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Select, column, select, table
from sqlalchemy.orm import selectinload

from lms.audit.models import AuditEntry
from lms.database import utcnow
from lms.extensions import db

# The accounts' table, known by its name only, as the actor's foreign key knows it: the audit
# log sits below every domain, accounts included, so that each of them can write to it.
_users = table("users", column("id"), column("email"))


def record(
    action: str,
    *,
    actor,
    subject=None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    reason: str | None = None,
    **details,
) -> AuditEntry:
    """Append an entry in the current transaction (it is kept only if the change is).

    ``actor`` is the user who acted (None for the system: cron jobs, expiries). The entry is
    written with the transaction's next flush (the next query or the commit), not on its own.
    """
    if subject is not None:
        subject_type = subject_type or subject.__tablename__
        subject_id = subject_id or subject.id
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=(reason or None) and reason[:500],
        details={key: _plain(value) for key, value in details.items()},
    )
    db.session.add(entry)
    return entry


def _plain(value):
    """JSON-friendly values: dates as ISO strings, enums as their value, objects as ids."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str | int):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if hasattr(value, "__tablename__") and hasattr(value, "id"):
        return value.id
    return value


def audit_query(
    *,
    action: str | None = None,
    actor_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select:
    """Entries matching the filters, newest first."""
    query = (
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    if action:
        if action.endswith("."):
            query = query.where(AuditEntry.action.startswith(action))
        else:
            query = query.where(AuditEntry.action == action)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if subject_type:
        query = query.where(AuditEntry.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query


def actor_id_for_email(email: str) -> int | None:
    """The id of the account using ``email`` (trimmed, lower-cased), None if none does."""
    return db.session.scalar(select(_users.c.id).where(_users.c.email == email.strip().lower()))


def known_actions() -> list[str]:
    """The distinct actions recorded so far (for the filter)."""
    return list(
        db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )
