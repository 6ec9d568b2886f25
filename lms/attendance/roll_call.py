"""The roll call of a lesson (marks saved on top of what others saved meanwhile) and the
check-out of the children who attended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import User
from lms.attendance.marks import clean_reason, set_mark
from lms.attendance.models import (
    AttendanceChange,
    AttendanceMark,
    AttendanceStatus,
    ChangeSource,
    Checkout,
    CollectorKind,
)
from lms.attendance.notices import tell_about_absences, tell_about_unreachable_thresholds
from lms.attendance.permissions import is_correction, marking_opens_at, marking_refusal
from lms.attendance.roster import collectors_for, require_on_roster
from lms.audit import services as audit
from lms.courses.models import Lesson
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child

# ---------------------------------------------------------------------------------------------
# The roll call


@dataclass(frozen=True)
class MarkEntry:
    """One child's line of a submitted roster: the status chosen (None: left blank), and the
    status and version the form showed."""

    status: str | None
    seen_status: str | None = None
    seen_version: int = 0

    @property
    def changed(self) -> bool:
        return self.status is not None and self.status != self.seen_status


@dataclass(frozen=True)
class OtherSave:
    """Someone else saved the roster after this form was shown."""

    name: str
    at: datetime


@dataclass
class RollCallResult:
    written: int = 0  # marks this save changed
    applied_on_top: int = 0  # of those, marks someone else had changed since the form was shown
    others: list[OtherSave] = field(default_factory=list)
    emails: int = 0


def _lock_lesson(lesson: Lesson) -> None:
    """Serialise saves of one roster (PostgreSQL; SQLite's BEGIN IMMEDIATE already does)."""
    db.session.execute(select(Lesson.id).where(Lesson.id == lesson.id).with_for_update())


def save_roll_call(
    lesson: Lesson,
    *,
    actor: User,
    entries: Mapping[int, MarkEntry],
    reason: str | None = None,
    now: datetime | None = None,
) -> RollCallResult:
    """Save a roster: write only the marks the form changed, on top of whatever others saved
    meanwhile (the later save wins for the marks it changed), keep every change in the history,
    and tell the families what they must know."""
    now = now or utcnow()
    refusal = marking_refusal(actor, lesson, now=now)
    if refusal is not None:
        raise DomainError(refusal)
    for entry in entries.values():
        if entry.status is not None and entry.status not in AttendanceStatus.__members__.values():
            raise DomainError(_l("Choose present, late, absent or excused."))
    correction = is_correction(lesson, now=now)
    reason = clean_reason(reason)
    if correction and not reason:
        raise DomainError(
            _l("Say why you correct the attendance of a lesson held more than 7 days ago."),
            field="reason",
        )
    source = ChangeSource.CORRECTION if correction else ChangeSource.ROLL_CALL
    _lock_lesson(lesson)
    enrolments = require_on_roster(lesson, entries)
    marks = {
        mark.child_id: mark
        for mark in db.session.scalars(
            select(AttendanceMark).where(AttendanceMark.lesson_id == lesson.id)
        )
    }

    result = RollCallResult()
    # Marks someone else changed since the form was shown (whether or not this save changes
    # them): mark id -> the version the form showed.
    moved = {
        mark.id: entries[child_id].seen_version
        for child_id, mark in marks.items()
        if child_id in entries and mark.version != entries[child_id].seen_version
    }
    if moved:
        result.others = _saves_since(moved)
    changes = []
    newly_absent: list[AttendanceMark] = []
    for child_id, entry in sorted(entries.items()):
        if not entry.changed:
            continue
        mark = marks.get(child_id)
        if mark is not None and mark.status == entry.status:
            continue  # someone else already made the same change
        if mark is not None and mark.version != entry.seen_version:
            result.applied_on_top += 1
        before = mark.status if mark else None
        mark = set_mark(
            mark,
            lesson=lesson,
            child_id=child_id,
            status=entry.status,
            actor=actor,
            source=source,
            now=now,
            reason=reason if correction else None,
        )
        result.written += 1
        changes.append({"child_id": child_id, "before": before, "after": entry.status})
        if entry.status == AttendanceStatus.ABSENT:
            newly_absent.append(mark)
    if changes:
        audit.record(
            "attendance.roll_call",
            actor=actor,
            subject=lesson,
            reason=reason if correction else None,
            source=source,
            changes=changes,
        )
        db.session.flush()
        result.emails = tell_about_absences(lesson, newly_absent, now=now)
        result.emails += tell_about_unreachable_thresholds(
            [enrolments[change["child_id"]] for change in changes], now=now
        )
    return result


def _saves_since(seen_versions: Mapping[int, int]) -> list[OtherSave]:
    """Who changed these marks after the versions a form showed ({mark id: version}), each
    person once with their latest change."""
    latest: dict[int, OtherSave] = {}
    rows = db.session.execute(
        select(
            AttendanceChange.mark_id,
            AttendanceChange.version,
            AttendanceChange.changed_by_id,
            User.full_name,
            AttendanceChange.changed_at,
        )
        .outerjoin(User, User.id == AttendanceChange.changed_by_id)
        .where(AttendanceChange.mark_id.in_(list(seen_versions)))
        .order_by(AttendanceChange.changed_at, AttendanceChange.id)
    )
    for mark_id, version, user_id, name, at in rows:
        if version > seen_versions[mark_id]:
            latest[user_id or 0] = OtherSave(name=name or "—", at=at)
    return sorted(latest.values(), key=lambda save: save.at)


# ---------------------------------------------------------------------------------------------
# Check-out


def check_out(
    lesson: Lesson,
    child: Child,
    *,
    actor: User,
    collector: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Checkout:
    """Record who took ``child`` home after ``lesson``: one of the child's guardians or
    authorised people (checked against the child's own lists), or nobody if the parents allowed
    the child to leave alone. Recording it again corrects it."""
    now = now or utcnow()
    refusal = marking_refusal(actor, lesson, now=now)
    if refusal is not None:
        raise DomainError(refusal)
    require_on_roster(lesson, [child.id])
    mark = db.session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.lesson_id == lesson.id, AttendanceMark.child_id == child.id
        )
    )
    if mark is None or not mark.attended:
        raise DomainError(
            _l("Mark %(name)s present or late before the check-out.", name=child.first_name)
        )
    chosen = next((c for c in collectors_for(child) if c.key == collector), None)
    if chosen is None:
        if collector == "alone":
            raise DomainError(
                _l("The parents have not allowed %(name)s to leave alone.", name=child.first_name),
                field="collector",
            )
        raise DomainError(
            _l(
                "This person is not on %(name)s's list of people allowed to collect them.",
                name=child.first_name,
            ),
            field="collector",
        )
    at = at or now
    if at < marking_opens_at(lesson):
        raise DomainError(_l("The time is before the lesson."), field="at")
    if at > now + timedelta(minutes=5):
        raise DomainError(_l("The time cannot be in the future."), field="at")
    checkout = db.session.scalar(
        select(Checkout).where(Checkout.lesson_id == lesson.id, Checkout.child_id == child.id)
    )
    before = None
    if checkout is None:
        checkout = Checkout(lesson_id=lesson.id, child_id=child.id)
        db.session.add(checkout)
    else:
        before = checkout.collector_kind
    checkout.collector_kind = chosen.kind
    checkout.guardian_id = chosen.id if chosen.kind == CollectorKind.GUARDIAN else None
    checkout.pickup_id = chosen.id if chosen.kind == CollectorKind.PICKUP else None
    checkout.collector_name = chosen.name
    checkout.collected_at = at
    checkout.recorded_by_id = actor.id
    checkout.recorded_at = now
    db.session.flush()
    audit.record(
        "attendance.checked_out",
        actor=actor,
        subject=lesson,
        child_id=child.id,
        collector=chosen.kind,
        guardian_id=checkout.guardian_id,
        pickup_id=checkout.pickup_id,
        corrected_from=before,
    )
    return checkout
