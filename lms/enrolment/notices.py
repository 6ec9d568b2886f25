"""What the families are told: each guardian on the channels they chose (e-mail until they
choose), in their own language, queued in the caller's transaction; a confirmation e-mail
carries the group's calendar file."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.accounts.contact import cohort_topic, notify
from lms.accounts.models import User
from lms.courses.calendar import build_calendar
from lms.courses.models import Cohort, Lesson, LessonStatus
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.families.models import Child
from lms.notifications.deferred import register_attachment_builder, register_context_builder
from lms.notifications.services import Attachment, external_url


def guardians_of(child: Child) -> list[User]:
    """The child's guardians whose accounts are active (each is told about the child)."""
    return [g.user for g in child.guardianships if g.user is not None and g.user.active]


def tell_guardians(
    child: Child,
    template: str,
    *,
    attachments: tuple[tuple[str, dict], ...] = (),
    extras: tuple[tuple[str, dict], ...] = (),
    **context,
) -> int:
    """Queue ``template`` to each guardian of ``child`` on the channels they chose, in their
    own language; the worker writes the e-mail (lms/notifications/deferred.py), so the request
    only stores what it needs."""
    cohort = context.get("cohort")
    enrolment = context.get("enrolment")

    def short(language: str) -> dict:
        return {
            "child": child.first_name,
            "group": cohort.course.title(language) if cohort is not None else "",
            "deadline": enrolment.offer_expires_at if enrolment is not None else "",
            "link": external_url("dashboard.parent_home"),
        }

    sent = 0
    for user in guardians_of(child):
        notify(
            user,
            template,
            short=short,
            topic=cohort_topic(cohort.id) if cohort is not None else None,
            later=True,
            later_attachments=attachments,
            extras=extras,
            child=child,
            **context,
        )
        sent += 1
    return sent


def upcoming_lessons(cohort: Cohort, after: datetime) -> dict:
    """The group's lessons still to come (the worker's context of a confirmation)."""
    lessons = db.session.scalars(
        select(Lesson)
        .where(
            Lesson.cohort_id == cohort.id,
            Lesson.status == LessonStatus.SCHEDULED,
            Lesson.ends_at > after,
        )
        .order_by(Lesson.starts_at)
    )
    return {"lessons": list(lessons)}


# Calendar files already built, by (group, language, what they show): the worker builds each
# group's file once per language instead of once per family (the time zone's rules are the
# costly part).
_calendars: OrderedDict[tuple, bytes] = OrderedDict()
_CALENDARS_KEPT = 64


def cohort_calendar(language: str, *, cohort: Cohort) -> tuple[Attachment, ...]:
    """The group's calendar file in ``language`` (the worker's attachment of a confirmation)."""
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
    name = f"Active Labs — {cohort.course.title(language)}"
    key = (cohort.id, language, name, cohort.course.track, room.name, room.site, shown)
    body = _calendars.get(key)
    if body is None:
        body = build_calendar(lessons, name=name, language=language)
        _calendars[key] = body
        while len(_calendars) > _CALENDARS_KEPT:
            _calendars.popitem(last=False)
    return (Attachment(f"active-labs-group-{cohort.id}.ics", "text/calendar", body),)


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
        attachments=(("cohort_calendar", {"cohort": cohort}),),
        extras=(("upcoming_lessons", {"cohort": cohort, "after": now}),),
    )


def install() -> None:
    """Let the worker write enrolment e-mails: their calendar file and lessons to come."""
    register_attachment_builder("cohort_calendar", cohort_calendar)
    register_context_builder("upcoming_lessons", upcoming_lessons)
