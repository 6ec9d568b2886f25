"""Fetch the messages a page is about, checking who may read them (404/403)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from lms.accounts.models import User
from lms.extensions import db
from lms.messaging.models import Message
from lms.messaging.permissions import can_read_family, can_read_message


def load_message(message_id: int) -> Message:
    """The message, if the current user may read it; 404 or 403."""
    message = db.get_or_404(Message, message_id)
    if not can_read_message(current_user, message):
        abort(403)
    return message


def load_family_thread(user_id: int) -> User:
    """The family whose messages the current user may read; 404 otherwise (an instructor
    learns nothing of the families of other groups)."""
    family = db.session.get(User, user_id)
    if family is None or not can_read_family(current_user, family):
        abort(404)
    return family
