"""Configuration: defaults, instance/config.py, LMS_* environment, secrets, production."""

from __future__ import annotations

import logging
import stat

import pytest

from lms import create_app
from lms.settings import ConfigurationError


@pytest.fixture
def instance(tmp_path):
    path = tmp_path / "instance"
    path.mkdir()
    return path


def test_secret_key_is_generated_once_with_mode_0600(instance, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": None})
    second = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": None})
    key_file = instance / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) >= 64


def test_default_database_is_sqlite_in_the_instance_folder(instance):
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "x", "DATABASE_URL": None})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'lms.sqlite3'}"


def test_environment_overrides_instance_config(instance, monkeypatch):
    (instance / "config.py").write_text(
        "MAIL_DEFAULT_SENDER = 'instance@example.ma'\nPASSWORD_MIN_LENGTH = 12\n"
    )
    monkeypatch.setenv("LMS_PASSWORD_MIN_LENGTH", "14")
    monkeypatch.setenv("LMS_DATABASE_URL", "sqlite:////tmp/from-env.sqlite3")
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "x"})
    assert app.config["MAIL_DEFAULT_SENDER"] == "instance@example.ma"
    assert app.config["PASSWORD_MIN_LENGTH"] == 14
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/from-env.sqlite3"


def test_production_refuses_to_start_without_a_secret(instance, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    monkeypatch.setenv("LMS_ENV", "production")
    with pytest.raises(ConfigurationError, match="LMS_SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": None})
    assert not (instance / "secret_key").exists()


def test_production_on_sqlite_recommends_postgresql(instance, monkeypatch, caplog):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "a-real-secret-from-the-environment")
    with caplog.at_level(logging.WARNING, logger="lms.settings"):
        app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": None})
    assert app.secret_key == "a-real-secret-from-the-environment"
    assert "PostgreSQL" in caplog.text
    assert app.config["SESSION_COOKIE_SECURE"] is True
