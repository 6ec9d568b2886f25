"""Fetch a family object for the current user, or answer 404/403 (permissions.py decides)."""

from __future__ import annotations

from pathlib import Path

from flask import abort
from flask_login import current_user

from lms.accounts.models import User
from lms.extensions import db
from lms.families import photos
from lms.families.models import Child, ContactKind, ContactPerson, GuardianInvitation
from lms.families.permissions import (
    can_manage_child,
    can_see_photo,
    can_view_safeguarding,
    is_guardian,
)


def load_child(child_id: int) -> Child:
    """The child if the current user is one of its guardians; 404 for anyone else."""
    child = db.get_or_404(Child, child_id)
    if not can_manage_child(current_user, child):
        abort(404)
    return child


def load_contact(child: Child, kind: ContactKind, contact_id: int) -> ContactPerson:
    """One of this child's people on file of ``kind`` (the child already loaded), or 404."""
    contact = db.get_or_404(ContactPerson, contact_id)
    if contact.child_id != child.id or contact.kind != kind:
        abort(404)
    return contact


def load_guardian(child: Child, user_id: int) -> User:
    """One of this child's guardians (the child already loaded), or 404."""
    guardian = db.get_or_404(User, user_id)
    if not is_guardian(guardian, child):
        abort(404)
    return guardian


def load_invitation(child: Child, invitation_id: int) -> GuardianInvitation:
    """An invitation that covers this child (the child already loaded), or 404."""
    invitation = db.get_or_404(GuardianInvitation, invitation_id)
    if child not in invitation.children:
        abort(404)
    return invitation


def load_safeguarding_child(child_id: int) -> Child:
    """A child whose safeguarding card the current member of staff may read; 404 if erased,
    403 unless they may."""
    child = db.get_or_404(Child, child_id)
    if child.is_erased:
        abort(404)
    if not can_view_safeguarding(current_user, child):
        abort(403)
    return child


def load_photo(child_id: int) -> Path:
    """The stored photo of a child the current user may see on the register: 404 for another
    family, an erased child or no photo, 403 for staff who do not teach the child."""
    child = db.get_or_404(Child, child_id)
    if child.is_erased:
        abort(404)
    if not can_see_photo(current_user, child):
        abort(403 if current_user.is_authenticated and current_user.is_staff else 404)
    path = photos.path_of(child.photo_image) if child.has_photo else None
    if path is None:
        abort(404)
    return path
