"""Every domain's models, imported in one place (for Alembic and the tests)."""

from lms.accounts.models import User
from lms.attendance.models import (
    AbsenceEmailOptOut,
    AbsenceNotice,
    AttendanceChange,
    AttendanceMark,
    Checkout,
    FinalProjectMark,
    Incident,
    LessonNote,
    OfflineChange,
    SubstituteAssignment,
    ThresholdNotice,
)
from lms.audit.models import AuditEntry
from lms.certificates.models import Certificate
from lms.courses.models import Closure, Cohort, CohortInstructor, Course, Lesson, Room
from lms.enrolment.models import (
    BankCsvMapping,
    CardOrder,
    CardOrderLine,
    CreditNote,
    Enrolment,
    Payment,
    PrerequisiteWaiver,
    StatementLine,
)
from lms.enrolment.reminders import FeeReminder
from lms.families.models import (
    AccountClosureNotice,
    Child,
    ConsentRecord,
    ContactPerson,
    GuardianInvitation,
    Guardianship,
    MedicalAccessLog,
)
from lms.messaging.models import InboxReply, Message, MessageRecipient
from lms.notifications.models import OutboxAttachment, OutboxMessage
from lms.numbering import DocumentCounter
from lms.submissions import FormSubmission

__all__ = [
    "AbsenceEmailOptOut",
    "AbsenceNotice",
    "AccountClosureNotice",
    "AttendanceChange",
    "AttendanceMark",
    "AuditEntry",
    "BankCsvMapping",
    "CardOrder",
    "CardOrderLine",
    "Certificate",
    "Checkout",
    "Child",
    "Closure",
    "Cohort",
    "CohortInstructor",
    "ConsentRecord",
    "ContactPerson",
    "Course",
    "CreditNote",
    "DocumentCounter",
    "Enrolment",
    "FeeReminder",
    "FinalProjectMark",
    "FormSubmission",
    "GuardianInvitation",
    "Guardianship",
    "InboxReply",
    "Incident",
    "Lesson",
    "LessonNote",
    "MedicalAccessLog",
    "Message",
    "MessageRecipient",
    "OfflineChange",
    "OutboxAttachment",
    "OutboxMessage",
    "Payment",
    "PrerequisiteWaiver",
    "Room",
    "StatementLine",
    "SubstituteAssignment",
    "ThresholdNotice",
    "User",
]
