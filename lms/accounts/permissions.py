"""Who may do what with accounts."""

from __future__ import annotations

from lms.accounts.models import User


def can_manage_staff(user: User) -> bool:
    """Coordinators create, edit and deactivate instructor and coordinator accounts."""
    return user.is_authenticated and user.is_active and user.is_coordinator
