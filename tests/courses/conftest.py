"""Fixtures of the courses tests: a fixed "now", staff, a room, a course, a cohort factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import pytest
import time_machine

from lms.accounts.models import User
from lms.courses import hooks
from lms.courses.catalogue import CourseDetails, create_course
from lms.courses.cohorts import CohortPlan, create_cohort
from lms.courses.models import Cohort, CohortStatus, Course, Room
from lms.courses.scheduling import create_room
from lms.extensions import db
from lms.roles import Role
from tests import builders

# Monday 7 September 2026, 09:00 in Tangier (UTC+1 until 20 September 2026).
NOW = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[time_machine.Coordinates]:
    """Every courses test runs at NOW (the clock still ticks)."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _reset_hooks() -> Iterator[None]:
    yield
    for hook in hooks.ALL_HOOKS:
        hook.reset()


@pytest.fixture
def staff(ctx, coordinator, instructor, make_user) -> SimpleNamespace:
    """The coordinator, a lead instructor and an assistant, attached to the session."""
    assistant = make_user(Role.INSTRUCTOR, full_name="Salma Idrissi")
    return SimpleNamespace(
        coordinator=db.session.get(User, coordinator.id),
        lead=db.session.get(User, instructor.id),
        assistant=db.session.get(User, assistant.id),
    )


@pytest.fixture
def room(staff) -> Room:
    return create_room(actor=staff.coordinator, name="Salle Ada Lovelace", capacity=14)


@pytest.fixture
def other_room(staff) -> Room:
    return create_room(actor=staff.coordinator, name="Atelier Al-Jazari", capacity=12)


def course_details(**overrides) -> CourseDetails:
    """The robotics course of tests/builders.py, for ages 8 to 11 at 800 MAD."""
    values = {**builders.ROBOTICS, "min_age": 8, "max_age": 11, "price_centimes": 80000}
    return CourseDetails(**{**values, **overrides})


@pytest.fixture
def make_course(staff) -> Callable[..., Course]:
    def make(prerequisite_ids=(), **overrides) -> Course:
        return create_course(
            course_details(**overrides), actor=staff.coordinator, prerequisite_ids=prerequisite_ids
        )

    return make


@pytest.fixture
def course(make_course) -> Course:
    return make_course()


@pytest.fixture
def make_cohort(staff, room, course) -> Callable[..., Cohort]:
    """A cohort on Wednesdays 14:30-16:00 from 5 October to 30 November 2026 (8 lessons)."""

    def make(**overrides) -> Cohort:
        values = {
            "course": course,
            "room": room,
            "lead": staff.lead,
            "start_date": date(2026, 10, 5),
            "end_date": date(2026, 11, 30),
            "weekdays": [2],
            "start_time": time(14, 30),
            "duration_minutes": 90,
        }
        values.update(overrides)
        options = {
            "status": values.pop("status", CohortStatus.OPEN),
            "allow_past": values.pop("allow_past", False),
        }
        return create_cohort(CohortPlan(**values), actor=staff.coordinator, **options)

    return make


@pytest.fixture
def cohort(make_cohort) -> Cohort:
    return make_cohort()


class FakeFamilies:
    """Stands in for the families and enrolment domains through the courses hooks."""

    def __init__(self) -> None:
        self.recipients: dict[int, list[User]] = {}
        self.children: dict[int, list[hooks.ChildSummary]] = {}
        self.cohorts: dict[int, list[int]] = {}
        hooks.cohort_recipients.override(lambda cohort: self.recipients.get(cohort.id, []))
        hooks.family_children.override(lambda user: self.children.get(user.id, []))
        hooks.family_cohort_ids.override(lambda user: self.cohorts.get(user.id, []))


@pytest.fixture
def families() -> FakeFamilies:
    return FakeFamilies()
