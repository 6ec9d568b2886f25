"""Backups: a consistent online copy of the database and of the stored files, and restore.

An archive ``lms-backup-<UTC time>.tar.gz`` holds ``manifest.json``, the database
(``database.sqlite3`` taken with SQLite's online backup API, or ``database.pgdump`` from
``pg_dump --format=custom``) and ``files/`` (what the instance folder stores: PDFs and so on;
not the secret key, the local config, the mail log or older backups).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from lms.extensions import db

ARCHIVE_PREFIX = "lms-backup-"
# Instance entries that are configuration, secrets, logs or the database itself.
# Secrets stay out of archives: the secret key and the credential signing keys (keys/).
NOT_DATA = {"config.py", "secret_key", "keys", "mail.log", "backups", "README.md"}


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    removed: list[Path]


def _database_url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _is_database_file(name: str, database: str | None) -> bool:
    if not database:
        return False
    base = Path(database).name
    return name in {base, f"{base}-wal", f"{base}-shm", f"{base}-journal"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq_args(url) -> tuple[list[str], dict]:
    """pg_dump/pg_restore arguments and environment for a SQLAlchemy URL (no password in argv)."""
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    options = url.query.get("options")
    if options:
        env["PGOPTIONS"] = options if isinstance(options, str) else " ".join(options)
    return args, env


def _dump_database(workdir: Path) -> tuple[str, Path]:
    url = _database_url()
    if url.get_backend_name() == "sqlite":
        target = workdir / "database.sqlite3"
        source = sqlite3.connect(url.database)
        try:
            destination = sqlite3.connect(target)
            with destination:
                source.backup(destination)
            destination.close()
        finally:
            source.close()
        return "sqlite", target
    if url.get_backend_name() == "postgresql":
        target = workdir / "database.pgdump"
        args, env = _libpq_args(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args], env)
        return "postgresql", target
    raise BackupError(f"cannot back up a {url.get_backend_name()} database")


def _run(command: list[str], env: dict) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed: sudo apt-get install postgresql-client")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise BackupError(f"{command[0]} failed: {completed.stderr.strip()[:500]}")


def _current_revision() -> str | None:
    try:
        return db.session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:
        db.session.rollback()
        return None


def create_backup(destination: Path | None = None, *, keep: int = 14) -> BackupResult:
    """Write a dated archive into ``destination`` and keep only the newest ``keep`` ones."""
    instance = Path(current_app.instance_path)
    destination = Path(destination or instance / "backups")
    destination.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    archive = destination / f"{ARCHIVE_PREFIX}{stamp}.tar.gz"
    database_path = (
        _database_url().database if _database_url().get_backend_name() == "sqlite" else None
    )

    with tempfile.TemporaryDirectory() as tmp:
        kind, dump = _dump_database(Path(tmp))
        files = [
            path
            for path in sorted(instance.rglob("*"))
            if path.is_file()
            and path.relative_to(instance).parts[0] not in NOT_DATA
            and not _is_database_file(path.name, database_path)
            and destination not in path.parents
        ]
        manifest = {
            "format": 1,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": kind,
            "revision": _current_revision(),
            "files": {str(p.relative_to(instance)): _sha256(p) for p in files},
            "database_sha256": _sha256(dump),
        }
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=dump.name)
            for path in files:
                tar.add(path, arcname=f"files/{path.relative_to(instance)}")
        partial.rename(archive)
    db.session.rollback()

    backups = sorted(destination.glob(f"{ARCHIVE_PREFIX}*.tar.gz"))
    removed = backups[:-keep] if keep > 0 else []
    for old in removed:
        old.unlink()
    return BackupResult(path=archive, size=archive.stat().st_size, removed=removed)


def _database_is_empty() -> bool:
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    if not tables:
        return True
    return all(
        not db.session.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first()  # noqa: S608
        for table in tables
    )


def restore_backup(archive: Path) -> dict:
    """Restore an archive into this (empty) instance. Returns the manifest."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"no backup at {archive}")
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"{archive.name} is not a backup archive ({error})") from None
    instance = Path(current_app.instance_path)
    url = _database_url()
    with tar, tempfile.TemporaryDirectory() as tmp:
        try:
            manifest = json.load(tar.extractfile("manifest.json"))
        except (KeyError, json.JSONDecodeError, TypeError):
            raise BackupError(f"{archive.name} has no readable manifest") from None
        kind = manifest.get("database")
        if kind != url.get_backend_name():
            raise BackupError(
                f"this backup holds a {kind} database; this instance uses {url.get_backend_name()}"
            )
        tar.extractall(tmp, filter="data")
        dump = Path(tmp) / ("database.sqlite3" if kind == "sqlite" else "database.pgdump")
        if _sha256(dump) != manifest.get("database_sha256"):
            raise BackupError("the database in this backup is damaged (checksum mismatch)")
        for name, digest in manifest.get("files", {}).items():
            if _sha256(Path(tmp) / "files" / name) != digest:
                raise BackupError(f"{name} in this backup is damaged (checksum mismatch)")
        if not _database_is_empty():
            raise BackupError("this instance's database is not empty; restore into a new one")
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            target = Path(url.database)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            source = sqlite3.connect(dump)
            destination = sqlite3.connect(target)
            with destination:
                source.backup(destination)
            source.close()
            destination.close()
        else:
            args, env = _libpq_args(url)
            _run(["pg_restore", "--no-owner", "--clean", "--if-exists", *args, str(dump)], env)
        for name in manifest.get("files", {}):
            target = instance / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(tmp) / "files" / name, target)
    return manifest
