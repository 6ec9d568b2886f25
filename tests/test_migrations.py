"""Migrations: an empty database upgrades to head, matches the models, and downgrades."""

from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from lms.extensions import db
from tests.conftest import with_search_path

SCHEMA = f"migration_check_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


@pytest.fixture
def empty_database_url(database_url, is_postgres, tmp_path):
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    if not is_postgres:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    yield with_search_path(database_url, SCHEMA)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    engine.dispose()


@pytest.mark.committed
def test_upgrade_from_empty_then_no_drift_then_downgrade(make_app, empty_database_url):
    app = make_app(DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {table.name for table in db.metadata.sorted_tables} <= tables
        # `flask db check`: autogenerate finds nothing to do.
        config = app.extensions["migrate"].migrate.get_config()
        command.check(config)
        head = ScriptDirectory.from_config(config).get_current_head()
        with db.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar() == head
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.session.remove()


def test_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1
