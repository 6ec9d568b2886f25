"""The demo catalogue loads on any day of the year, without a double booking."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from lms.courses.models import Closure, Cohort, CohortStatus, Course, Lesson, Room
from lms.demo import seed_demo
from lms.extensions import db


@pytest.mark.parametrize(
    "today",
    [
        datetime(2026, 9, 7, 8, 0, tzinfo=UTC),
        datetime(2027, 1, 10, 20, 0, tzinfo=UTC),
        datetime(2027, 6, 28, 8, 0, tzinfo=UTC),
        datetime(2027, 8, 31, 23, 30, tzinfo=UTC),
    ],
)
def test_seed_demo_builds_a_current_catalogue(ctx, frozen_now, today):
    frozen_now.move_to(today)
    created = seed_demo()
    assert created["catalogue"]["courses"] == 5

    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model))

    assert count(Course) == 5
    assert count(Room) == 2
    assert count(Cohort) == 11
    assert count(Lesson) > 80
    titles = set(db.session.scalars(select(Closure.label)))
    assert {"Fête du Trône", "Fête de l'Indépendance", "Manifeste de l'Indépendance"} <= titles
    school_year = today.year if today.month >= 9 else today.year - 1
    assert db.session.scalar(
        select(Closure.id).where(Closure.starts_on == date(school_year + 1, 5, 1))
    )
    statuses = set(db.session.scalars(select(Cohort.status)))
    assert {CohortStatus.OPEN, CohortStatus.CLOSED, CohortStatus.DRAFT} <= statuses
    # Some groups are under way and some are still to come, whatever today is.
    starts = list(db.session.scalars(select(Cohort.start_date)))
    assert min(starts) < today.date() < max(starts)
    # Loading again adds nothing.
    assert seed_demo(if_empty=True) is None
