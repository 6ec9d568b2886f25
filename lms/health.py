"""/healthz for load balancers: database reachable, migrations at head, outbox backlog."""

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
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as error:
        log.error("health: database unreachable: %s", type(error).__name__)
        db.session.rollback()
        return jsonify(status="unavailable", checks={"database": "unreachable"}), 503

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
