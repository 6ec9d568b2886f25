"""Cross-cutting security: role guards, response headers, password hashing and policy."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from functools import cache, wraps
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Response, abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

# ---------------------------------------------------------------------------------------------
# Route guards


def role_required(*roles: str) -> Callable:
    """Require a logged-in user with one of ``roles``; anonymous -> login page, others -> 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = tuple(roles)  # read by the guard tests
        return wrapped

    return decorator


# ---------------------------------------------------------------------------------------------
# Headers

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def set_security_headers(response: Response) -> Response:
    """Headers on every response (registered as an after_request hook)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def is_private(response: Response) -> bool:
    """True for what only its reader should keep: every page or file shown to a signed-in
    user, and the pages reached by a link with a token (a password or confirmation link)."""
    if request.endpoint in (None, "static"):
        return False
    if request.view_args and "token" in request.view_args:
        return True
    # Not is_authenticated: that reads the user's row again after the commit.
    return not current_user.is_anonymous


def set_cache_policy(response: Response) -> Response:
    """``no-store`` on private answers, so that a shared computer's back button or a proxy
    never shows them again after logout (one hook for every page and download)."""
    if is_private(response) and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
        response.headers.add("Vary", "Cookie")
    return response


def init_security(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.after_request(set_cache_policy)


# ---------------------------------------------------------------------------------------------
# Passwords


def _hasher() -> PasswordHasher:
    config = current_app.config
    return _cached_hasher(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST_KIB"], config["ARGON2_PARALLELISM"]
    )


@cache
def _cached_hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` with the configured cost."""
    return _hasher().hash(password)


# A valid hash of a random password, verified against when the account does not exist, so
# that a login for an unknown e-mail takes as long as one for a known e-mail.
_DUMMY_PASSWORD = "not-a-real-password-but-the-same-cost"  # noqa: S105


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; always spends one hash computation."""
    hasher = _hasher()
    if not password_hash:
        hasher.verify(_dummy_hash(hasher), _DUMMY_PASSWORD)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


# Local favourites that no general list knows.
_LOCAL_COMMON_PASSWORDS = {
    "activelabs",
    "activelabs123",
    "technopark",
    "technopark123",
    "tanger2026",
    "tangier2026",
    "maroc12345",
    "morocco123",
    "azertyuiop",
    "motdepasse",
    "motdepasse123",
}


@cache
def common_passwords() -> frozenset[str]:
    """About 20,000 of the most common passwords (Django's list) plus local favourites."""
    data = resources.files("lms.accounts").joinpath("common-passwords.txt.gz").read_bytes()
    words = gzip.decompress(data).decode().split()
    return frozenset(word.strip().lower() for word in words) | _LOCAL_COMMON_PASSWORDS


# Keyboard rows (French AZERTY and QWERTY) and counting: "123456789012" is no password.
_SEQUENCES = (
    "01234567890123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertyuiopasdfghjklzxcvbnm",
)


def _is_sequence(lowered: str) -> bool:
    return any(lowered in seq or lowered[::-1] in seq for seq in _SEQUENCES)


def password_problems(password: str, *, email: str | None = None, name: str | None = None):
    """The reasons ``password`` is refused (translatable strings); empty if it is acceptable."""
    config = current_app.config
    problems = []
    if len(password) < config["PASSWORD_MIN_LENGTH"]:
        problems.append(
            _l(
                "Use at least %(num)d characters.",
                num=config["PASSWORD_MIN_LENGTH"],
            )
        )
    if len(password) > config["PASSWORD_MAX_LENGTH"]:
        problems.append(_l("Use at most %(num)d characters.", num=config["PASSWORD_MAX_LENGTH"]))
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) < 4 or _is_sequence(lowered):
        problems.append(_l("This password is too common; choose one that is harder to guess."))
    elif email and lowered in {email.lower(), email.split("@")[0].lower()}:
        problems.append(_l("Your password must not be your e-mail address."))
    elif name and lowered.replace(" ", "") == name.lower().replace(" ", ""):
        problems.append(_l("Your password must not be your name."))
    return problems


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site (no scheme, no host), else None."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    return target
