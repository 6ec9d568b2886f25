"""Who may read the audit log."""

from __future__ import annotations


def can_read_audit_log(user) -> bool:
    """Coordinators only."""
    return user.is_authenticated and user.is_active and user.is_coordinator
