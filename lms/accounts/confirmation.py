"""A confirmed address before it matters: confirmation links, corrections and changes.

A parent can describe children and enrol at once after signing up; the address is confirmed
by a signed, expiring, single-use link sent to it. A link names the account and the address
it confirms, so it dies as soon as that address is confirmed, corrected or replaced. Staff
confirm theirs by the set-up link of their invitation; a password-reset link proves it too.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lms.accounts.models import User
from lms.audit import services as audit
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.services import queue_email, queue_email_to_user
from lms.security import verify_password


class InvalidConfirmation(DomainError):
    status = 410  # a dead link


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="lms-email-confirm")


def make_confirmation_token(user: User, address: str) -> str:
    """A signed token that confirms ``address`` for ``user``."""
    return _serializer().dumps({"u": user.id, "e": address})


def address_to_confirm(user: User) -> str | None:
    """The address a confirmation link would confirm now: a pending change, else an
    unconfirmed address; None when there is nothing to confirm."""
    if user.pending_email:
        return user.pending_email
    return None if user.email_confirmed else user.email


def send_confirmation_link(user: User) -> str | None:
    """E-mail a link to the address to confirm, in the user's language; returns it, or None."""
    address = address_to_confirm(user)
    if address is None:
        return None
    queue_email(
        to=address,
        template="email_confirm",
        language=user.locale,
        user_id=user.id,
        user=user,
        token=make_confirmation_token(user, address),
        days=current_app.config["EMAIL_CONFIRM_MAX_AGE"] // 86400,
    )
    return address


def read_confirmation_token(token: str) -> tuple[User, str]:
    """The account and address a link confirms; InvalidConfirmation if expired, used or forged."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["EMAIL_CONFIRM_MAX_AGE"])
    except SignatureExpired:
        raise InvalidConfirmation(
            _l("This link has expired. Log in and ask for a new one from your home page.")
        ) from None
    except BadSignature:
        raise InvalidConfirmation(_l("This confirmation link is not valid.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active:
        raise InvalidConfirmation(_l("This confirmation link is not valid."))
    address = data.get("e")
    if address != address_to_confirm(user):
        if address == user.email and user.email_confirmed:
            raise InvalidConfirmation(_l("This address is already confirmed."))
        raise InvalidConfirmation(
            _l("This link was replaced by a newer one, or the address was changed since.")
        )
    return user, address


def confirm_email(token: str) -> User:
    """Open a confirmation link: the address it names becomes the confirmed address."""
    user, address = read_confirmation_token(token)
    if user.pending_email == address:
        _check_free(address, user)
        old = user.email
        user.email = address
        user.pending_email = None
        audit.record("account.email_changed", actor=user, subject=user, previous=old)
    user.email_confirmed_at = utcnow()
    db.session.flush()
    return user


def mark_confirmed(user: User) -> None:
    """An e-mailed link (staff set-up, password reset) reached the address: it is confirmed."""
    if user.email_confirmed_at is None and user.pending_email is None:
        user.email_confirmed_at = utcnow()


def _check_free(address: str, user: User) -> None:
    from lms.accounts.services import find_user_by_email

    other = find_user_by_email(address)
    if other is not None and other.id != user.id:
        raise DomainError(_l("This address cannot be used. Choose another one."), field="email")


def change_email(user: User, *, new_email: str, password: str) -> str:
    """Ask for a new address (the password proves it is the owner). An address not yet
    confirmed is simply corrected; a confirmed one stays until the new one is confirmed, and
    the old one is told. Returns the address the link was sent to."""
    from lms.accounts.services import normalize_email

    if not verify_password(user.password_hash, password):
        raise DomainError(_l("This is not your current password."), field="password")
    address = normalize_email(new_email)
    if address == user.email:
        if user.email_confirmed:
            user.pending_email = None
            raise DomainError(_l("This is already your address."), field="email")
        return send_confirmation_link(user)
    _check_free(address, user)
    if user.email_confirmed:
        user.pending_email = address
        queue_email_to_user(user, "email_change_notice", new_email=address)
    else:
        audit.record("account.email_corrected", actor=user, subject=user, previous=user.email)
        user.email = address
        user.pending_email = None
    db.session.flush()
    return send_confirmation_link(user)
