"""Settings that depend on others: database URL, secret key, cookie security."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    pass


def resolve(app: Flask) -> None:
    """Fill in what the defaults leave open: database URL, secret key, cookie security."""
    config = app.config
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    production = config["ENV"] == "production"

    url = config.get("DATABASE_URL") or f"sqlite:///{instance / 'lms.sqlite3'}"
    config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            # Each thread gets its own connection; a request never shares one.
            "connect_args": {"check_same_thread": False},
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
        }
        if production:
            log.warning(
                "LMS_ENV=production with SQLite: fine for one small server; PostgreSQL "
                "(LMS_DATABASE_URL=postgresql+psycopg://...) is recommended."
            )
    else:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
        }

    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigurationError(
                "LMS_ENV=production needs an explicit secret key: set LMS_SECRET_KEY "
                "or SECRET_KEY in instance/config.py."
            )
        config["SECRET_KEY"] = _instance_secret(instance / "secret_key")

    if config.get("SESSION_COOKIE_SECURE") is None:
        config["SESSION_COOKIE_SECURE"] = not (app.debug or app.testing)
    config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]


def _instance_secret(path: Path) -> str:
    """Read the generated secret key, creating it (mode 0600) on first start."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as secret_file:
        secret_file.write(secrets.token_hex(32))
    return path.read_text().strip()
