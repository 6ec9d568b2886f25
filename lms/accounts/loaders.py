"""Fetch the accounts a page is about, checking who may see them (404/403)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from lms.accounts import services
from lms.accounts.models import User
from lms.accounts.permissions import can_manage_staff
from lms.extensions import db
from lms.roles import STAFF_ROLES


def load_staff(user_id: int) -> User:
    """A staff account (instructor or coordinator) the current user manages; 404 or 403."""
    user = db.get_or_404(User, user_id)
    if user.role not in STAFF_ROLES:
        abort(404)
    if not can_manage_staff(current_user):
        abort(403)
    return user


def load_password_link_user(token: str, purpose: str) -> User:
    """The user a password link belongs to; a dead link leads to the page that sends a new one."""
    try:
        return services.user_from_password_token(token, purpose)
    except services.InvalidLink as error:
        # Not a refused action but a dead link: say why, and offer a new one.
        flash(error.message, "error")
        abort(redirect(url_for("accounts.forgot_password")))
