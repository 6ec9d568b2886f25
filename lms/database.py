"""The database layer: declarative base, constraint names, UTC timestamps, SQLite tuning."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from flask import g, has_request_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Named constraints, so that Alembic can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, except that a session given a connection uses it.

    Flask-SQLAlchemy always picks the engine itself; the tests bind the session to one
    connection holding an outer transaction that is rolled back after each test.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def utcnow() -> datetime:
    """The current instant as an aware UTC datetime (the default of every timestamp)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An instant stored in UTC and always read back as an aware UTC datetime.

    PostgreSQL keeps the zone; SQLite keeps none, so naive values are stored as UTC.
    Naive datetimes are refused on the way in: they are a bug waiting for the clock change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Methods whose requests never write (lms/web.py refuses their commits), but for an audit of a
# reading, which says so first (lms.web.record_reading sets ``g.records_reading``).
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def transaction_may_write() -> bool:
    """False inside a GET (or HEAD) request that records no reading; True elsewhere (other
    requests, the worker, the CLI)."""
    if not has_request_context():
        return True
    return request.method not in READ_ONLY_METHODS or bool(g.get("records_reading"))


def configure_sqlite(engine: Engine, *, busy_timeout_ms: int, worker_busy_timeout_ms: int) -> None:
    """Make a SQLite engine safe for concurrent web requests.

    pysqlite's own transaction handling starts transactions lazily (deferred), and a deferred
    transaction that read first and then writes fails at once with "database is locked" when
    another writer got there first, whatever the busy timeout says. So the driver is put in
    autocommit mode and every transaction that may write starts with ``BEGIN IMMEDIATE``:
    writers queue on the busy timeout instead of failing half-way. The transactions of GET
    requests never write and start with a plain ``BEGIN``: in WAL mode they read a snapshot
    and never wait behind a writer. A request waits ``busy_timeout_ms`` for the write lock
    (then the user is asked to try again); the worker and the CLI wait longer.
    """
    if engine.dialect.name != "sqlite":
        return
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if not transaction_may_write():
            connection.exec_driver_sql("BEGIN")
            return
        timeout = busy_timeout_ms if has_request_context() else worker_busy_timeout_ms
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(timeout)}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_busy_error(error: BaseException) -> bool:
    """True for SQLite's "database is locked" (another writer kept the lock too long)."""
    orig = getattr(error, "orig", None)
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)
