"""Invariants 1-3 under concurrency, through real requests: each thread has its own test client,
its own database connection and session, and all of them start at the same instant.

Run on SQLite and on PostgreSQL (LMS_TEST_DATABASE_URL=postgresql+psycopg://...).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, time

import pytest
from sqlalchemy import func, select

from lms.accounts.services import create_user
from lms.audit.models import AuditEntry
from lms.courses.cohorts import CohortPlan, create_cohort, set_cohort_status
from lms.courses.models import Cohort, CohortStatus
from lms.courses.scheduling import create_room
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.offers import expire_offers
from lms.enrolment.seats import check_consistency
from lms.extensions import db
from lms.families.models import Child
from lms.notifications.deferred import render_pending
from lms.notifications.models import OutboxMessage
from lms.roles import Role
from tests import builders
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.committed

ENROLLED, WAITLISTED, OFFERED = (
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.WAITLISTED,
    EnrolmentStatus.OFFERED,
)


def run_at_once(jobs: list[Callable[[], object]]) -> tuple[list, list[BaseException]]:
    """Run every job in its own thread, released together; their results and errors."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = job()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results, errors


@pytest.fixture
def setup(app, coordinator, instructor):
    """A group with ``capacity`` seats and ``families`` parents with a child each (committed)."""

    def build(*, capacity: int, families_count: int):
        with app.app_context():
            boss = db.session.get(type(coordinator), coordinator.id)
            lead = db.session.get(type(instructor), instructor.id)
            room = create_room(actor=boss, name="Salle Ada Lovelace", capacity=60)
            course = builders.robotics_course(
                boss, summary_fr="Robots.", max_age=14, price_centimes=80000
            )
            cohort = create_cohort(
                CohortPlan(
                    course=course,
                    room=room,
                    lead=lead,
                    start_date=date(2026, 10, 7),
                    end_date=date(2026, 11, 25),
                    weekdays=[2],
                    start_time=time(14, 30),
                    capacity=capacity,
                ),
                actor=boss,
                status=CohortStatus.OPEN,
            )
            people = []
            for n in range(families_count):
                user = create_user(
                    full_name=f"Parent {n}",
                    email=f"rush{n}@example.ma",
                    role=Role.PARENT,
                    password=PASSWORD,
                    locale="en",
                )
                child = builders.child(user, f"Child{n}", "Tazi", date_of_birth=date(2017, 3, 1))
                people.append((user, child))
            db.session.commit()
            return cohort.id, [(user.id, user.email, child.id) for user, child in people]

    return build


class Parent:
    """A browser of one parent: its own test client, logged in."""

    def __init__(self, app, user_id: int, email: str, child_id: int) -> None:
        self.client = app.test_client()
        self.user_id, self.email, self.child_id = user_id, email, child_id
        user = type("U", (), {"email": email})
        response = login(self.client, user)
        assert response.status_code == 302

    def post(self, path: str, **data):
        return self.client.post(path, data=data)


def state(app, cohort_id: int):
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        enrolments = db.session.scalars(
            select(Enrolment).where(Enrolment.cohort_id == cohort_id).order_by(Enrolment.id)
        ).all()
        problems = check_consistency()
        return (
            (cohort.capacity, cohort.seats_taken, cohort.waitlist_count),
            [(e.id, e.child_id, e.status) for e in enrolments],
            problems,
        )


def outbox(app, template: str) -> list[OutboxMessage]:
    with app.app_context():
        messages = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        ).all()
        for message in messages:
            render_pending(message)  # as the worker writes them
        db.session.expunge_all()
        return messages


def test_fifty_parents_ten_seats(app, setup):
    cohort_id, people = setup(capacity=10, families_count=50)
    parents = [Parent(app, *person) for person in people]
    responses, errors = run_at_once(
        [(lambda p=p: p.post(f"/cohorts/{cohort_id}/enrol", children=p.child_id)) for p in parents]
    )
    assert errors == []
    assert Counter(r.status_code for r in responses) == {302: 50}
    counts, rows, problems = state(app, cohort_id)
    assert problems == []
    assert counts == (10, 10, 40)
    assert Counter(status for _, _, status in rows) == {ENROLLED: 10, WAITLISTED: 40}
    # Arrival order: the ten seats went to the ten first enrolments, the queue follows.
    assert [status for _, _, status in rows] == [ENROLLED] * 10 + [WAITLISTED] * 40
    # Each waiting family was told its own place, 1 to 40, once.
    places = [
        int(re.search(r"is number (\d+) on its waiting list", m.body).group(1))
        for m in outbox(app, "enrolment_waitlisted")
    ]
    assert sorted(places) == list(range(1, 41))
    assert len(outbox(app, "enrolment_confirmed")) == 10


def test_a_form_sent_five_times_at_once_makes_one_enrolment(app, setup):
    cohort_id, [person] = setup(capacity=10, families_count=1)
    browsers = [Parent(app, *person) for _ in range(5)]
    responses, errors = run_at_once(
        [(lambda b=b: b.post(f"/cohorts/{cohort_id}/enrol", children=b.child_id)) for b in browsers]
    )
    assert errors == []
    # One effect; the four copies go where the first answer went (one effect per submission).
    assert sorted(r.status_code for r in responses) == [302, 303, 303, 303, 303]
    assert len({r.headers["Location"] for r in responses}) == 1
    counts, rows, problems = state(app, cohort_id)
    assert problems == []
    assert counts == (10, 1, 0)
    assert len(rows) == 1


def _fill(app, cohort_id: int, people, *, enrolled: int, waiting: int) -> list[int]:
    """Enrol the first ``enrolled + waiting`` children, in order; their enrolment ids."""
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        ids = []
        for _, _, child_id in people[: enrolled + waiting]:
            child = db.session.get(Child, child_id)
            enrolment = enrol(child, cohort, actor=child.guardians[0])
            ids.append(enrolment.id)
        db.session.commit()
        return ids


def test_concurrent_withdrawals_offer_each_seat_once(app, setup):
    cohort_id, people = setup(capacity=10, families_count=25)
    ids = _fill(app, cohort_id, people, enrolled=10, waiting=15)
    leaving = [Parent(app, *person) for person in people[:10]]
    responses, errors = run_at_once(
        [
            (lambda p=p, e=e: p.post(f"/enrolments/{e}/withdraw"))
            for p, e in zip(leaving, ids[:10], strict=True)
        ]
    )
    assert errors == []
    assert Counter(r.status_code for r in responses) == {302: 10}
    counts, rows, problems = state(app, cohort_id)
    assert problems == []
    assert counts == (10, 10, 5)
    statuses = {enrolment_id: status for enrolment_id, _, status in rows}
    # The ten first children waiting got the ten seats, in order; the five last still wait.
    assert [statuses[i] for i in ids[10:20]] == [OFFERED] * 10
    assert [statuses[i] for i in ids[20:]] == [WAITLISTED] * 5
    offers = outbox(app, "seat_offered")
    assert sorted(m.recipient for m in offers) == sorted(p[1] for p in people[10:20])
    with app.app_context():
        offered_audits = db.session.scalar(
            select(func.count()).where(AuditEntry.action == "enrolment.offered")
        )
    assert offered_audits == 10


def test_concurrent_acceptances_and_double_clicks(app, setup):
    cohort_id, people = setup(capacity=5, families_count=12)
    ids = _fill(app, cohort_id, people, enrolled=5, waiting=7)
    with app.app_context():
        for enrolment_id in ids[:5]:
            enrolment = db.session.get(Enrolment, enrolment_id)
            withdraw(enrolment, actor=enrolment.child.guardians[0])
        db.session.commit()
    offered = list(zip(people[5:10], ids[5:10], strict=True))
    # Every offered family clicks "accept" twice at the same instant (two tabs).
    jobs = []
    for person, enrolment_id in offered:
        for browser in (Parent(app, *person), Parent(app, *person)):
            jobs.append(lambda b=browser, e=enrolment_id: b.post(f"/enrolments/{e}/accept"))
    responses, errors = run_at_once(jobs)
    assert errors == []
    # One click of each pair takes the seat; the other is refused ("already has this seat")
    # and sent back with the reason flashed.
    assert Counter(r.status_code for r in responses) == {302: 5, 303: 5}
    counts, rows, problems = state(app, cohort_id)
    assert problems == []
    assert counts == (5, 5, 2)
    statuses = {enrolment_id: status for enrolment_id, _, status in rows}
    assert [statuses[i] for i in ids[5:10]] == [ENROLLED] * 5
    with app.app_context():
        accepted = db.session.scalar(
            select(func.count()).where(AuditEntry.action == "enrolment.accepted")
        )
    assert accepted == 5  # each offer accepted exactly once
    assert len(outbox(app, "enrolment_confirmed")) == 5 + 5


def test_withdrawals_acceptances_lapses_and_new_families_all_at_once(app, setup, frozen_now):
    """A busy minute: families leave, others accept, the cron job runs twice, and newcomers
    enrol, at the same instant. Whatever the order, the invariants hold."""
    cohort_id, people = setup(capacity=6, families_count=24)
    ids = _fill(app, cohort_id, people, enrolled=6, waiting=10)
    with app.app_context():
        for enrolment_id in ids[:3]:
            enrolment = db.session.get(Enrolment, enrolment_id)
            withdraw(enrolment, actor=enrolment.child.guardians[0])
        db.session.commit()
    offered = list(zip(people[6:9], ids[6:9], strict=True))
    jobs = []
    for person, enrolment_id in offered[:2]:
        browser = Parent(app, *person)
        jobs.append(lambda b=browser, e=enrolment_id: b.post(f"/enrolments/{e}/accept"))
    person, enrolment_id = offered[2]
    browser = Parent(app, *person)
    jobs.append(lambda b=browser, e=enrolment_id: b.post(f"/enrolments/{e}/decline"))
    for person, enrolment_id in zip(people[3:6], ids[3:6], strict=True):
        browser = Parent(app, *person)
        jobs.append(lambda b=browser, e=enrolment_id: b.post(f"/enrolments/{e}/withdraw"))
    for person in people[16:24]:
        browser = Parent(app, *person)
        jobs.append(lambda b=browser: b.post(f"/cohorts/{cohort_id}/enrol", children=b.child_id))

    def cron() -> None:
        with app.app_context():
            expire_offers()
            db.session.commit()
            db.session.remove()

    jobs += [cron, cron]
    _, errors = run_at_once(jobs)
    assert errors == []
    counts, rows, problems = state(app, cohort_id)
    assert problems == []
    capacity, seats, waiting = counts
    assert seats == capacity
    assert Counter(status for _, _, status in rows)[WAITLISTED] == waiting
    # First come, first served: nobody still waiting arrived before a child offered a seat.
    offered_ids = [i for i, _, s in rows if s == OFFERED]
    waiting_ids = [i for i, _, s in rows if s == WAITLISTED]
    assert not waiting_ids or not offered_ids or max(offered_ids) < min(waiting_ids)


def test_a_group_cancelled_while_families_answer_and_leave(app, setup, coordinator):
    """The coordinator cancels the group at the instant families accept, decline, withdraw and
    enrol: nobody gets an error, and afterwards no place is left in the cancelled group."""
    from lms.accounts.models import User

    cohort_id, people = setup(capacity=4, families_count=12)
    ids = _fill(app, cohort_id, people, enrolled=4, waiting=6)
    with app.app_context():
        for enrolment_id in ids[:2]:
            enrolment = db.session.get(Enrolment, enrolment_id)
            withdraw(enrolment, actor=enrolment.child.guardians[0])
        db.session.commit()
    jobs = []
    for person, enrolment_id, action in [
        (people[4], ids[4], "accept"),
        (people[5], ids[5], "decline"),
        (people[2], ids[2], "withdraw"),
        (people[6], ids[6], "withdraw"),
    ]:
        browser = Parent(app, *person)
        jobs.append(lambda b=browser, e=enrolment_id, a=action: b.post(f"/enrolments/{e}/{a}"))
    for person in people[10:12]:
        browser = Parent(app, *person)
        jobs.append(lambda b=browser: b.post(f"/cohorts/{cohort_id}/enrol", children=b.child_id))

    def cancel_the_group() -> None:
        with app.app_context():
            boss = db.session.get(User, coordinator.id)
            set_cohort_status(db.session.get(Cohort, cohort_id), CohortStatus.CANCELLED, actor=boss)
            db.session.commit()
            db.session.remove()

    jobs.append(cancel_the_group)
    responses, errors = run_at_once(jobs)
    assert errors == []
    # A family that arrives after the cancellation finds the group gone (404) or its answer
    # refused and sent back (303), never a 500.
    assert all(r is None or r.status_code in (302, 303, 404, 422) for r in responses), [
        r.status_code for r in responses if r is not None
    ]
    counts, rows, problems = state(app, cohort_id)
    assert problems == []
    assert counts[1:] == (0, 0)
    assert not [row for row in rows if row[2] in (ENROLLED, WAITLISTED, OFFERED)]


def test_one_child_enrolled_at_once_in_two_groups_at_the_same_time_gets_one(
    app, setup, coordinator
):
    """Two guardians' tabs enrol the same child at the same instant in two groups whose
    lessons are at the same hour: the rules are read under the family's lock, so the second
    sees the first enrolment and is refused; the child never holds two places at once."""
    cohort_id, [person] = setup(capacity=10, families_count=1)
    with app.app_context():
        first = db.session.get(Cohort, cohort_id)
        boss = db.session.get(type(coordinator), coordinator.id)
        course = builders.robotics_course(
            boss, title_fr="Robotique — niveau 2", summary_fr="Robots.", max_age=14
        )
        second = create_cohort(
            CohortPlan(
                course=course,
                room=create_room(actor=boss, name="Salle Hopper", capacity=20),
                lead=create_user(
                    full_name="Salma Idrissi", email="salma@activelabs.ma", role=Role.INSTRUCTOR
                ),
                start_date=first.start_date,
                end_date=first.end_date,
                weekdays=[2],
                start_time=time(14, 30),
                capacity=10,
            ),
            actor=boss,
            status=CohortStatus.OPEN,
        )
        db.session.commit()
        second_id = second.id
    tabs = [Parent(app, *person), Parent(app, *person)]
    # The race is real only when both arrive together: a few tries, each from pages shown
    # afresh (a new submission each; with CSRF off in tests, ``page`` stands for the token).
    for attempt in range(3):
        responses, errors = run_at_once(
            [
                lambda attempt=attempt: tabs[0].post(
                    f"/cohorts/{cohort_id}/enrol", children=person[2], page=attempt
                ),
                lambda attempt=attempt: tabs[1].post(
                    f"/cohorts/{second_id}/enrol", children=person[2], page=attempt
                ),
            ]
        )
        assert errors == []
        assert sorted(r.status_code for r in responses) == [302, 422], attempt
        refused = next(r for r in responses if r.status_code == 422)
        assert "already has a lesson at that time" in refused.get_data(as_text=True)
        with app.app_context():
            places = db.session.scalars(
                select(Enrolment).where(
                    Enrolment.child_id == person[2],
                    Enrolment.status.in_([ENROLLED, WAITLISTED, OFFERED]),
                )
            ).all()
            assert len(places) == 1
            withdraw(places[0], actor=db.session.get(type(coordinator), person[0]))
            db.session.commit()
