"""Attendance: one mark per child and lesson with its history, absence notices, check-outs,
final projects, and the bookkeeping of what families were already told."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.courses.models import Cohort, Lesson
from lms.database import UTCDateTime, utcnow
from lms.extensions import db
from lms.families.models import Child, ContactPerson
from lms.labels import LabelledEnum


class AttendanceStatus(LabelledEnum):
    """A child's mark for one lesson."""

    PRESENT = "present", _l("Present")
    LATE = "late", _l("Late")
    ABSENT = "absent", _l("Absent")
    EXCUSED = "excused", _l("Excused")


# Present and late count as attended; excused lessons are left out of the rate.
ATTENDED_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class ChangeSource(LabelledEnum):
    """Where a change of mark came from."""

    ROLL_CALL = "roll_call", _l("Roll call")
    ABSENCE_NOTICE = "absence_notice", _l("Absence reported by a parent")
    CORRECTION = "correction", _l("Coordinator's correction")


class CollectorKind(LabelledEnum):
    """Who took a child home: a guardian, an authorised person, or nobody (left alone)."""

    GUARDIAN = "guardian", _l("guardian")
    PICKUP = "pickup", _l("Authorised pickup")
    ALONE = "alone", _l("left alone")


def _sql_list(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


class AttendanceMark(db.Model):
    """A child's mark for one lesson (invariant 5: one per child and lesson)."""

    __tablename__ = "attendance_marks"
    __table_args__ = (
        UniqueConstraint("lesson_id", "child_id", name="uq_attendance_marks_lesson_id_child_id"),
        CheckConstraint(f"status IN ({_sql_list(AttendanceStatus)})", name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="RESTRICT"))
    child_id: Mapped[int] = mapped_column(
        ForeignKey("children.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(10))
    # Grows by one with each change: a roster form sends back the version it showed, so a
    # save can tell the marks someone else changed in the meantime.
    version: Mapped[int] = mapped_column(default=1)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The instructor's note on the child for this lesson (offline roll call), if any.
    note: Mapped[str | None] = mapped_column(String(300))
    # Set when the parents were told the child was absent: never twice for one lesson.
    absence_email_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lesson: Mapped[Lesson] = relationship()
    child: Mapped[Child] = relationship()
    marked_by: Mapped[User | None] = relationship()
    changes: Mapped[list[AttendanceChange]] = relationship(
        back_populates="mark", order_by="AttendanceChange.id"
    )

    def __repr__(self) -> str:
        return f"<AttendanceMark lesson={self.lesson_id} child={self.child_id} {self.status}>"

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED_STATUSES


class AttendanceChange(db.Model):
    """One change of a mark: who, when, the status before (None: first mark) and after."""

    __tablename__ = "attendance_changes"
    __table_args__ = (
        CheckConstraint(
            f"before IS NULL OR before IN ({_sql_list(AttendanceStatus)})", name="before_known"
        ),
        CheckConstraint(f"after IN ({_sql_list(AttendanceStatus)})", name="after_known"),
        CheckConstraint(f"source IN ({_sql_list(ChangeSource)})", name="source_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mark_id: Mapped[int] = mapped_column(
        ForeignKey("attendance_marks.id", ondelete="RESTRICT"), index=True
    )
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    before: Mapped[str | None] = mapped_column(String(10))
    after: Mapped[str] = mapped_column(String(10))
    # The mark's version this change produced.
    version: Mapped[int]
    source: Mapped[str] = mapped_column(String(20))
    # A coordinator's correction says why.
    reason: Mapped[str | None] = mapped_column(String(300))

    mark: Mapped[AttendanceMark] = relationship(back_populates="changes")
    changed_by: Mapped[User | None] = relationship()


class AbsenceNotice(db.Model):
    """A parent said in advance that the child will miss a lesson."""

    __tablename__ = "absence_notices"
    __table_args__ = (
        UniqueConstraint("lesson_id", "child_id", name="uq_absence_notices_lesson_id_child_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="RESTRICT"))
    child_id: Mapped[int] = mapped_column(
        ForeignKey("children.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str | None] = mapped_column(String(300))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lesson: Mapped[Lesson] = relationship()
    child: Mapped[Child] = relationship()
    reported_by: Mapped[User | None] = relationship()


class Checkout(db.Model):
    """Who took a child home after a lesson, and when."""

    __tablename__ = "checkouts"
    __table_args__ = (
        UniqueConstraint("lesson_id", "child_id", name="uq_checkouts_lesson_id_child_id"),
        CheckConstraint(f"collector_kind IN ({_sql_list(CollectorKind)})", name="kind_known"),
        # The person's row may be deleted later (SET NULL); the name stays as it was.
        CheckConstraint(
            "(collector_kind = 'alone' AND guardian_id IS NULL AND pickup_id IS NULL "
            "AND collector_name IS NULL) "
            "OR (collector_kind = 'guardian' AND pickup_id IS NULL) "
            "OR (collector_kind = 'pickup' AND guardian_id IS NULL)",
            name="collector_consistent",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="RESTRICT"))
    child_id: Mapped[int] = mapped_column(
        ForeignKey("children.id", ondelete="RESTRICT"), index=True
    )
    collector_kind: Mapped[str] = mapped_column(String(10))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pickup_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_people.id", ondelete="SET NULL")
    )
    # The collector's name as it was on the list (None when the child left alone).
    collector_name: Mapped[str | None] = mapped_column(String(120))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lesson: Mapped[Lesson] = relationship()
    child: Mapped[Child] = relationship()
    guardian: Mapped[User | None] = relationship(foreign_keys=[guardian_id])
    pickup: Mapped[ContactPerson | None] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])


class FinalProjectMark(db.Model):
    """An instructor's word that a child completed (or not) the cohort's final project."""

    __tablename__ = "final_project_marks"
    __table_args__ = (
        UniqueConstraint("cohort_id", "child_id", name="uq_final_project_marks_cohort_id_child_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="RESTRICT"))
    child_id: Mapped[int] = mapped_column(
        ForeignKey("children.id", ondelete="RESTRICT"), index=True
    )
    completed: Mapped[bool] = mapped_column(default=False)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cohort: Mapped[Cohort] = relationship()
    child: Mapped[Child] = relationship()
    marked_by: Mapped[User | None] = relationship()


class ThresholdNotice(db.Model):
    """Families and coordinators were told that an enrolment can no longer reach the
    certificate threshold (told once per enrolment)."""

    __tablename__ = "attendance_threshold_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), unique=True
    )
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AbsenceEmailOptOut(db.Model):
    """A parent who asked not to be e-mailed when a child is marked absent."""

    __tablename__ = "absence_email_opt_outs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncOutcome(LabelledEnum):
    """What the server did with a change sent by a device (offline roll call)."""

    APPLIED = "applied", _l("applied")
    CONFLICT = "conflict", _l("conflict")
    REFUSED = "refused", _l("refused")


class OfflineChange(db.Model):
    """A change made on an instructor's device, recorded once per UUID (the device made the
    UUID): a change sent twice is applied once, and the second copy gets the first answer."""

    __tablename__ = "offline_changes"
    __table_args__ = (
        CheckConstraint(f"outcome IN ({_sql_list(SyncOutcome)})", name="outcome_known"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(10), default=SyncOutcome.APPLIED)
    # The answer sent the first time (the message shown to the instructor), as JSON text.
    answer: Mapped[str | None] = mapped_column(String(2000))


# ---------------------------------------------------------------------------------------------
# After the lesson: the instructor's note, incidents, substitutes

NOTE_MAX = 2000
INCIDENT_TEXT_MAX = 2000
INCIDENT_TOLD_MAX = 300


class LessonNote(db.Model):
    """What the group did in a lesson and what to bring next time, in the author's words; the
    families of the group read it on their child's page (one note per lesson)."""

    __tablename__ = "lesson_notes"
    __table_args__ = (UniqueConstraint("lesson_id", name="uq_lesson_notes_lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    # Only the author edits the note; an account deleted later leaves it unsigned.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(String(NOTE_MAX))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lesson: Mapped[Lesson] = relationship()
    author: Mapped[User | None] = relationship()


class Incident(db.Model):
    """An incident or first aid during a lesson: which child, when, what happened, what was
    done and who was told. Read by the coordinators and the child's parents only; deleted when
    its retention period ends (INCIDENT_RETENTION_MONTHS)."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_occurred_at", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(
        ForeignKey("lessons.id", ondelete="RESTRICT"), index=True
    )
    child_id: Mapped[int] = mapped_column(
        ForeignKey("children.id", ondelete="RESTRICT"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    what_happened: Mapped[str] = mapped_column(String(INCIDENT_TEXT_MAX))
    action_taken: Mapped[str] = mapped_column(String(INCIDENT_TEXT_MAX))
    who_was_told: Mapped[str | None] = mapped_column(String(INCIDENT_TOLD_MAX))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the app told the parents (the instructor chose to when recording it).
    parents_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lesson: Mapped[Lesson] = relationship()
    child: Mapped[Child] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class SubstituteAssignment(db.Model):
    """A coordinator asked an instructor to teach a cohort's lessons from ``first_day`` to
    ``last_day`` (local dates; one lesson is one day); the substitute reads those lessons'
    rosters on those days only. Cancelled assignments are kept, with who cancelled them."""

    __tablename__ = "substitute_assignments"
    __table_args__ = (
        CheckConstraint("last_day >= first_day", name="days_ordered"),
        Index("ix_substitute_assignments_substitute_days", "substitute_id", "last_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cohort: Mapped[Cohort] = relationship()
    substitute: Mapped[User] = relationship(foreign_keys=[substitute_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def covers(self, day: date) -> bool:
        """Whether the assignment is in force on local day ``day``."""
        return not self.is_cancelled and self.first_day <= day <= self.last_day
