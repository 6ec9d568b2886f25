"""iCalendar feeds of lessons (RFC 5545), built with the icalendar library, and the secret
addresses of private feeds."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, Timezone
from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import lab_zone
from lms.courses.models import Lesson
from lms.extensions import db

PRODUCT_ID = "-//Active Labs//LMS//FR"


def _uid_domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "activelabs.ma"


def lesson_event(lesson: Lesson, *, language: str, label: str | None = None) -> Event:
    """One lesson as a VEVENT: local times with TZID, room as LOCATION, cancelled as such."""
    zone = lab_zone()
    cohort = lesson.cohort
    title = cohort.course.title(language)
    event = Event()
    event.add("uid", f"lesson-{lesson.id}@{_uid_domain()}")
    event.add("dtstamp", lesson.updated_at)
    event.add("last-modified", lesson.updated_at)
    event.add("sequence", lesson.revision)
    event.add("dtstart", lesson.starts_at.astimezone(zone))
    event.add("dtend", lesson.ends_at.astimezone(zone))
    event.add("summary", f"{title} — {label}" if label else title)
    room = lesson.room
    event.add("location", f"{room.name}, {room.site}")
    event.add("status", "CANCELLED" if lesson.is_cancelled else "CONFIRMED")
    if lesson.note:
        event.add("description", lesson.note)
    event.add("categories", [cohort.course.track])
    return event


def build_calendar(
    lessons: Iterable[Lesson], *, name: str, language: str, label: str | None = None
) -> bytes:
    """A whole feed: the lessons, their time zone (VTIMEZONE Africa/Casablanca), a name."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", str(lab_zone()))
    for lesson in lessons:
        calendar.add_component(lesson_event(lesson, language=language, label=label))
    # The zone travels with the feed even when it holds no lesson yet.
    if calendar.get_used_tzids():
        calendar.add_missing_timezones()
    else:
        calendar.add_component(Timezone.from_tzinfo(lab_zone()))
    return calendar.to_ical()


# ---------------------------------------------------------------------------------------------
# Private calendar addresses


def regenerate_calendar_token(user: User) -> str:
    """Give the user a new secret calendar address; the old one stops working at once."""
    user.calendar_token = secrets.token_urlsafe(24)
    db.session.flush()
    return user.calendar_token


def user_for_calendar_token(token: str) -> User | None:
    """The active user whose private calendar address holds ``token``."""
    if not token or len(token) > 64:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.active:
        return None
    return user
