"""Fixtures: one schema and one app per test run, one rolled-back transaction per test.

The app is built once per session (``Apps``; with pytest-xdist once per worker, each worker on
its own SQLite file or PostgreSQL schema). Each test gets it through the ``app`` fixture, which
isolates the test and puts back everything it changes:

- the database: the test's ``db.session`` runs on one connection inside an outer transaction,
  rolled back after the test; a commit only releases a savepoint. Tests marked ``committed``
  (concurrency, live server) commit for real; the tables are emptied after them.
- the configuration: ``app.config`` is restored after each test, so a test may set
  ``app.config["X"] = ...`` freely. To give a domain, a module or a test other settings from
  the start, override the ``config_overrides`` fixture (or parametrize it). Most settings are
  read when they are used and are simply patched in; those that create_app() reads once
  (``STARTUP_SETTINGS``: rate limits, cookie security, the database...) get an app of their
  own, built once for each distinct set and cached. Tests of app construction itself use
  ``make_app`` (a new app every call).
- the instance folder (mail log, stored certificates): a new one per test, ``tmp_path``.
- the request hooks and template loader of the app, the hooks and providers of the domains
  (lms/*/hooks.py), and the rate limiter's switch and counts.

Every test request starts with an empty ``g`` (see ``empty_g``).

``LMS_TEST_DATABASE_URL=postgresql+psycopg://...`` runs the same suite on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, event, make_url, text

from lms import create_app
from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.database import Session
from lms.extensions import db, limiter
from lms.hooks import Hook, Provider
from lms.roles import Role

PASSWORD = "correct-horse-battery"

# No wall-clock deadline per example: on a busy two-CPU machine a first example that fills a
# cache can take 250 ms, and Hypothesis then reports a flaky failure that is only the machine.
settings.register_profile("lms", deadline=None)
settings.load_profile("lms")


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
    """Override in a conftest, a module or a test (parametrize) to change the configuration."""
    return {}


# Settings that create_app() reads once, when the extensions are bound and the derived
# settings resolved (lms/settings.py): a new value needs an app of its own. Every other
# setting is read from current_app.config when it is used, so the test's app.config is
# patched instead. (Flask-Babel keeps BABEL_DEFAULT_LOCALE on the app at start-up, but the
# locale selector, lms/i18n.py, reads it from the config on every call.)
STARTUP_SETTINGS = frozenset(
    {
        "ENV",
        "TESTING",
        "DEBUG",
        "SECRET_KEY",
        "DATABASE_URL",
        "INSTANCE_PATH",
        "SESSION_COOKIE_SECURE",
        "SQLITE_BUSY_TIMEOUT_MS",
        "LOG_FORMAT",
        "LOG_LEVEL",
        "BABEL_DOMAIN",
        "BABEL_TRANSLATION_DIRECTORIES",
    }
)
STARTUP_PREFIXES = ("SQLALCHEMY_", "RATELIMIT_")


def is_startup_setting(name: str) -> bool:
    return name in STARTUP_SETTINGS or name.startswith(STARTUP_PREFIXES)


def empty_g() -> None:
    """Every test request starts with an empty ``g``, as a real request does.

    While a test holds an application context (the ``ctx`` fixture, ``with app.app_context()``),
    Flask reuses it for the test client's requests, and with it ``g``, where Flask-Login keeps
    the current user and Flask-Babel the locale: they would carry over from one request, or
    from the test itself, to the next. (The request keeps sharing the test's database session,
    so that the test sees what the request changed.)
    """
    for name in list(vars(g)):
        delattr(g, name)


_MISSING = object()


class Apps:
    """The apps of a test session, each built once: the shared app, and one per distinct set
    of start-up settings that some tests ask for (rate limits on, say)."""

    def __init__(self, database_url: str, instance_root: Path) -> None:
        self.database_url = database_url
        self.instance_root = instance_root
        self.built: dict[str, Flask] = {}
        self.shared = self._build({})

    def get(self, startup: dict) -> Flask:
        # A setting given its default value needs no app of its own.
        changed = {k: v for k, v in startup.items() if self.shared.config.get(k, _MISSING) != v}
        return self._build(changed) if changed else self.shared

    def _build(self, overrides: dict) -> Flask:
        key = repr(sorted(overrides.items()))
        if key not in self.built:
            instance = self.instance_root / f"app-{len(self.built)}"
            app = create_app(make_config(self.database_url, instance, **overrides))
            limiter.enabled = False  # switched on by a rate-limited app; see _test_state
            app.before_request_funcs.setdefault(None, []).insert(0, empty_g)
            self.built[key] = app
        return self.built[key]

    def dispose(self) -> None:
        for app in self.built.values():
            dispose(app)


@pytest.fixture(scope="session")
def _apps(_schema, database_url, tmp_path_factory) -> Iterator[Apps]:
    apps = Apps(database_url, tmp_path_factory.mktemp("apps"))
    yield apps
    apps.dispose()


@pytest.fixture
def app(request, _apps, tmp_path, config_overrides) -> Iterator[Flask]:
    """The session's app, for this test: its own configuration, instance folder and database
    transaction, all put back afterwards."""
    startup = {k: v for k, v in config_overrides.items() if is_startup_setting(k)}
    app = _apps.get(startup)
    with _test_state(app, tmp_path / "instance", config_overrides):
        if request.node.get_closest_marker("committed"):
            try:
                yield app
            finally:
                _empty_tables(app)
        else:
            with _rolled_back(app):
                yield app


@contextmanager
def _test_state(app: Flask, instance: Path, overrides: dict) -> Iterator[None]:
    """Give ``app`` this test's settings and instance folder (mail log, stored PDFs); put back
    whatever the test changed on it: settings, instance folder, template loader, request hooks.
    """
    config = dict(app.config)
    instance_path = app.instance_path
    loader = app.jinja_loader
    hooks = {
        name: {key: list(funcs) for key, funcs in getattr(app, name).items()}
        for name in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")
    }
    instance.mkdir(parents=True, exist_ok=True)
    app.instance_path = str(instance)
    app.config.update(overrides, INSTANCE_PATH=str(instance))
    # The limiter is one object for every app, switched on or off by the last app built (and
    # its decorators run even on an app built with limits off): this app's start-up setting
    # decides, for this test, with counts of its own; off again after it, as in every app
    # make_config() builds.
    limiter.enabled = app.config["RATELIMIT_ENABLED"]
    if limiter.enabled:
        limiter.reset()
    try:
        yield
    finally:
        limiter.enabled = False
        for name, saved in hooks.items():
            funcs = getattr(app, name)
            funcs.clear()
            funcs.update(saved)
        if app.jinja_loader is not loader:
            app.jinja_loader = loader
            app.jinja_env.cache.clear()  # templates the test's loader served
        app.instance_path = instance_path
        app.config.clear()
        app.config.update(config)


@contextmanager
def _rolled_back(app: Flask) -> Iterator[None]:
    """Everything the test writes, commits included, in one transaction rolled back after it.

    The test's session (``db.session``, whichever app context uses it) runs on one connection
    in an outer transaction; a commit only releases a savepoint.
    """
    # No application context stays pushed during the test: a request would reuse it, and
    # with it the session of the previous request.
    with app.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"class_": Session, "bind": connection, "join_transaction_mode": "create_savepoint"}
    )
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        transaction.rollback()
        connection.close()


def dispose(app: Flask) -> None:
    """Close the app's pooled connections (PostgreSQL warns about connections left open)."""
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def make_app(_schema, database_url, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Build new apps with make_config(**overrides), for the tests of what create_app() does
    (cookie security from TESTING/DEBUG, the error pages of a non-testing app, migrations on
    another database); their connections are closed after."""
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


@pytest.fixture(scope="session")
def _domain_hooks() -> list[Hook | Provider]:
    """The hooks and providers through which the domains talk (lms/*/hooks.py; create_app's
    imports have loaded them all)."""
    return [
        value
        for name, module in list(sys.modules.items())
        if name.startswith("lms.") and name.endswith(".hooks")
        for value in vars(module).values()
        if isinstance(value, Hook | Provider)
    ]


@pytest.fixture(autouse=True)
def _restore_domain_hooks(_domain_hooks) -> Iterator[None]:
    """What a test registers on a hook, or makes a provider answer, lasts for that test only:
    the hooks are module state, shared by every app and every test."""
    saved = [
        (hook._provider, list(hook._overrides))
        if isinstance(hook, Provider)
        else list(hook._functions)
        for hook in _domain_hooks
    ]
    yield
    for hook, state in zip(_domain_hooks, saved, strict=True):
        if isinstance(hook, Provider):
            hook._provider, hook._overrides[:] = state[0], state[1]
        else:
            hook._functions[:] = state


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
def user_locale() -> str:
    """The language the ``parent``, ``instructor`` and ``coordinator`` read the site in;
    a domain whose tests read the pages in English overrides it."""
    return "fr"


@pytest.fixture
def parent(make_user, user_locale) -> User:
    return make_user(Role.PARENT, full_name="Karim Alaoui", locale=user_locale)


@pytest.fixture
def instructor(make_user, user_locale) -> User:
    return make_user(Role.INSTRUCTOR, full_name="Youssef Benali", locale=user_locale)


@pytest.fixture
def coordinator(make_user, user_locale) -> User:
    return make_user(Role.COORDINATOR, full_name="Fatima Zahra El Amrani", locale=user_locale)


def get(user: User) -> User:
    """The user, attached to the current session (the user fixtures are detached)."""
    return db.session.get(User, user.id)


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


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(app) -> Callable[[], AbstractContextManager[StatementCounter]]:
    """``with count_statements() as counter: ...`` counts the SQL statements sent."""

    @contextmanager
    def counting() -> Iterator[StatementCounter]:
        counter = StatementCounter()
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting
