"""Fixtures for the families tests: a family with one child, and helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest

from lms.accounts.models import User
from lms.clock import local_today
from lms.extensions import db
from lms.families import hooks
from lms.families.contacts import Person
from lms.families.models import Child
from lms.roles import Role
from tests import builders
from tests.conftest import get

# Names no fixture or demo account uses, so that a search of the whole database is meaningful.
CHILD = {
    "first_name": "Zoubida",
    "last_name": "Tahiri-Benslimane",
    "first_name_ar": "زبيدة",
    "last_name_ar": "الطاهري",
}
EMERGENCY = Person("Fatiha Ouarzazi", "Tante", "06 61 23 45 67")


def years_ago(years: int, *, days: int = 0) -> date:
    """The date of birth of someone who turns ``years`` today, moved by ``days``."""
    today = local_today()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = date(today.year - years, 3, 1)
    return born + timedelta(days=days)


@pytest.fixture
def config_overrides() -> dict:
    # Messages are asserted in English (the msgids); a few view tests check fr and ar.
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def user_locale() -> str:
    # And the parent, instructor and coordinator fixtures read the site in English.
    return "en"


@pytest.fixture
def make_child(ctx) -> Callable[..., Child]:
    """make_child(guardian, **fields): a child added through the service, committed."""

    def make(guardian: User, **fields) -> Child:
        values = {
            "first_name": "Yasmine",
            "last_name": "Alaoui",
            "date_of_birth": years_ago(9, days=-40),
            **fields,
        }
        child = builders.child(
            get(guardian), values.pop("first_name"), values.pop("last_name"), **values
        )
        db.session.commit()
        return child

    return make


@pytest.fixture
def child(make_child, parent) -> Child:
    """Zoubida, 9, child of the ``parent`` fixture (Karim Alaoui), with one emergency contact."""
    return make_child(parent, **CHILD, emergency_contact=EMERGENCY)


@pytest.fixture
def other_parent(make_user) -> User:
    return make_user(Role.PARENT, full_name="Omar Tazi", locale="en")


@pytest.fixture
def co_parent(make_user) -> User:
    return make_user(Role.PARENT, full_name="Nadia Bennani", email="nadia@example.ma", locale="en")


@pytest.fixture
def teaching(app) -> Iterator[dict]:
    """Register a fake enrolment domain: {(instructor id, child id): [TeachingPeriod, ...]}."""
    periods: dict = {}

    def provider(instructor, child):
        return periods.get((instructor.id, child.id), [])

    hooks.teaching_periods.register(provider)
    yield periods
    hooks.teaching_periods.unregister(provider)


@pytest.fixture
def last_cohort_ends(app) -> Iterator[dict]:
    """Register a fake enrolment domain: {child id: the day the last cohort ended}."""
    ends: dict = {}

    def provide():
        return dict(ends)

    hooks.last_cohort_ends.register(provide)
    yield ends
    hooks.last_cohort_ends.unregister(provide)
