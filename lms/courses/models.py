"""Courses, rooms, closures, cohorts and their lessons."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import age_in_years, lab_zone
from lms.database import UTCDateTime, utcnow
from lms.extensions import db
from lms.labels import LabelledEnum

if TYPE_CHECKING:
    from lms.courses.terms import Term


class Track(LabelledEnum):
    CODING = "coding", _l("Coding")
    ROBOTICS = "robotics", _l("Robotics")
    PRINTING_3D = "3d_printing", _l("3D printing")


class Level(LabelledEnum):
    BEGINNER = "beginner", _l("Beginner")
    INTERMEDIATE = "intermediate", _l("Intermediate")
    ADVANCED = "advanced", _l("Advanced")


class CohortStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    OPEN = "open", _l("Open for enrolment")
    CLOSED = "closed", _l("Enrolment closed")
    CANCELLED = "cancelled", _l("Cancelled")
    COMPLETED = "completed", _l("Completed")


# Cohorts whose page and public calendar anyone may see (drafts are the coordinators' own).
PUBLIC_COHORT_STATUSES = (CohortStatus.OPEN, CohortStatus.CLOSED, CohortStatus.COMPLETED)


class LessonStatus(LabelledEnum):
    SCHEDULED = "scheduled", _l("Scheduled")
    CANCELLED = "cancelled", _l("Cancelled")


class TeachingRole(LabelledEnum):
    LEAD = "lead", _l("Lead instructor")
    ASSISTANT = "assistant", _l("Assistant")


class InstructionLanguage(LabelledEnum):
    """The languages a cohort can be taught in."""

    FRENCH = "fr", _l("French")
    ARABIC = "ar", _l("Arabic")
    ENGLISH = "en", _l("English")


course_prerequisites = Table(
    "course_prerequisites",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("prerequisite_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    CheckConstraint("course_id <> prerequisite_id", name="not_itself"),
)


class Course(db.Model):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("track IN ('coding', 'robotics', '3d_printing')", name="track_known"),
        CheckConstraint("level IN ('beginner', 'intermediate', 'advanced')", name="level_known"),
        CheckConstraint("min_age > 0 AND min_age <= max_age", name="ages_ordered"),
        CheckConstraint("price_centimes >= 0", name="price_not_negative"),
        CheckConstraint(
            "attendance_threshold BETWEEN 0 AND 100", name="attendance_threshold_percent"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title_fr: Mapped[str] = mapped_column(String(120), unique=True)
    title_ar: Mapped[str | None] = mapped_column(String(120))
    title_en: Mapped[str | None] = mapped_column(String(120))
    summary_fr: Mapped[str] = mapped_column(Text)
    summary_ar: Mapped[str | None] = mapped_column(Text)
    summary_en: Mapped[str | None] = mapped_column(Text)
    track: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20), default=Level.BEGINNER)
    min_age: Mapped[int]
    max_age: Mapped[int]
    # Moroccan dirhams in centimes: 35000 is 350.00 MAD; 0 is free.
    price_centimes: Mapped[int] = mapped_column(default=0)
    # Percentage of lessons a child must attend to earn the certificate.
    attendance_threshold: Mapped[int] = mapped_column(default=80)
    requires_final_project: Mapped[bool] = mapped_column(default=False)
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.prerequisite_id,
        order_by=lambda: Course.title_fr,
    )
    cohorts: Mapped[list[Cohort]] = relationship(back_populates="course")

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title_fr!r}>"

    def title(self, language: str) -> str:
        """The title in ``language``, French when there is none."""
        return getattr(self, f"title_{language}", None) or self.title_fr

    def summary(self, language: str) -> str:
        """The summary in ``language``, French when there is none."""
        return getattr(self, f"summary_{language}", None) or self.summary_fr

    @property
    def price_mad(self) -> float:
        return self.price_centimes / 100

    @property
    def is_free(self) -> bool:
        return self.price_centimes == 0


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("site", "name", name="uq_rooms_site_name"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(80))
    # The name as Arabic pages show it; the French one when there is none.
    name_ar: Mapped[str | None] = mapped_column(String(80))
    capacity: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Room {self.id} {self.name!r}>"

    def name_in(self, language: str) -> str:
        """The room's name in ``language``: Arabic when it has one, else its name."""
        return self.name_ar if language == "ar" and self.name_ar else self.name

    @property
    def label(self) -> str:
        """Name and site, in the language of the page being shown (forms' choices)."""
        from lms.i18n import current_language

        return f"{self.name_in(current_language())} — {self.site}"


class Closure(db.Model):
    """A day or a run of days when the lab is closed (public holiday, lab closure)."""

    __tablename__ = "closures"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<Closure {self.starts_on}..{self.ends_on} {self.label!r}>"

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class CohortInstructor(db.Model):
    """An instructor teaching a cohort, as its lead or as an assistant."""

    __tablename__ = "cohort_instructors"
    __table_args__ = (
        CheckConstraint("role IN ('lead', 'assistant')", name="role_known"),
        # At most one lead per cohort.
        Index(
            "uq_cohort_instructors_one_lead",
            "cohort_id",
            unique=True,
            sqlite_where=text("role = 'lead'"),
            postgresql_where=text("role = 'lead'"),
        ),
    )

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    instructor_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(10))

    cohort: Mapped[Cohort] = relationship(back_populates="staff")
    instructor: Mapped[User] = relationship()


class Cohort(db.Model):
    """One scheduled run of a course."""

    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'open', 'closed', 'cancelled', 'completed')", name="status_known"
        ),
        CheckConstraint("language IN ('fr', 'ar', 'en')", name="language_known"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        # The enrolment domain takes seats with an atomic conditional UPDATE; this holds the line.
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"
        ),
        CheckConstraint("waitlist_count >= 0", name="waitlist_not_negative"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("duration_minutes BETWEEN 15 AND 480", name="duration_sensible"),
        CheckConstraint("weekdays <> ''", name="weekdays_given"),
        CheckConstraint(
            "enrolment_closes_at IS NULL OR enrolment_opens_at IS NULL "
            "OR enrolment_closes_at > enrolment_opens_at",
            name="enrolment_window_ordered",
        ),
        Index("ix_cohorts_status_start_date", "status", "start_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="RESTRICT"), index=True
    )
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"), index=True)
    capacity: Mapped[int] = mapped_column(default=12)
    # Maintained by the enrolment domain (enrolled + offered children; waiting list length).
    seats_taken: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    waitlist_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    language: Mapped[str] = mapped_column(String(2), default=InstructionLanguage.FRENCH)
    status: Mapped[str] = mapped_column(String(10), default=CohortStatus.DRAFT)
    enrolment_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enrolment_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # Weekdays of the pattern as digits, Monday = 0: "25" is Wednesday and Saturday.
    weekdays: Mapped[str] = mapped_column(String(7))
    start_time: Mapped[time] = mapped_column(Time)  # local time in the lab's zone
    duration_minutes: Mapped[int] = mapped_column(default=90)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship(back_populates="cohorts")
    room: Mapped[Room] = relationship()
    staff: Mapped[list[CohortInstructor]] = relationship(
        back_populates="cohort",
        cascade="all, delete-orphan",
        order_by=lambda: (CohortInstructor.role.desc(), CohortInstructor.instructor_id),
    )
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="cohort",
        cascade="all, delete-orphan",
        order_by=lambda: Lesson.starts_at,
        foreign_keys=lambda: [Lesson.cohort_id],
    )

    @classmethod
    def starting_in(cls, term: Term):
        """The condition "this cohort belongs to ``term``" (a cohort belongs to the term in
        which it starts), for a ``select(...).where(...)``."""
        return cls.start_date.between(term.starts_on, term.ends_on)

    def __repr__(self) -> str:
        return f"<Cohort {self.id} course={self.course_id} {self.status}>"

    @property
    def weekday_numbers(self) -> list[int]:
        return sorted(int(digit) for digit in self.weekdays)

    @property
    def end_time(self) -> time:
        start = datetime.combine(date(2000, 1, 1), self.start_time)
        return (start + timedelta(minutes=self.duration_minutes)).time()

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def lead(self) -> User | None:
        return next((s.instructor for s in self.staff if s.role == TeachingRole.LEAD), None)

    @property
    def assistants(self) -> list[User]:
        return [s.instructor for s in self.staff if s.role == TeachingRole.ASSISTANT]

    @property
    def instructor_ids(self) -> set[int]:
        return {s.instructor_id for s in self.staff}

    @property
    def enrolment_last_day(self) -> date | None:
        """The last local day on which families can enrol (the window closes at its end)."""
        if self.enrolment_closes_at is None:
            return None
        return (self.enrolment_closes_at.astimezone(lab_zone()) - timedelta(seconds=1)).date()

    def is_running(self, now: datetime | None = None) -> bool:
        """Open or closed for enrolment and not over yet: families' places in it still move."""
        if self.status not in (CohortStatus.OPEN, CohortStatus.CLOSED):
            return False
        return self.end_date >= (now or utcnow()).astimezone(lab_zone()).date()

    def enrolment_is_open(self, now: datetime | None = None) -> bool:
        """Open status and inside the enrolment window (an open bound is no bound)."""
        now = now or utcnow()
        if self.status != CohortStatus.OPEN:
            return False
        if self.enrolment_opens_at and now < self.enrolment_opens_at:
            return False
        return not (self.enrolment_closes_at and now >= self.enrolment_closes_at)

    def accepts_age(self, birth_date: date) -> bool:
        """Whether a child born on ``birth_date`` fits the course's ages on the start date."""
        age = age_in_years(birth_date, self.start_date)
        return self.course.min_age <= age <= self.course.max_age


class Lesson(db.Model):
    """One dated meeting of a cohort."""

    __tablename__ = "lessons"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status_known"),
        CheckConstraint("ends_at > starts_at", name="times_ordered"),
        UniqueConstraint("cohort_id", "number", name="uq_lessons_cohort_id_number"),
        Index("ix_lessons_cohort_id_starts_at", "cohort_id", "starts_at"),
        Index("ix_lessons_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    # 1, 2, 3... in the order the lessons were planned; a make-up lesson takes the next number.
    number: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default=LessonStatus.SCHEDULED)
    is_makeup: Mapped[bool] = mapped_column(default=False)
    # Another room than the cohort's, for this lesson only.
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(String(200))
    # Grows with every change; calendar feeds publish it as SEQUENCE.
    revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="lessons", foreign_keys=[cohort_id])
    room_override: Mapped[Room | None] = relationship(foreign_keys=[room_id])

    def __repr__(self) -> str:
        return f"<Lesson {self.id} cohort={self.cohort_id} #{self.number} {self.starts_at}>"

    @property
    def room(self) -> Room:
        return self.room_override or self.cohort.room

    @property
    def is_cancelled(self) -> bool:
        return self.status == LessonStatus.CANCELLED

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(lab_zone())

    @property
    def local_end(self) -> datetime:
        return self.ends_at.astimezone(lab_zone())

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)
