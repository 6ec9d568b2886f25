"""Who is on a lesson's roster, and the roster of one lesson as the instructors see it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.attendance.models import (
    ATTENDED_STATUSES,
    AbsenceNotice,
    AttendanceChange,
    AttendanceMark,
    Checkout,
    CollectorKind,
)
from lms.courses.models import Lesson
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child, ConsentKind, Guardianship

# Statuses an enrolment can have once it has been `enrolled` (enrolled_at is then set).
ONCE_ENROLLED = (EnrolmentStatus.ENROLLED, EnrolmentStatus.WITHDRAWN, EnrolmentStatus.CANCELLED)

# ---------------------------------------------------------------------------------------------
# Who is on a lesson's roster


def enrolled_at_instant(instant) -> ColumnElement[bool]:
    """Enrolments during which the child was enrolled at ``instant`` (a value or a column,
    e.g. ``Lesson.starts_at``).

    The one definition of "enrolled on the lesson's date": the enrolment reached `enrolled`
    (it is enrolled now, or was withdrawn or cancelled after having been enrolled) no later
    than the lesson's start, and had not ended by then.
    """
    return and_(
        Enrolment.status.in_(ONCE_ENROLLED),
        Enrolment.enrolled_at.is_not(None),
        Enrolment.enrolled_at <= instant,
        or_(Enrolment.ended_at.is_(None), Enrolment.ended_at > instant),
    )


def roster_enrolments(lesson: Lesson) -> dict[int, int]:
    """{child id: enrolment id} of the children enrolled in the lesson's cohort when it starts."""
    rows = db.session.execute(
        select(Enrolment.child_id, Enrolment.id)
        .where(Enrolment.cohort_id == lesson.cohort_id, enrolled_at_instant(lesson.starts_at))
        .order_by(Enrolment.id)
    )
    enrolments: dict[int, int] = {}
    for child_id, enrolment_id in rows:
        enrolments.setdefault(child_id, enrolment_id)
    return enrolments


def require_on_roster(lesson: Lesson, child_ids: Iterable[int]) -> dict[int, int]:
    """``roster_enrolments``, refusing if one of ``child_ids`` is not on the roster."""
    enrolments = roster_enrolments(lesson)
    if any(child_id not in enrolments for child_id in child_ids):
        raise DomainError(_l("This child is not enrolled in the cohort on the lesson's date."))
    return enrolments


# ---------------------------------------------------------------------------------------------
# The roster of one lesson


@dataclass(frozen=True)
class Collector:
    """Someone who may take the child home, as the check-out offers them."""

    key: str  # "guardian-12", "pickup-5" or "alone"
    kind: str
    id: int | None
    name: str | None
    relationship: str | None = None
    phone: str | None = None


@dataclass
class RosterRow:
    child: Child
    enrolment_id: int
    mark: AttendanceMark | None
    notice: AbsenceNotice | None
    checkout: Checkout | None
    photo_allowed: bool
    collectors: list[Collector]

    @property
    def status(self) -> str | None:
        return self.mark.status if self.mark else None

    @property
    def version(self) -> int:
        return self.mark.version if self.mark else 0

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED_STATUSES

    @property
    def waiting_for_pickup(self) -> bool:
        return self.attended and self.checkout is None


@dataclass
class Roster:
    lesson: Lesson
    rows: list[RosterRow]
    last_change: AttendanceChange | None = None

    def count(self, status: str | None) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def unmarked(self) -> int:
        return self.count(None)

    @property
    def waiting_for_pickup(self) -> list[RosterRow]:
        return [row for row in self.rows if row.waiting_for_pickup]

    @property
    def collected(self) -> list[RosterRow]:
        return [row for row in self.rows if row.checkout is not None]


def collectors_for(child: Child) -> list[Collector]:
    """Who may take ``child`` home: the active guardians, the authorised people, and "leaves
    alone" if the parents allowed it."""
    people = [
        Collector(
            key=f"guardian-{g.user_id}",
            kind=CollectorKind.GUARDIAN,
            id=g.user_id,
            name=g.user.full_name,
            phone=g.user.phone,
        )
        for g in child.guardianships
        if g.user.active
    ]
    people += [
        Collector(
            key=f"pickup-{p.id}",
            kind=CollectorKind.PICKUP,
            id=p.id,
            name=p.name,
            relationship=p.relationship_to_child,
            phone=p.phone,
        )
        for p in child.authorised_pickups
    ]
    if child.may_leave_alone:
        people.append(Collector(key="alone", kind=CollectorKind.ALONE, id=None, name=None))
    return people


def _photo_allowed(child: Child) -> bool:
    record = child.current_consent(ConsentKind.PHOTO)
    return record is not None and record.granted


def lesson_roster(lesson: Lesson) -> Roster:
    """Everyone enrolled on the lesson's date with their mark, notice and check-out, in a fixed
    number of queries whatever the number of children."""
    enrolments = roster_enrolments(lesson)
    children = list(
        db.session.scalars(
            select(Child)
            .where(Child.id.in_(list(enrolments)))
            .options(
                selectinload(Child.consent_records),
                selectinload(Child.contact_people),
                selectinload(Child.guardianships).joinedload(Guardianship.user),
            )
        )
    )
    marks = {
        mark.child_id: mark
        for mark in db.session.scalars(
            select(AttendanceMark).where(AttendanceMark.lesson_id == lesson.id)
        )
    }
    notices = {
        notice.child_id: notice
        for notice in db.session.scalars(
            select(AbsenceNotice).where(AbsenceNotice.lesson_id == lesson.id)
        )
    }
    checkouts = {
        checkout.child_id: checkout
        for checkout in db.session.scalars(select(Checkout).where(Checkout.lesson_id == lesson.id))
    }
    last_change = db.session.scalar(
        select(AttendanceChange)
        .join(AttendanceMark)
        .where(AttendanceMark.lesson_id == lesson.id)
        .options(joinedload(AttendanceChange.changed_by))
        .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())
        .limit(1)
    )
    rows = [
        RosterRow(
            child=child,
            enrolment_id=enrolments[child.id],
            mark=marks.get(child.id),
            notice=notices.get(child.id),
            checkout=checkouts.get(child.id),
            photo_allowed=_photo_allowed(child),
            collectors=collectors_for(child),
        )
        for child in children
    ]
    rows.sort(key=lambda row: (row.child.first_name.casefold(), row.child.last_name.casefold()))
    return Roster(lesson=lesson, rows=rows, last_change=last_change)
