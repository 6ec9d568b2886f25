"""Children, their guardians, and the safeguarding data a lab needs to look after them."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import age_in_years
from lms.database import UTCDateTime, utcnow
from lms.extensions import db
from lms.labels import LabelledEnum

NAME_MAX = 80
NOTES_MAX = 2000


class ConsentKind(LabelledEnum):
    HEALTH = "health", _l("Health information")
    PHOTO = "photo", _l("Photos and videos")
    # The child's identification photo, shown on the register to the staff who teach the
    # child's groups and to coordinators; unrelated to PHOTO (publication).
    ID_PHOTO = "id_photo", _l("Photo on the register")


class ContactKind(LabelledEnum):
    """Why a person is on a child's file: to be called, or to collect the child."""

    EMERGENCY = "emergency", _l("Emergency contact")
    PICKUP = "pickup", _l("Authorised pickup")


def _sql_list(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


class Child(db.Model):
    __tablename__ = "children"
    __table_args__ = (
        # An erased child keeps its row (others rely on it) but nothing that identifies it.
        CheckConstraint(
            "erased_at IS NOT NULL OR date_of_birth IS NOT NULL", name="born_unless_erased"
        ),
        CheckConstraint(
            "erased_at IS NULL OR (date_of_birth IS NULL AND allergies IS NULL "
            "AND medical_notes IS NULL AND first_name_ar IS NULL AND last_name_ar IS NULL "
            "AND photo_image IS NULL)",
            name="erased_means_empty",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Names in Latin script (any letters, accents and apostrophes welcome), and optionally in
    # Arabic script for bilingual certificates.
    first_name: Mapped[str] = mapped_column(String(NAME_MAX))
    last_name: Mapped[str] = mapped_column(String(NAME_MAX))
    first_name_ar: Mapped[str | None] = mapped_column(String(NAME_MAX))
    last_name_ar: Mapped[str | None] = mapped_column(String(NAME_MAX))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    school_grade: Mapped[str | None] = mapped_column(String(40))
    # Health data: only stored while the latest health consent is granted (services enforce).
    allergies: Mapped[str | None] = mapped_column(String(NOTES_MAX))
    medical_notes: Mapped[str | None] = mapped_column(String(NOTES_MAX))
    may_leave_alone: Mapped[bool] = mapped_column(default=False)
    # The identification photo's file in the instance folder (lms/families/photos.py), kept
    # only while the ID_PHOTO consent is granted (services enforce).
    photo_image: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    guardianships: Mapped[list[Guardianship]] = relationship(
        back_populates="child", cascade="all, delete-orphan", order_by="Guardianship.id"
    )
    # Both kinds in one list (load it once); emergency_contacts and authorised_pickups read it.
    contact_people: Mapped[list[ContactPerson]] = relationship(
        back_populates="child", cascade="all, delete-orphan", order_by="ContactPerson.id"
    )
    consent_records: Mapped[list[ConsentRecord]] = relationship(
        back_populates="child",
        cascade="all, delete-orphan",
        order_by=lambda: (ConsentRecord.recorded_at, ConsentRecord.id),
    )

    def __repr__(self) -> str:
        return f"<Child {self.id}>"

    @property
    def is_erased(self) -> bool:
        """True once the child's data was erased (the row stays for attendance, certificates)."""
        return self.erased_at is not None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name_ar(self) -> str | None:
        if not (self.first_name_ar or self.last_name_ar):
            return None
        return " ".join(part for part in (self.first_name_ar, self.last_name_ar) if part)

    def age_in_years(self, day: date) -> int | None:
        return age_in_years(self.date_of_birth, day) if self.date_of_birth else None

    def people(self, kind: str) -> list[ContactPerson]:
        """The people on file of ``kind``, in the order they were added."""
        return [person for person in self.contact_people if person.kind == kind]

    @property
    def emergency_contacts(self) -> list[ContactPerson]:
        return self.people(ContactKind.EMERGENCY)

    @property
    def authorised_pickups(self) -> list[ContactPerson]:
        """People other than the guardians who may collect the child after a lesson."""
        return self.people(ContactKind.PICKUP)

    @property
    def guardians(self) -> list[User]:
        return [guardianship.user for guardianship in self.guardianships]

    def current_consent(self, kind: str) -> ConsentRecord | None:
        """The latest decision of this kind (the history is append-only), or None if none yet."""
        latest = None
        for record in self.consent_records:
            if record.kind == kind:
                latest = record
        return latest

    def has_consent(self, kind: str) -> bool:
        record = self.current_consent(kind)
        return record is not None and record.granted

    @property
    def has_photo(self) -> bool:
        """An identification photo is on file (and its consent in force)."""
        return bool(self.photo_image) and self.has_consent(ConsentKind.ID_PHOTO)

    @property
    def has_health_data(self) -> bool:
        return bool(self.allergies or self.medical_notes)


class Guardianship(db.Model):
    """A parent account that sees and manages a child."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("user_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()
    child: Mapped[Child] = relationship(back_populates="guardianships")


class ContactPerson(db.Model):
    """A person on a child's file: someone to call in an emergency, or someone other than the
    guardians who may collect the child at the end of a lesson (``kind``)."""

    __tablename__ = "contact_people"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_list(ContactKind)})", name="kind_known"),
        Index("ix_contact_people_child_kind", "child_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    relationship_to_child: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    child: Mapped[Child] = relationship(back_populates="contact_people")


class ConsentRecord(db.Model):
    """One consent decision: append-only; the latest row of a kind is the current state."""

    __tablename__ = "consent_records"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_list(ConsentKind)})", name="kind_known"),
        Index("ix_consent_records_child_kind", "child_id", "kind", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    granted: Mapped[bool]
    notice_version: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    child: Mapped[Child] = relationship(back_populates="consent_records")
    actor: Mapped[User | None] = relationship()


class AccessKind(LabelledEnum):
    """What a member of staff opened that shows a child's medical data."""

    HEALTH = "health", _l("Safeguarding card")
    ROSTER = "roster", _l("Lesson roster, as a substitute")
    INCIDENT = "incident", _l("Incident record")


class MedicalAccessLog(db.Model):
    """A member of staff opened a child's medical data."""

    __tablename__ = "medical_access_logs"
    __table_args__ = (
        Index("ix_medical_access_logs_child_at", "child_id", "accessed_at"),
        CheckConstraint(f"what IN ({_sql_list(AccessKind)})", name="what_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    accessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    what: Mapped[str] = mapped_column(
        String(10), default=AccessKind.HEALTH.value, server_default=AccessKind.HEALTH.value
    )

    staff: Mapped[User | None] = relationship()


guardian_invitation_children = Table(
    "guardian_invitation_children",
    db.metadata,
    Column(
        "invitation_id",
        ForeignKey("guardian_invitations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("child_id", ForeignKey("children.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_guardian_invitation_children_child_id", "child_id"),
)


class GuardianInvitation(db.Model):
    """A guardian invites someone by e-mail to share some children; the link works once."""

    __tablename__ = "guardian_invitations"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inviter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    inviter: Mapped[User] = relationship(foreign_keys=[inviter_id])
    children: Mapped[list[Child]] = relationship(
        secondary=guardian_invitation_children, order_by="Child.id"
    )

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.cancelled_at is None


class AccountClosureNotice(db.Model):
    """An inactive account was warned that it will be closed (`flask lms purge`)."""

    __tablename__ = "account_closure_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
