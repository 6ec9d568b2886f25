"""Writing one mark: its new version and the line of history that keeps who, when, before
and after (invariant 5)."""

from __future__ import annotations

from datetime import datetime

from lms.accounts.models import User
from lms.attendance.models import AttendanceChange, AttendanceMark
from lms.courses.models import Lesson
from lms.extensions import db

REASON_MAX = 300


def clean_reason(reason: str | None) -> str | None:
    """A reason on one line, at most REASON_MAX characters; None when empty."""
    reason = " ".join((reason or "").split())
    return reason[:REASON_MAX] or None


def set_mark(
    mark: AttendanceMark | None,
    *,
    lesson: Lesson,
    child_id: int,
    status: str,
    actor: User,
    source: str,
    now: datetime,
    reason: str | None = None,
) -> AttendanceMark:
    """Create or change a mark, with its history line."""
    before = mark.status if mark else None
    if mark is None:
        mark = AttendanceMark(lesson_id=lesson.id, child_id=child_id, status=status, version=1)
        db.session.add(mark)
    else:
        mark.status = status
        mark.version += 1
    mark.marked_by_id = actor.id
    mark.marked_at = now
    db.session.flush()
    db.session.add(
        AttendanceChange(
            mark_id=mark.id,
            changed_by_id=actor.id,
            changed_at=now,
            before=before,
            after=status,
            version=mark.version,
            source=source,
            reason=reason,
        )
    )
    return mark
