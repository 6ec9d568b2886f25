"""What an instructor's phone keeps for the offline roll call: today's and tomorrow's lessons of
the instructor's own groups and today's lessons they cover as a substitute, each roster with
what is needed without a network (full names, photo consent, allergy and medical flags, who
may collect the child, emergency numbers).

The device keeps it in IndexedDB for at most KEEP_FOR (48 hours) and deletes it at logout and
when the session ends; it is never written to the browser's HTTP cache (no-store).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import format_datetime, format_time

from lms.accounts.models import User
from lms.attendance.permissions import (
    can_view_roster,
    instructor_marking_closes_at,
    marking_opens_at,
    marking_refusal,
)
from lms.attendance.roster import RosterRow, lesson_roster
from lms.attendance.substitutes import substitute_lessons
from lms.clock import local_today
from lms.courses.models import Lesson
from lms.courses.timetables import lessons_between
from lms.i18n import current_language

KEEP_FOR = timedelta(hours=48)


def offline_lessons(user: User) -> list[Lesson]:
    """Today's and tomorrow's lessons that ``user`` may mark (the same predicate as the roster
    page, so whoever may open a roster may keep it)."""
    today = local_today()
    lessons = lessons_between(today, today + timedelta(days=1), instructor_id=user.id)
    # And the lessons they cover as a substitute: the permission keeps only today's (a
    # substitute's right begins on the lesson's day).
    own = {lesson.id for lesson in lessons}
    lessons += [
        lesson
        for lesson in substitute_lessons(user, today, today + timedelta(days=1))
        if lesson.id not in own
    ]
    lessons.sort(key=lambda lesson: (lesson.starts_at, lesson.id))
    return [lesson for lesson in lessons if can_view_roster(user, lesson)]


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None


def _row(row: RosterRow) -> dict:
    child = row.child
    arabic = current_language() == "ar"
    first = (child.first_name_ar if arabic else None) or child.first_name
    last = (child.last_name_ar if arabic else None) or child.last_name
    checkout = row.checkout
    return {
        "child_id": child.id,
        "name": f"{first} {last}",
        "photo_allowed": row.photo_allowed,
        "allergies": child.allergies or "",
        "medical": bool(child.medical_notes),
        "notice": (row.notice.reason or "") if row.notice else None,
        "status": row.status,
        "version": row.version,
        "note": row.mark.note if row.mark else None,
        "checkout": (
            {
                "name": checkout.collector_name,
                "kind": checkout.collector_kind,
                "at": format_time(checkout.collected_at, "short"),
            }
            if checkout
            else None
        ),
        "collectors": [
            {
                "key": person.key,
                "kind": person.kind,
                "name": person.name,
                "relationship": person.relationship,
                "phone": person.phone,
            }
            for person in row.collectors
        ],
        "emergency": [
            {
                "name": person.name,
                "relationship": person.relationship_to_child,
                "phone": person.phone,
            }
            for person in child.emergency_contacts
        ],
    }


def offline_bundle(user: User, *, now: datetime) -> dict:
    """The offline roll call's data for ``user`` at ``now``, as plain JSON values."""
    lessons = []
    for lesson in offline_lessons(user):
        roster = lesson_roster(lesson)
        refusal = marking_refusal(user, lesson, now=now)
        lessons.append(
            {
                "id": lesson.id,
                "title": lesson.cohort.course.title(current_language()),
                "when": format_datetime(lesson.starts_at, "EEEE d MMMM, HH:mm"),
                "room": lesson.room.name_in(current_language()) if lesson.room else "",
                "cancelled": lesson.is_cancelled,
                "starts_at": _iso(lesson.starts_at),
                "opens_at": _iso(marking_opens_at(lesson)),
                "closes_at": _iso(instructor_marking_closes_at(lesson)),
                "refusal": str(refusal) if refusal else None,
                "children": [_row(row) for row in roster.rows],
            }
        )
    return {
        "user_id": user.id,
        "fetched_at": _iso(now),
        "expires_at": _iso(now + KEEP_FOR),
        "lessons": lessons,
    }
