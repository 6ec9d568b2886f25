"""The demo catalogue on any day of the year, without a double booking (checked by
tests/test_demo.py, which loads the demo once a day for every domain)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from lms.courses.models import Closure, Cohort, CohortStatus, Course, Lesson, Room
from lms.extensions import db


def check_the_catalogue(created: dict, today: datetime) -> None:
    """What the demo's catalogue must hold on ``today`` (tests/test_demo.py loads it)."""
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
