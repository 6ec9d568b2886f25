"""The database layer: SQLite settings, UTC timestamps, and concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.extensions import db
from lms.roles import Role


@pytest.mark.committed
def test_sqlite_pragmas(app, is_postgres):
    if is_postgres:
        pytest.skip("SQLite only")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # Outside a request (the worker, the CLI) a writing transaction waits longer.
        expected = app.config["SQLITE_WORKER_BUSY_TIMEOUT_MS"]
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == expected


def test_timestamps_come_back_aware_and_in_utc(app, make_user):
    user = make_user(Role.PARENT)
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.last_login_at = datetime(2026, 3, 5, 15, 30, tzinfo=timezone(timedelta(hours=1)))
        db.session.commit()
        db.session.expire_all()
        loaded = db.session.get(User, user.id).last_login_at
    assert loaded.tzinfo is not None
    assert loaded == datetime(2026, 3, 5, 14, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(app, make_user):
    from sqlalchemy.exc import StatementError

    user = make_user(Role.PARENT)
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.last_login_at = datetime(2026, 3, 5, 15, 30)  # noqa: DTZ001 - on purpose
        with pytest.raises(StatementError, match="naive datetime"):
            db.session.flush()
        db.session.rollback()


@pytest.mark.committed
def test_concurrent_read_then_write_transactions_never_fail_with_locked(app):
    """The DESIGN.md trap: on SQLite, a transaction that reads and then writes fails at once
    with "database is locked" when another writer got in between. BEGIN IMMEDIATE queues."""
    with app.app_context():
        for n in range(20):
            create_user(full_name=f"P{n}", email=f"p{n}@example.ma", role=Role.PARENT)
        db.session.commit()

    errors: list[Exception] = []
    barrier = threading.Barrier(20)

    def read_then_write(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                user = db.session.scalar(select(User).where(User.email == f"p{n}@example.ma"))
                others = db.session.scalars(select(User)).all()
                user.full_name = f"Parent {n} of {len(others)}"
                db.session.commit()
            except Exception as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=read_then_write, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        names = db.session.scalars(select(User.full_name)).all()
        assert sorted(names) == sorted(f"Parent {n} of 20" for n in range(20))
        assert db.session.execute(text("SELECT 1")).scalar() == 1
