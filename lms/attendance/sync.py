"""Changes made on an instructor's device without a network (offline roll call), applied when
they arrive: each one once per UUID, under the server's rules, with conflicts reported.

A device sends a list of changes, each with a UUID it made itself, the mark's version it last
saw, and the device's clock when the change was made. The UUID is claimed by inserting it
(primary key, ON CONFLICT DO NOTHING, as lms/submissions.py does): a copy sent again (a retry,
the page and the service worker sending at once) finds it taken and gets the first answer.

A mark that someone else changed after the version the device saw is a conflict: the later
change wins (the device's clock against the time of the server's change) and the answer says
so, for the instructor to see. The rules are those of the roster page: the marking window and
the right to the group (lms/attendance/permissions.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from lms.accounts.models import User
from lms.attendance import roll_call
from lms.attendance.marks import REASON_MAX, clean_reason, set_mark
from lms.attendance.models import (
    AttendanceChange,
    AttendanceMark,
    AttendanceStatus,
    ChangeSource,
    OfflineChange,
    SyncOutcome,
)
from lms.attendance.notices import tell_about_absences, tell_about_unreachable_thresholds
from lms.attendance.permissions import is_correction, marking_refusal
from lms.attendance.roster import require_on_roster
from lms.audit import services as audit
from lms.courses.models import Lesson
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child

MAX_CHANGES = 500
KINDS = ("mark", "checkout")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BIGGEST_ID = 2**31 - 1

# ---------------------------------------------------------------------------------------------
# The shape of what a device sends


class BadChanges(ValueError):
    """The body is not a list of changes as the offline page sends them."""


@dataclass(frozen=True)
class DeviceChange:
    id: str
    kind: str
    lesson_id: int
    child_id: int
    made_at: datetime
    status: str | None = None
    note: str | None = None
    seen_version: int = 0
    collector: str | None = None


def _number(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BIGGEST_ID:
        raise BadChanges(_("“%(name)s” must be a whole number.", name=name))
    return value


def _text(value, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadChanges(
            _("“%(name)s” must be a text of at most %(num)d characters.", name=name, num=limit)
        )
    return value


def _instant(value) -> datetime:
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        raise BadChanges(_("“made_at” must be a date and time (ISO 8601).")) from None
    if instant.tzinfo is None:
        raise BadChanges(_("“made_at” must say its time zone."))
    return instant.astimezone(UTC)


def parse_changes(payload) -> list[DeviceChange]:
    """The changes of a request body ({"changes": [...]}), or BadChanges saying what is wrong."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("changes"), list):
        raise BadChanges(_("Send a JSON object with a list “changes”."))
    items = payload["changes"]
    if len(items) > MAX_CHANGES:
        raise BadChanges(_("Send at most %(num)d changes at once.", num=MAX_CHANGES))
    changes = []
    for item in items:
        if not isinstance(item, Mapping):
            raise BadChanges(_("Each change must be a JSON object."))
        change_id = item.get("id")
        if not isinstance(change_id, str) or not UUID.match(change_id.lower()):
            raise BadChanges(_("Each change needs an “id” that is a UUID."))
        kind = item.get("kind")
        if kind not in KINDS:
            raise BadChanges(_("“kind” must be “mark” or “checkout”."))
        status = _text(item.get("status"), "status", 10)
        if kind == "mark" and status not in AttendanceStatus.__members__.values():
            raise BadChanges(_("Choose present, late, absent or excused."))
        collector = _text(item.get("collector"), "collector", 40)
        if kind == "checkout" and not collector:
            raise BadChanges(_("A check-out needs a “collector”."))
        changes.append(
            DeviceChange(
                id=change_id.lower(),
                kind=kind,
                lesson_id=_number(item.get("lesson_id"), "lesson_id"),
                child_id=_number(item.get("child_id"), "child_id"),
                made_at=_instant(item.get("made_at")),
                status=status,
                note=_text(item.get("note"), "note", REASON_MAX),
                seen_version=_number(item.get("seen_version", 0), "seen_version"),
                collector=collector,
            )
        )
    return changes


# ---------------------------------------------------------------------------------------------
# Applying them


@dataclass
class Answer:
    """What became of one change, as the device is told."""

    id: str
    outcome: str
    message: str = ""
    duplicate: bool = False

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "outcome": self.outcome,
            "message": self.message,
            "duplicate": self.duplicate,
        }


def _claim(change: DeviceChange, *, actor: User, now: datetime) -> OfflineChange | None:
    """Insert the change's UUID; None if it was already received."""
    insert = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    claimed = db.session.execute(
        insert(OfflineChange)
        .values(
            id=change.id,
            user_id=actor.id,
            lesson_id=change.lesson_id,
            child_id=change.child_id,
            kind=change.kind,
            made_at=change.made_at,
            received_at=now,
            outcome=SyncOutcome.APPLIED,
        )
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(OfflineChange.id)
    ).scalar()
    return db.session.get(OfflineChange, claimed) if claimed is not None else None


def _earlier_answer(change_id: str) -> Answer:
    record = db.session.get(OfflineChange, change_id)
    answer = json.loads(record.answer or "{}") if record else {}
    return Answer(
        id=change_id,
        outcome=record.outcome if record else SyncOutcome.APPLIED,
        message=answer.get("message", ""),
        duplicate=True,
    )


def lessons_of(changes: list[DeviceChange]) -> list[int]:
    """The lessons the changes are about, each once."""
    return list(dict.fromkeys(change.lesson_id for change in changes))


def apply_changes(
    changes: list[DeviceChange],
    *,
    actor: User,
    lessons: Mapping[int, Lesson],
    now: datetime | None = None,
) -> list[Answer]:
    """Apply a device's changes in the order they were made (``lessons``: the lessons they are
    about, already checked to be the actor's rosters), each at most once."""
    now = now or utcnow()
    answers = []
    for change in changes:
        record = _claim(change, actor=actor, now=now)
        if record is None:
            answers.append(_earlier_answer(change.id))
            continue
        lesson = lessons[change.lesson_id]
        try:
            # A refused change leaves nothing behind but its record (and its answer).
            with db.session.begin_nested():
                if change.kind == "mark":
                    answer = _apply_mark(change, lesson, actor=actor, now=now)
                else:
                    answer = _apply_checkout(change, lesson, actor=actor, now=now)
        except DomainError as error:
            answer = Answer(id=change.id, outcome=SyncOutcome.REFUSED, message=str(error.message))
        record.outcome = answer.outcome
        record.answer = json.dumps({"message": answer.message})[:2000]
        answers.append(answer)
    db.session.flush()
    return answers


def _name(child_id: int) -> str:
    child = db.session.get(Child, child_id)
    return child.first_name if child else "—"


def _status_name(status: str | None) -> str:
    return str(AttendanceStatus.labels().get(status, "—")) if status else "—"


def _apply_mark(change: DeviceChange, lesson: Lesson, *, actor: User, now: datetime) -> Answer:
    refusal = marking_refusal(actor, lesson, now=now)
    if refusal is not None:
        raise DomainError(refusal)
    if is_correction(lesson, now=now):
        raise DomainError(
            _l("A correction needs a reason: make it on the roster page, with the network.")
        )
    enrolments = require_on_roster(lesson, [change.child_id])
    mark = db.session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.lesson_id == lesson.id, AttendanceMark.child_id == change.child_id
        )
    )
    # The device's clock decides against the server's, but never from the future.
    made_at = min(change.made_at, now)
    answer = Answer(id=change.id, outcome=SyncOutcome.APPLIED)
    if mark is not None and mark.version > change.seen_version:
        other = _latest_other_change(mark, actor=actor, after_version=change.seen_version)
        if other is not None:
            name = other.changed_by.full_name if other.changed_by else "—"
            if made_at <= other.changed_at:
                return Answer(
                    id=change.id,
                    outcome=SyncOutcome.CONFLICT,
                    message=_(
                        "%(child)s: %(name)s marked “%(theirs)s” after your change "
                        "(“%(yours)s”); theirs is kept.",
                        child=_name(change.child_id),
                        name=name,
                        theirs=_status_name(mark.status),
                        yours=_status_name(change.status),
                    ),
                )
            answer = Answer(
                id=change.id,
                outcome=SyncOutcome.CONFLICT,
                message=_(
                    "%(child)s: %(name)s had marked “%(theirs)s”; your later change "
                    "(“%(yours)s”) replaced it.",
                    child=_name(change.child_id),
                    name=name,
                    theirs=_status_name(mark.status),
                    yours=_status_name(change.status),
                ),
            )
    note = clean_reason(change.note)
    if mark is not None and mark.status == change.status:
        mark.note = note  # the same mark: only the note may change
        return answer
    before = mark.status if mark else None
    mark = set_mark(
        mark,
        lesson=lesson,
        child_id=change.child_id,
        status=change.status,
        actor=actor,
        source=ChangeSource.ROLL_CALL,
        now=now,
    )
    mark.note = note
    audit.record(
        "attendance.roll_call",
        actor=actor,
        subject=lesson,
        source=ChangeSource.ROLL_CALL,
        offline_change=change.id,
        changes=[{"child_id": change.child_id, "before": before, "after": change.status}],
    )
    db.session.flush()
    if change.status == AttendanceStatus.ABSENT:
        tell_about_absences(lesson, [mark], now=now)
    tell_about_unreachable_thresholds([enrolments[change.child_id]], now=now)
    return answer


def _latest_other_change(
    mark: AttendanceMark, *, actor: User, after_version: int
) -> AttendanceChange | None:
    """The latest change of ``mark`` after ``after_version`` made by someone else."""
    return db.session.scalar(
        select(AttendanceChange)
        .where(
            AttendanceChange.mark_id == mark.id,
            AttendanceChange.version > after_version,
            (AttendanceChange.changed_by_id != actor.id) | AttendanceChange.changed_by_id.is_(None),
        )
        .order_by(AttendanceChange.version.desc())
        .limit(1)
    )


def _apply_checkout(change: DeviceChange, lesson: Lesson, *, actor: User, now: datetime) -> Answer:
    child = db.session.get(Child, change.child_id)
    if child is None:
        raise DomainError(_l("This child is not enrolled in the cohort on the lesson's date."))
    roll_call.check_out(
        lesson, child, actor=actor, collector=change.collector, at=min(change.made_at, now), now=now
    )
    return Answer(id=change.id, outcome=SyncOutcome.APPLIED)


# The device keeps its data 48 hours; a change still queued after a week is not replayed.
KEEP_CHANGES = timedelta(days=7)


def forget_old_changes(now: datetime | None = None) -> int:
    """Delete the records of device changes older than KEEP_CHANGES (the worker's job)."""
    cutoff = (now or utcnow()) - KEEP_CHANGES
    result = db.session.execute(delete(OfflineChange).where(OfflineChange.received_at < cutoff))
    return result.rowcount or 0
