"""/healthz and the request log."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import text

from lms.database import utcnow
from lms.extensions import db
from lms.notifications.services import queue_email


@pytest.mark.committed
def test_healthz_ok_after_migrations(make_app, tmp_path):
    from flask_migrate import upgrade

    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'health.sqlite3'}")
    with app.app_context():
        upgrade()
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"]["status"] == "ok"
    assert body["checks"]["outbox"]["pending"] == 0


def test_healthz_503_when_migrations_are_behind(client):
    # The test schema is built from the models, without alembic_version: "behind".
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"]["current"] is None


@pytest.mark.committed
def test_healthz_503_when_the_database_is_unreachable(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'nope.sqlite3'}")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "checks": {"database": "unreachable"}}


def test_healthz_reports_the_outbox_backlog(app, client):
    with app.app_context():
        message = queue_email(
            to="x@example.ma",
            template="password_reset",
            language="fr",
            user=type("U", (), {"full_name": "X"})(),
            token="t",
            minutes=60,
        )
        message.created_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    outbox = client.get("/healthz").get_json()["checks"]["outbox"]
    assert outbox["pending"] == 1
    assert outbox["oldest_pending_seconds"] >= 3600
    assert "send-mail" in outbox["status"]


def test_request_log_has_an_id_and_no_personal_data(app, client, parent, caplog):
    with caplog.at_level(logging.INFO, logger="lms.request"):
        response = client.post(
            "/login",
            data={"email": parent.email, "password": "correct-horse-battery"},
            headers={"X-Request-ID": "abc-123"},
        )
        client.get("/password/reset/secret-token-value")
    assert response.headers["X-Request-ID"] == "abc-123"
    records = [r for r in caplog.records if r.name == "lms.request"]
    assert records[0].fields["endpoint"] == "accounts.login"
    assert records[0].fields["status"] == 302
    text_ = " ".join(r.getMessage() + json.dumps(r.fields) for r in records)
    assert parent.email not in text_
    assert "secret-token-value" not in text_
    assert "Karim" not in text_


def test_bad_request_ids_are_replaced(client):
    response = client.get("/", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"] != "<script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_json_log_format(app):
    from lms.logs import JsonFormatter

    record = logging.LogRecord("lms.request", logging.INFO, __file__, 1, "GET x 200", (), None)
    record.request_id = "r1"
    record.fields = {"status": 200}
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "r1"
    assert line["status"] == 200
    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1
