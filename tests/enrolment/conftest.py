"""Fixtures of the enrolment tests: a fixed "now", staff, a course, a group factory, families."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import select

from lms.accounts.models import User
from lms.courses.catalogue import CourseDetails, create_course
from lms.courses.cohorts import CohortPlan, create_cohort
from lms.courses.models import Cohort, CohortStatus, Course
from lms.courses.scheduling import create_room
from lms.enrolment import hooks, wiring
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.families.models import Child
from lms.notifications.deferred import preview
from lms.notifications.models import OutboxMessage
from lms.roles import Role
from tests import builders
from tests.conftest import get

# Monday 7 September 2026, 09:00 in Tangier.
NOW = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
# The default group: Wednesdays 14:30-16:00 from 7 October to 25 November 2026 (8 lessons).
GROUP_START = date(2026, 10, 7)
GROUP_END = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _real_wiring() -> Iterator[None]:
    """The enrolment domain's real answers to the lower domains' hooks; no child holds a
    certificate unless a test says so (the certificates domain's answer is tested there)."""
    wiring.install()
    hooks.holds_valid_certificate.override(lambda child, course: False)
    yield
    hooks.holds_valid_certificate.reset()


@pytest.fixture
def config_overrides() -> dict:
    # Messages are asserted in English (the msgids); some tests check French and Arabic.
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def user_locale() -> str:
    # And the parent, instructor and coordinator fixtures read the site in English.
    return "en"


def born(years: int, *, on: date = GROUP_START, days: int = 0) -> date:
    """A birth date that makes a child exactly ``years`` old on ``on``, moved by ``days``."""
    return on.replace(year=on.year - years) + timedelta(days=days)


@pytest.fixture
def world(app, ctx, coordinator, instructor, make_user) -> SimpleNamespace:
    """Staff, a room of 14, a course for ages 8 to 11 at 800 MAD; attached to the session."""
    boss = get(coordinator)
    lead = get(instructor)
    room = create_room(actor=boss, name="Salle Ada Lovelace", capacity=14)
    course = builders.robotics_course(boss, min_age=8, max_age=11, price_centimes=80000)
    other_room = create_room(actor=boss, name="Atelier Al-Jazari", capacity=12)
    other_lead = get(make_user(Role.INSTRUCTOR, full_name="Salma Idrissi", locale="ar"))
    db.session.commit()
    return SimpleNamespace(
        coordinator=boss,
        lead=lead,
        room=room,
        course=course,
        other_room=other_room,
        other_lead=other_lead,
    )


@pytest.fixture
def make_cohort(world) -> Callable[..., Cohort]:
    """make_cohort(capacity=..., **create_cohort options): an open group, committed."""

    def make(**overrides) -> Cohort:
        values = {
            "course": world.course,
            "room": world.room,
            "lead": world.lead,
            "start_date": GROUP_START,
            "end_date": GROUP_END,
            "weekdays": [2],
            "start_time": time(14, 30),
            "duration_minutes": 90,
            "capacity": 2,
        }
        values.update(overrides)
        status = values.pop("status", CohortStatus.OPEN)
        cohort = create_cohort(CohortPlan(**values), actor=world.coordinator, status=status)
        db.session.commit()
        return cohort

    return make


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    """A group of 2 seats."""
    return make_cohort()


@pytest.fixture
def make_course(world) -> Callable[..., Course]:
    def make(title: str, **overrides) -> Course:
        details = {
            "title_fr": title,
            "summary_fr": "Un atelier.",
            "track": "coding",
            "min_age": 7,
            "max_age": 14,
            "price_centimes": 60000,
            "published": True,
        }
        prerequisite_ids = overrides.pop("prerequisite_ids", ())
        details.update(overrides)
        course = create_course(
            CourseDetails(**details),
            actor=world.coordinator,
            prerequisite_ids=prerequisite_ids,
        )
        db.session.commit()
        return course

    return make


_names = iter(range(1, 1_000_000))


@pytest.fixture
def make_family(ctx, make_user) -> Callable[..., tuple[User, Child]]:
    """make_family(locale="en", age=9, first_name=...): a parent and one child, committed."""

    def make(
        *, locale: str = "en", age: int = 9, first_name: str | None = None, **fields
    ) -> tuple[User, Child]:
        n = next(_names)
        user = get(make_user(Role.PARENT, full_name=f"Parent {n}", locale=locale))
        child = builders.child(
            user,
            first_name or f"Child{n}",
            "Tazi",
            date_of_birth=fields.pop("date_of_birth", born(age, days=-30)),
            **fields,
        )
        db.session.commit()
        return user, child

    return make


@pytest.fixture
def add_child(ctx) -> Callable[..., Child]:
    """add_child(parent, first_name=..., age=9): another child of the same family."""

    def make(user: User, *, first_name: str, age: int = 9, **fields) -> Child:
        child = builders.child(
            get(user),
            first_name,
            "Tazi",
            date_of_birth=fields.pop("date_of_birth", born(age, days=-30)),
            **fields,
        )
        db.session.commit()
        return child

    return make


def mails(template: str | None = None, to: str | None = None) -> list[OutboxMessage]:
    """Outbox messages, oldest first, optionally of one template or to one address, as the
    worker will write them (the rows are left untouched)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.template == template)
    if to:
        query = query.where(OutboxMessage.recipient == to)
    return [preview(message) for message in db.session.scalars(query)]


def statuses(cohort: Cohort) -> list[tuple[int, str]]:
    """(child id, status) of the group's enrolments in arrival order."""
    return [
        (e.child_id, e.status)
        for e in db.session.scalars(
            select(Enrolment).where(Enrolment.cohort_id == cohort.id).order_by(Enrolment.id)
        )
    ]


def refreshed(cohort: Cohort) -> Cohort:
    db.session.refresh(cohort)
    return cohort
