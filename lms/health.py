"""/healthz for load balancers: database reachable and writable, migrations at head, outbox
backlog. It answers within about two seconds whatever the database does: reads never wait on
SQLite (WAL, a GET's transaction is a plain read), the write probe waits at most
``WRITE_PROBE_MS`` for the lock, and PostgreSQL statements are cut at ``STATEMENT_TIMEOUT_MS``.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from lms.database import utcnow
from lms.extensions import db, limiter
from lms.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

WRITE_PROBE_MS = 800
STATEMENT_TIMEOUT_MS = 1500


def write_problem() -> str | None:
    """Why the database cannot take a write now ("read-only: ..."), or None.

    A writer holding SQLite's lock is not a problem (the probe says "busy" and moves on).
    """
    engine = db.engine
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                if connection.exec_driver_sql("SHOW transaction_read_only").scalar() == "on":
                    return "read-only: the server takes no writes (a standby?)"
                return None
            if engine.dialect.name != "sqlite":
                return None
            raw = connection.connection.dbapi_connection
            previous = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute(f"PRAGMA busy_timeout = {WRITE_PROBE_MS}")
            try:
                # A table made and dropped in a transaction that is rolled back: a real write
                # to the file, which leaves nothing behind.
                connection.exec_driver_sql("CREATE TABLE _health_probe (x INTEGER)")
            finally:
                connection.rollback()
                raw.execute(f"PRAGMA busy_timeout = {int(previous)}")
    except SQLAlchemyError as error:
        message = str(getattr(error, "orig", error))
        if "locked" in message or "busy" in message:
            return None
        log.error("health: database takes no writes: %s", message)
        return f"read-only: {message}"
    return None


@cache
def migration_head(directory: str) -> str | None:
    config = Config()
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config).get_current_head()


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """200 when this server can serve; 503 (with the reason) when it cannot."""
    checks: dict = {}
    healthy = True
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as error:
        log.error("health: database unreachable: %s", type(error).__name__)
        db.session.rollback()
        return jsonify(status="unavailable", checks={"database": "unreachable"}), 503
    problem = write_problem()
    if problem is not None:
        return jsonify(status="unavailable", checks={"database": problem}), 503

    head = migration_head(str(Path(current_app.extensions["migrate"].directory)))
    try:
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        db.session.rollback()
        current = None
    checks["migrations"] = {"current": current, "head": head}
    if current != head:
        healthy = False
        checks["migrations"]["status"] = "behind: run `flask db upgrade`"
    else:
        checks["migrations"]["status"] = "ok"

    pending, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING
        )
    ).one()
    failed = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
    )
    age = int((utcnow() - oldest).total_seconds()) if oldest is not None else 0
    checks["outbox"] = {
        "pending": pending,
        "failed": failed,
        "oldest_pending_seconds": age,
        "status": "ok" if age < 900 else "backlog: is `flask lms send-mail` running?",
    }
    status = "ok" if healthy else "unavailable"
    return jsonify(status=status, checks=checks), 200 if healthy else 503
