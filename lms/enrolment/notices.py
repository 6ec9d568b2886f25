"""What the families are told: each guardian by e-mail, in their own language, queued in the
caller's transaction; a confirmation carries the group's calendar file."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.courses.calendar import build_calendar
from lms.courses.models import Cohort, Lesson, LessonStatus
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.families.models import Child
from lms.notifications.services import Attachment, queue_email_to_user


def guardians_of(child: Child) -> list[User]:
    """The child's guardians whose accounts are active (each is told about the child)."""
    return [g.user for g in child.guardianships if g.user is not None and g.user.active]


def tell_guardians(
    child: Child,
    template: str,
    *,
    attachments_for: Callable[[User], tuple[Attachment, ...]] | None = None,
    **context,
) -> int:
    """Queue ``template`` to each guardian of ``child``, in their own language."""
    sent = 0
    for user in guardians_of(child):
        attachments = attachments_for(user) if attachments_for else ()
        queue_email_to_user(user, template, child=child, attachments=attachments, **context)
        sent += 1
    return sent


def _upcoming_lessons(cohort: Cohort, now: datetime) -> list[Lesson]:
    return list(
        db.session.scalars(
            select(Lesson)
            .where(
                Lesson.cohort_id == cohort.id,
                Lesson.status == LessonStatus.SCHEDULED,
                Lesson.ends_at > now,
            )
            .order_by(Lesson.starts_at)
        )
    )


# Calendar files already built, by (group, language, what they show): on registration day a
# worker builds each group's file once instead of once per family (the time zone's rules are
# the costly part).
_calendars: OrderedDict[tuple, bytes] = OrderedDict()
_CALENDARS_KEPT = 64


def _calendar_for(cohort: Cohort):
    """A function giving each guardian the group's calendar file in their language."""
    lessons = db.session.scalars(
        select(Lesson)
        .where(Lesson.cohort_id == cohort.id)
        .options(joinedload(Lesson.room_override), joinedload(Lesson.cohort))
        .order_by(Lesson.starts_at, Lesson.id)
    ).all()
    room = cohort.room
    shown = tuple(
        (
            lesson.id,
            lesson.revision,
            lesson.status,
            lesson.starts_at,
            lesson.ends_at,
            lesson.updated_at,
            lesson.note,
            lesson.room.id,
        )
        for lesson in lessons
    )

    def attachments(user: User) -> tuple[Attachment, ...]:
        name = f"Active Labs — {cohort.course.title(user.locale)}"
        key = (cohort.id, user.locale, name, cohort.course.track, room.name, room.site, shown)
        body = _calendars.get(key)
        if body is None:
            body = build_calendar(lessons, name=name, language=user.locale)
            _calendars[key] = body
            while len(_calendars) > _CALENDARS_KEPT:
                _calendars.popitem(last=False)
        return (Attachment(f"active-labs-group-{cohort.id}.ics", "text/calendar", body),)

    return attachments


def tell_enrolled(
    enrolment: Enrolment, now: datetime, template: str = "enrolment_confirmed"
) -> None:
    """Tell the guardians the child has the seat: the lessons to come, the calendar file."""
    cohort = enrolment.cohort
    tell_guardians(
        enrolment.child,
        template,
        enrolment=enrolment,
        cohort=cohort,
        lessons=_upcoming_lessons(cohort, now),
        attachments_for=_calendar_for(cohort),
    )
