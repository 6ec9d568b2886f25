"""`flask lms run-jobs`: lapsed seat offers move on; idempotent; says what it did."""

from __future__ import annotations

from datetime import timedelta

from lms.enrolment.joining import enrol
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import EndReason, Enrolment, EnrolmentStatus
from lms.extensions import db
from tests.conftest import get


def test_run_jobs_expires_lapsed_offers_once(runner, make_cohort, make_family, frozen_now):
    cohort = make_cohort(capacity=1)
    first, second, third = make_family(), make_family(), make_family()
    taken = enrol(first[1], cohort, actor=get(first[0]))
    waiting = enrol(second[1], cohort, actor=get(second[0]))
    enrol(third[1], cohort, actor=get(third[0]))
    withdraw(taken, actor=get(first[0]))
    db.session.commit()

    result = runner.invoke(args=["lms", "run-jobs"])
    assert result.exit_code == 0, result.output
    assert "Seat offers expired: none." in result.output
    assert "Seat counts: consistent." in result.output

    frozen_now.move_to(waiting.offer_expires_at + timedelta(minutes=5))
    result = runner.invoke(args=["lms", "run-jobs"])
    assert result.exit_code == 0, result.output
    assert f"Seat offers expired: 1 (enrolments {waiting.id})" in result.output
    db.session.expire_all()
    assert db.session.get(Enrolment, waiting.id).end_reason == EndReason.OFFER_EXPIRED

    again = runner.invoke(args=["lms", "run-jobs"])
    assert "Seat offers expired: none." in again.output


def test_run_jobs_reports_inconsistent_counts(runner, make_cohort):
    cohort = make_cohort(capacity=1)
    cohort.seats_taken = 1
    db.session.commit()
    result = runner.invoke(args=["lms", "run-jobs"])
    assert result.exit_code == 1
    assert f"cohort {cohort.id}: seats_taken 1 != 0" in result.output


def test_the_next_child_got_the_seat(runner, make_cohort, make_family, frozen_now):
    cohort = make_cohort(capacity=1)
    people = [make_family() for _ in range(3)]
    enrolments = [enrol(c, cohort, actor=get(p)) for p, c in people]
    withdraw(enrolments[0], actor=get(people[0][0]))
    db.session.commit()
    frozen_now.move_to(enrolments[1].offer_expires_at + timedelta(minutes=5))
    runner.invoke(args=["lms", "run-jobs"])
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolments[2].id).status == EnrolmentStatus.OFFERED
