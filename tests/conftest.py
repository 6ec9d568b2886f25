"""Fixtures: one schema per test run, one rolled-back transaction per test.

``LMS_TEST_DATABASE_URL=postgresql+psycopg://...`` runs the same suite on PostgreSQL.
Tests marked ``committed`` (concurrency, live server) commit for real; the tables are
emptied after them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from lms import create_app
from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.database import Session
from lms.extensions import db
from lms.roles import Role

PASSWORD = "correct-horse-battery"


def pytest_configure(config) -> None:
    # The generated secret, mail log and SQLite files of a test run never land in instance/.
    os.environ.pop("LMS_DATABASE_URL", None)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """The test database. With pytest-xdist each worker has its own: a SQLite file in its own
    temporary folder, or on PostgreSQL its own schema (first on the search path)."""
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    if url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            url = with_search_path(url, f"test_{worker}")
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def with_search_path(url: str, schema: str | None) -> str:
    """``url`` with its PostgreSQL search path set to ``schema`` (None: the default)."""
    parsed = make_url(url)
    query = {key: value for key, value in parsed.query.items() if key != "options"}
    if schema:
        query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


def search_path_schema(url: str) -> str:
    """The schema a PostgreSQL test URL works in ("public" unless the URL says otherwise)."""
    options = make_url(url).query.get("options") or ""
    prefix = "-csearch_path="
    return options[len(prefix) :] if options.startswith(prefix) else "public"


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


def make_config(database_url: str, instance_path: Path, **overrides) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path),
        "MAIL_BACKEND": "log",
        "MAIL_DELIVER_AFTER_COMMIT": False,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        # Cheap hashes: the cost of the production parameters is tested on its own.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST_KIB": 1024,
        "SQLITE_BUSY_TIMEOUT_MS": 15_000,
        **overrides,
    }


def reset_schema(url: str) -> None:
    """An empty schema with every table, built from the models (migrations are tested apart)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            schema = search_path_schema(url)
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            tables = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).scalars()
            for table in list(tables):
                connection.exec_driver_sql(f'DROP TABLE "{table}"')
    engine.dispose()
    import lms.models  # noqa: F401 - every table on the metadata

    engine = create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def _schema(database_url) -> None:
    reset_schema(database_url)


@pytest.fixture
def config_overrides() -> dict:
    """Override in a module or test to change the app's configuration."""
    return {}


@pytest.fixture
def app(request, _schema, database_url, tmp_path, config_overrides) -> Iterator[Flask]:
    app = create_app(make_config(database_url, tmp_path / "instance", **config_overrides))
    if request.node.get_closest_marker("committed"):
        yield app
        _empty_tables(app)
        dispose(app)
        return
    # No application context stays pushed during the test: a request would reuse it, and
    # with it `g` (the logged-in user) and the session of the previous request.
    with app.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"class_": Session, "bind": connection, "join_transaction_mode": "create_savepoint"}
    )
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        transaction.rollback()
        connection.close()
        dispose(app)


def dispose(app: Flask) -> None:
    """Close the app's pooled connections (PostgreSQL warns about connections left open)."""
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def make_app(_schema, database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build extra apps with make_config(**overrides); their connections are closed after."""
    apps = []

    def build(**overrides) -> Flask:
        built = create_app(make_config(database_url, tmp_path / "instance", **overrides))
        apps.append(built)
        return built

    yield build
    for built in apps:
        dispose(built)


def _empty_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app) -> Iterator[None]:
    """An application context for tests that call services directly.

    Don't use it with the test client: requests would share its `g` and database session.
    """
    with app.app_context():
        yield


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    """Create a user with the test password: make_user(Role.PARENT, email=..., ...)."""

    def make(role: str = Role.PARENT, **fields) -> User:
        n = next(_counter)
        with app.app_context():
            user = create_user(
                full_name=fields.pop("full_name", f"{role.title()} {n}"),
                email=fields.pop("email", f"{role}{n}@example.ma"),
                role=role,
                password=fields.pop("password", PASSWORD),
                locale=fields.pop("locale", "fr"),
                phone=fields.pop("phone", None),
            )
            for name, value in fields.items():
                setattr(user, name, value)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


@pytest.fixture
def parent(make_user) -> User:
    return make_user(Role.PARENT, full_name="Karim Alaoui")


@pytest.fixture
def instructor(make_user) -> User:
    return make_user(Role.INSTRUCTOR, full_name="Youssef Benali")


@pytest.fixture
def coordinator(make_user) -> User:
    return make_user(Role.COORDINATOR, full_name="Fatima Zahra El Amrani")


def login(client: FlaskClient, user: User, password: str = PASSWORD, **extra):
    return client.post("/login", data={"email": user.email, "password": password, **extra})


@pytest.fixture
def login_as(client) -> Callable[[User], FlaskClient]:
    def do_login(user: User) -> FlaskClient:
        response = login(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do_login


def mail_log(app: Flask) -> str:
    """Deliver the outbox to the mail log and return the log's text."""
    from lms.notifications.delivery import deliver_due
    from lms.notifications.transports import mail_log_path

    with app.app_context():
        deliver_due()
        path = mail_log_path()
        return path.read_text(encoding="utf-8") if path.exists() else ""


def links_in(text_: str) -> list[str]:
    return re.findall(r"https?://\S+", text_)
