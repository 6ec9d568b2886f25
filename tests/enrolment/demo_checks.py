"""The demo enrolments on any day of the year show every kind of situation (checked by
tests/test_demo.py, which loads the demo once a day for every domain)."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.clock import local_today
from lms.courses.models import Cohort, CohortStatus
from lms.enrolment.models import Enrolment, EnrolmentStatus, Payment, PrerequisiteWaiver
from lms.enrolment.seats import check_consistency
from lms.extensions import db


def check_the_enrolments(created: dict) -> None:
    """What the demo's enrolments must show (tests/test_demo.py loads it)."""
    assert created["enrolments"]["enrolments"] > 20
    statuses = dict(
        db.session.execute(select(Enrolment.status, func.count()).group_by(Enrolment.status)).all()
    )
    assert statuses[EnrolmentStatus.ENROLLED] >= 15
    assert statuses[EnrolmentStatus.WAITLISTED] >= 1
    assert statuses[EnrolmentStatus.OFFERED] == 1
    offer = db.session.scalar(select(Enrolment).where(Enrolment.status == "offered"))
    assert offer.child.first_name == "Ilyas"
    assert offer.cohort.seats_left == 0
    assert db.session.scalar(select(func.count()).select_from(Payment)) >= 3
    assert db.session.scalar(select(func.count()).select_from(PrerequisiteWaiver)) == 1
    assert check_consistency() == []
    # The groups under way have a class to take the roll of.
    running = db.session.scalars(
        select(Cohort).where(
            Cohort.status.in_((CohortStatus.OPEN, CohortStatus.CLOSED)),
            Cohort.start_date <= local_today(),
            Cohort.end_date >= local_today(),
        )
    ).all()
    assert running
    assert all(cohort.seats_taken >= 7 for cohort in running), [c.seats_taken for c in running]
    assert created["regulars"]["payments"] >= len(running) * 4
