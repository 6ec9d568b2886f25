"""Every domain's models, imported in one place (for Alembic and the tests)."""

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.courses.models import Closure, Cohort, CohortInstructor, Course, Lesson, Room
from lms.notifications.models import OutboxAttachment, OutboxMessage

__all__ = [
    "AuditEntry",
    "Closure",
    "Cohort",
    "CohortInstructor",
    "Course",
    "Lesson",
    "OutboxAttachment",
    "OutboxMessage",
    "Room",
    "User",
]
