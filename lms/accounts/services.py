"""Account rules: registration, staff accounts, login, passwords, reset links, language."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from lms.accounts.confirmation import mark_confirmed
from lms.accounts.models import User, new_session_token
from lms.accounts.permissions import can_manage_staff
from lms.audit import services as audit
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.services import queue_email_to_user
from lms.roles import STAFF_ROLES, Role
from lms.security import hash_password, password_needs_rehash, password_problems, verify_password


class EmailTaken(DomainError):
    pass


class InvalidLink(DomainError):
    pass


def normalize_email(email: str) -> str:
    """E-mail addresses are compared and stored lower-cased and trimmed."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The account with this address, whatever its case."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def _check_email_free(email: str) -> None:
    if find_user_by_email(email) is not None:
        raise EmailTaken(
            _l("An account already uses this e-mail address. Log in or reset your password."),
            field="email",
        )


def _check_password(password: str, *, email: str, name: str) -> None:
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise DomainError(problems[0], field="password")


def register_parent(
    *,
    full_name: str,
    email: str,
    phone: str | None,
    password: str,
    locale: str,
    privacy_notice_version: str,
) -> User | None:
    """Open a parent account; the privacy notice's version and the time are recorded.

    When the address already has an account, nothing is created and None is returned; its
    owner is e-mailed instead (someone tried to sign up with it; here is a reset link), so
    that the page answers the same whether the address is known or not.
    """
    email = normalize_email(email)
    _check_password(password, email=email, name=full_name)
    owner = find_user_by_email(email)
    password_hash = hash_password(password)  # also spent when nothing is created: same time
    if owner is not None:
        _warn_owner_of_signup(owner)
        return None
    now = utcnow()
    user = User(
        email=email,
        full_name=full_name.strip(),
        phone=phone,
        role=Role.PARENT,
        locale=locale,
        password_hash=password_hash,
        password_changed_at=now,
        privacy_notice_version=privacy_notice_version,
        privacy_accepted_at=now,
    )
    db.session.add(user)
    db.session.flush()
    return user


def _warn_owner_of_signup(owner: User) -> None:
    """Tell an account's owner that someone tried to sign up with its address."""
    if not owner.active:
        return  # a closed account gets no mail; the page says the same all the same
    queue_email_to_user(
        owner,
        "signup_existing",
        token=make_password_token(owner, RESET),
        minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
    )


def create_user(
    *,
    full_name: str,
    email: str,
    role: str,
    phone: str | None = None,
    locale: str = "fr",
    password: str | None = None,
    send_setup_link: bool = True,
) -> User:
    """Create an account of any role (the CLI and the coordinators' staff page use this).

    Without a password, the person receives a "set your password" e-mail.
    """
    if role not in Role.__members__.values():
        raise DomainError(_l("Unknown role."), field="role")
    email = normalize_email(email)
    _check_email_free(email)
    if password is not None:
        _check_password(password, email=email, name=full_name)
    user = User(
        email=email,
        full_name=full_name.strip(),
        phone=phone,
        role=role,
        locale=locale,
        password_hash=hash_password(password) if password else None,
        password_changed_at=utcnow() if password else None,
    )
    db.session.add(user)
    db.session.flush()
    if password is None and send_setup_link:
        send_account_setup_link(user)
    return user


def create_staff(
    *, actor: User, full_name: str, email: str, role: str, phone: str | None, locale: str
) -> User:
    """A coordinator creates an instructor or coordinator, who sets a password by e-mail."""
    if not can_manage_staff(actor):
        raise DomainError(_l("Only coordinators can create staff accounts."))
    if role not in STAFF_ROLES:
        raise DomainError(_l("Staff accounts are instructors or coordinators."), field="role")
    user = create_user(full_name=full_name, email=email, role=role, phone=phone, locale=locale)
    audit.record("staff.created", actor=actor, subject=user, role=role)
    return user


def _require_staff_manager(actor: User, staff: User) -> None:
    if not can_manage_staff(actor):
        raise DomainError(_l("Only coordinators can manage staff accounts."))
    if staff.role not in STAFF_ROLES:
        raise DomainError(_l("This is not a staff account."))


def _active_coordinators() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.COORDINATOR, User.active.is_(True))
    )


def update_staff(
    staff: User, *, actor: User, full_name: str, role: str, phone: str | None, locale: str
) -> User:
    """A coordinator corrects a staff member's name, phone, role or language."""
    _require_staff_manager(actor, staff)
    if role not in STAFF_ROLES:
        raise DomainError(_l("Staff accounts are instructors or coordinators."), field="role")
    if staff.role == Role.COORDINATOR and role != Role.COORDINATOR and staff.active:
        if staff.id == actor.id:
            raise DomainError(_l("You cannot remove your own coordinator role."), field="role")
        if _active_coordinators() <= 1:
            raise DomainError(_l("The lab needs at least one active coordinator."), field="role")
    changes = {
        name: new
        for name, old, new in (
            ("role", staff.role, role),
            ("locale", staff.locale, locale),
            ("phone_changed", bool(staff.phone != phone), True),
            ("name_changed", staff.full_name != full_name.strip(), True),
        )
        if old != new
    }
    staff.full_name = full_name.strip()
    staff.phone = phone
    staff.role = role
    set_language(staff, locale)
    if "role" in changes:
        end_all_sessions(staff)  # the menus and rights change: log in again
    audit.record("staff.updated", actor=actor, subject=staff, **changes)
    return staff


def set_staff_active(staff: User, *, actor: User, active: bool) -> User:
    """Deactivate (logged out everywhere at once) or reactivate a staff account."""
    _require_staff_manager(actor, staff)
    if not active:
        if staff.id == actor.id:
            raise DomainError(_l("You cannot deactivate your own account."))
        if staff.role == Role.COORDINATOR and staff.active and _active_coordinators() <= 1:
            raise DomainError(_l("The lab needs at least one active coordinator."))
    staff.active = active
    end_all_sessions(staff)
    audit.record("staff.activated" if active else "staff.deactivated", actor=actor, subject=staff)
    return staff


def send_staff_password_link(staff: User, *, actor: User) -> None:
    """E-mail a staff member a link to (re)set their password."""
    _require_staff_manager(actor, staff)
    if not staff.active:
        raise DomainError(_l("Reactivate the account first."))
    if staff.has_password:
        request_password_reset(staff.email)
    else:
        send_account_setup_link(staff)
    audit.record("staff.password_link_sent", actor=actor, subject=staff)


def authenticate(email: str, password: str) -> User | None:
    """The active account matching these credentials, or None (same time either way)."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: ``<id>:<session token>``; a rotated token no longer loads."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(user.session_token, token):
        return None
    return user


def end_all_sessions(user: User) -> None:
    """Log the user out of every browser: sessions and remember-me cookies stop loading."""
    user.session_token = new_session_token()
    db.session.flush()


def set_password(user: User, new_password: str) -> None:
    """Set a new password (policy checked) and end every other session."""
    _check_password(new_password, email=user.email, name=user.full_name)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    end_all_sessions(user)


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Change a password, knowing the current one."""
    if not verify_password(user.password_hash, current_password):
        raise DomainError(_l("Your current password is not correct."), field="current_password")
    set_password(user, new_password)


def update_profile(user: User, *, full_name: str, phone: str | None, locale: str) -> User:
    """A user edits their own name, phone and language."""
    user.full_name = full_name.strip()
    user.phone = phone
    set_language(user, locale)
    return user


def set_language(user: User, language: str) -> None:
    """Remember the user's language (it also chooses the language of their e-mails)."""
    if language not in current_app.config["LANGUAGES"]:
        raise DomainError(_l("Unknown language."), field="language")
    user.locale = language
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Signed, expiring, single-use links (password reset and staff account set-up)

RESET = "reset"
SETUP = "setup"
_MAX_AGE_SETTING = {RESET: "PASSWORD_RESET_MAX_AGE", SETUP: "ACCOUNT_SETUP_MAX_AGE"}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"lms-password-{purpose}")


def _fingerprint(user: User) -> str:
    # Changes when the password is set or the sessions are ended, so a link works once.
    material = f"{user.password_hash}|{user.session_token}".encode()
    return hashlib.sha256(material).hexdigest()[:20]


def make_password_token(user: User, purpose: str = RESET) -> str:
    """A signed token for a password link; it expires and dies once the password changes."""
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user)})


def user_from_password_token(token: str, purpose: str = RESET) -> User:
    """The user a password link belongs to; InvalidLink if expired, used or forged."""
    max_age = current_app.config[_MAX_AGE_SETTING[purpose]]
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidLink(_l("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise InvalidLink(_l("This link is not valid or has already been used.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if (
        user is None
        or not user.active
        or not hmac.compare_digest(str(data.get("f")), _fingerprint(user))
    ):
        raise InvalidLink(_l("This link is not valid or has already been used."))
    return user


def reset_password_with_token(token: str, new_password: str, purpose: str = RESET) -> User:
    """Use a password link: set the password; the link and every session die."""
    user = user_from_password_token(token, purpose)
    set_password(user, new_password)
    mark_confirmed(user)  # the link reached the address
    return user


def request_password_reset(email: str) -> None:
    """E-mail a reset link if an active account has this address; silent otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    queue_email_to_user(
        user,
        "password_reset",
        token=make_password_token(user, RESET),
        minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
    )


def send_account_setup_link(user: User) -> None:
    """E-mail a new staff member the link that sets their first password."""
    queue_email_to_user(
        user,
        "account_setup",
        token=make_password_token(user, SETUP),
        days=current_app.config["ACCOUNT_SETUP_MAX_AGE"] // 86400,
    )
