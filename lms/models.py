"""Every domain's models, imported in one place (for Alembic and the tests)."""

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.notifications.models import OutboxAttachment, OutboxMessage

__all__ = ["AuditEntry", "OutboxAttachment", "OutboxMessage", "User"]
