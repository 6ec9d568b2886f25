"""The lab's Ed25519 signing keys for Open Badges credentials, kept in the instance folder.

One JSON file per key in ``<instance>/keys/`` (mode 0600, the folder 0700): the private JWK,
when it was made and whether it signs (``active``), is only published so that credentials it
signed still verify (``published``), or was withdrawn (``retired``: no longer published, so
what it signed no longer verifies). Keys never go into the database, so a database export
holds none; ``flask lms backup`` copies the instance folder, see its warning.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from joserfc.jwk import KeySet, OKPKey

from lms.database import utcnow

FOLDER = "keys"
ALGORITHM = "Ed25519"  # RFC 9864's fully specified name for EdDSA over Ed25519
ACTIVE, PUBLISHED, RETIRED = "active", "published", "retired"


class SigningKeyError(RuntimeError):
    """No signing key, or an unknown one."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    created_at: datetime
    state: str
    key: OKPKey

    @property
    def public_jwk(self) -> dict:
        return {**self.key.as_dict(private=False), "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


def _folder(instance_path: str | Path) -> Path:
    return Path(instance_path) / FOLDER


def _write(path: Path, data: dict) -> None:
    """Write a key file readable by its owner only, replacing any older copy atomically."""
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=1, sort_keys=True)
    os.chmod(partial, 0o600)
    partial.replace(path)


def all_keys(instance_path: str | Path) -> list[SigningKey]:
    """Every key of the instance, oldest first."""
    keys = []
    folder = _folder(instance_path)
    if not folder.is_dir():
        return []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        keys.append(
            SigningKey(
                kid=data["kid"],
                created_at=datetime.fromisoformat(data["created_at"]),
                state=data["state"],
                key=OKPKey.import_key(data["jwk"]),
            )
        )
    return sorted(keys, key=lambda key: (key.created_at, key.kid))


def create_key(instance_path: str | Path) -> SigningKey:
    """A new active key; the one that was active stays published (what it signed verifies)."""
    folder = _folder(instance_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for key in all_keys(instance_path):
        if key.state == ACTIVE:
            _save(folder, key, PUBLISHED)
    now = utcnow()
    kid = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
    key = SigningKey(kid, now, ACTIVE, OKPKey.generate_key("Ed25519", private=True))
    _save(folder, key, ACTIVE)
    return key


def _save(folder: Path, key: SigningKey, state: str) -> None:
    _write(
        folder / f"{key.kid}.json",
        {
            "kid": key.kid,
            "created_at": key.created_at.isoformat(),
            "state": state,
            "jwk": key.key.as_dict(private=True),
        },
    )


def retire_key(instance_path: str | Path, kid: str) -> SigningKey:
    """Withdraw a key that no longer signs: it leaves the published set."""
    for key in all_keys(instance_path):
        if key.kid == kid:
            if key.state == ACTIVE:
                raise SigningKeyError("the active key cannot be retired: rotate first")
            _save(_folder(instance_path), key, RETIRED)
            return SigningKey(key.kid, key.created_at, RETIRED, key.key)
    raise SigningKeyError(f"no key {kid}")


def active_key(instance_path: str | Path) -> SigningKey:
    """The key that signs new credentials."""
    for key in reversed(all_keys(instance_path)):
        if key.state == ACTIVE:
            return key
    raise SigningKeyError("no signing key: run `flask lms keys create`")


def published_key_set(instance_path: str | Path) -> dict:
    """The JWKS document: the public halves of the active and published keys."""
    return {
        "keys": [
            key.public_jwk for key in all_keys(instance_path) if key.state in (ACTIVE, PUBLISHED)
        ]
    }


def import_key_set(document: dict) -> KeySet:
    """A JWKS document as joserfc keys (for verifiers and tests)."""
    return KeySet.import_key_set(document)
