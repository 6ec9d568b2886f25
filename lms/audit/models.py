"""One row per audited action: who, when, what, on which object."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import UTCDateTime, utcnow
from lms.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_subject", "subject_type", "subject_id"),
        Index("ix_audit_entries_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Kept when the actor's account is deleted: the entry then says "a deleted account".
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60))  # "<domain>.<verb>", e.g. "enrolment.created"
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    # Identifiers and changed values only; never names, e-mails or medical notes.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(String(500))

    # The account, known by name only (not imported, nor in the annotation): the audit log
    # sits below every domain, accounts included, so that each of them can write to it.
    actor = relationship("User")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.subject_type}:{self.subject_id}>"
