"""Backup and restore: a round trip gives back the same data and files."""

from __future__ import annotations

import tarfile
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.audit.services import record
from lms.extensions import db
from lms.roles import Role
from tests.conftest import PASSWORD, with_search_path


@pytest.fixture
def two_databases(database_url, is_postgres, tmp_path):
    """URLs of two new, empty databases of the kind under test."""
    if not is_postgres:
        yield (
            f"sqlite:///{tmp_path / 'source.sqlite3'}",
            f"sqlite:///{tmp_path / 'target.sqlite3'}",
        )
        return
    admin = create_engine(with_search_path(database_url, None), isolation_level="AUTOCOMMIT")
    names = [f"lms_backup_{uuid.uuid4().hex[:8]}_{n}" for n in (1, 2)]
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        pytest.skip(f"the test role cannot create databases: {type(error).__name__}")
    base = make_url(with_search_path(database_url, None))
    yield tuple(base.set(database=name).render_as_string(hide_password=False) for name in names)
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def rows(app) -> list[tuple]:
    with app.app_context():
        users = db.session.execute(
            select(User.id, User.email, User.full_name, User.password_hash).order_by(User.id)
        ).all()
        db.session.remove()
        return [tuple(row) for row in users]


@pytest.mark.committed
def test_backup_then_restore_into_an_empty_instance(make_app, two_databases, tmp_path):
    source_url, target_url = two_databases
    source = make_app(DATABASE_URL=source_url, INSTANCE_PATH=str(tmp_path / "source"))
    with source.app_context():
        upgrade()
        coordinator = create_user(
            full_name="Fatima Zahra El Amrani",
            email="c@activelabs.ma",
            role=Role.COORDINATOR,
            password=PASSWORD,
        )
        create_user(full_name="نادية بناني", email="nadia@example.ma", role=Role.PARENT)
        record("demo.done", actor=coordinator, reason="backup test")
        db.session.commit()
    stored = tmp_path / "source" / "certificates" / "2026" / "AL-TEST.pdf"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"%PDF-1.7 certificate")
    (tmp_path / "source" / "mail.log").write_text("not data")

    runner = source.test_cli_runner()
    result = runner.invoke(args=["lms", "backup", "--dest", str(tmp_path / "archives")])
    assert result.exit_code == 0, result.output
    archives = sorted((tmp_path / "archives").glob("lms-backup-*.tar.gz"))
    assert len(archives) == 1
    with tarfile.open(archives[0]) as tar:
        names = tar.getnames()
    assert "manifest.json" in names
    assert "files/certificates/2026/AL-TEST.pdf" in names
    assert "files/mail.log" not in names
    assert "files/secret_key" not in names

    target = make_app(DATABASE_URL=target_url, INSTANCE_PATH=str(tmp_path / "target"))
    result = target.test_cli_runner().invoke(args=["lms", "restore", str(archives[0])])
    assert result.exit_code == 0, result.output
    assert rows(target) == rows(source)
    restored = tmp_path / "target" / "certificates" / "2026" / "AL-TEST.pdf"
    assert restored.read_bytes() == b"%PDF-1.7 certificate"
    with target.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM audit_entries")) == 1
        db.session.remove()

    # Restoring twice is refused: the target is no longer empty.
    result = target.test_cli_runner().invoke(args=["lms", "restore", str(archives[0])])
    assert result.exit_code == 1
    assert "not empty" in result.output


def test_rotation_keeps_the_newest(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'rot.sqlite3'}")
    runner = app.test_cli_runner()
    for _ in range(4):
        assert (
            runner.invoke(
                args=["lms", "backup", "--dest", str(tmp_path / "a"), "--keep", "2"]
            ).exit_code
            == 0
        )
    assert len(list((tmp_path / "a").glob("lms-backup-*.tar.gz"))) == 2


def test_restore_bad_archives(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    runner = app.test_cli_runner()
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not an archive")
    cases = [
        (tmp_path / "missing.tar.gz", "no backup at"),
        (garbage, "is not a backup archive"),
    ]
    for path, message in cases:
        result = runner.invoke(args=["lms", "restore", str(path)])
        assert result.exit_code == 1
        assert message in result.output
