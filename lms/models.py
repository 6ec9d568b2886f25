"""Every domain's models, imported in one place (for Alembic and the tests)."""

from lms.accounts.models import User
from lms.notifications.models import OutboxAttachment, OutboxMessage

__all__ = ["OutboxAttachment", "OutboxMessage", "User"]
