"""Every domain's models, imported in one place (for Alembic and the tests)."""

from lms.accounts.models import User
from lms.families.models import (
    AccountClosureNotice,
    AuthorisedPickup,
    Child,
    ConsentRecord,
    EmergencyContact,
    GuardianInvitation,
    Guardianship,
    MedicalAccessLog,
)
from lms.notifications.models import OutboxAttachment, OutboxMessage

__all__ = [
    "AccountClosureNotice",
    "AuthorisedPickup",
    "Child",
    "ConsentRecord",
    "EmergencyContact",
    "GuardianInvitation",
    "Guardianship",
    "MedicalAccessLog",
    "OutboxAttachment",
    "OutboxMessage",
    "User",
]
