"""Random sequences of enrolments, withdrawals, answers to offers, lapses and capacity changes
(hypothesis, stateful): invariants 1-3 of DESIGN.md are checked after every step."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from lms.courses.cohorts import CohortPlan, update_cohort
from lms.courses.models import Cohort
from lms.database import utcnow
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import ACTIVE_STATUSES, SEAT_STATUSES, Enrolment, EnrolmentStatus
from lms.enrolment.offers import accept_offer, decline_offer, expire_offers
from lms.enrolment.seats import check_consistency
from lms.errors import DomainError
from lms.extensions import db
from tests.enrolment.conftest import NOW

FAMILIES = 7
TERMINAL = (EnrolmentStatus.WITHDRAWN, EnrolmentStatus.CANCELLED)


def _set_capacity(cohort: Cohort, capacity: int, actor) -> None:
    update_cohort(cohort, replace(CohortPlan.of(cohort), capacity=capacity), actor=actor)


class SeatsMachine(RuleBasedStateMachine):
    """Two groups at different times; seven families with one child each."""

    world = None  # set by the test: cohorts, families, coordinator, clock

    def __init__(self) -> None:
        super().__init__()
        self.clock = self.world.clock
        self.clock.move_to(NOW)
        self.savepoint = db.session.begin_nested()
        self.cohorts = self.world.cohorts
        self.families = self.world.families
        self.offered_at: dict[int, object] = {}  # enrolment id -> when it was offered
        self.ended: set[int] = set()

    def teardown(self) -> None:
        self.savepoint.rollback()
        db.session.expire_all()

    # -- helpers

    def active(self, cohort: Cohort | None = None) -> list[Enrolment]:
        query = select(Enrolment).where(Enrolment.status.in_(ACTIVE_STATUSES))
        if cohort is not None:
            query = query.where(Enrolment.cohort_id == cohort.id)
        return list(db.session.scalars(query.order_by(Enrolment.id)))

    def of_status(self, status: str) -> list[Enrolment]:
        return [e for e in self.active() if e.status == status]

    def counts(self, cohort: Cohort) -> tuple[int, int, int]:
        db.session.refresh(cohort)
        return cohort.capacity, cohort.seats_taken, cohort.waitlist_count

    # -- rules

    @rule(family=st.integers(0, FAMILIES - 1), group=st.integers(0, 1))
    def enrol(self, family: int, group: int) -> None:
        parent, child = self.families[family]
        cohort = self.cohorts[group]
        capacity, seats, waiting = self.counts(cohort)
        already = any(e.child_id == child.id for e in self.active(cohort))
        try:
            enrolment = enrol(child, cohort, actor=parent)
        except DomainError:
            assert already
            return
        assert not already
        expected = (
            EnrolmentStatus.ENROLLED
            if seats < capacity and waiting == 0
            else EnrolmentStatus.WAITLISTED
        )
        assert enrolment.status == expected

    @precondition(lambda self: self.active())
    @rule(pick=st.integers(0, 100))
    def withdraw(self, pick: int) -> None:
        enrolments = self.active()
        enrolment = enrolments[pick % len(enrolments)]
        cohort = enrolment.cohort
        waiting_before = [e.id for e in self.active(cohort) if e.status == "waitlisted"]
        held_seat = enrolment.status in SEAT_STATUSES
        withdraw(enrolment, actor=self.parent_of(enrolment))
        self.ended.add(enrolment.id)
        if held_seat and waiting_before:
            # The seat goes to the first child waiting, and to nobody else.
            first = db.session.get(Enrolment, waiting_before[0])
            assert first.status == EnrolmentStatus.OFFERED

    @precondition(lambda self: self.of_status(EnrolmentStatus.OFFERED))
    @rule(pick=st.integers(0, 100), accept=st.booleans())
    def answer(self, pick: int, accept: bool) -> None:
        offers = self.of_status(EnrolmentStatus.OFFERED)
        enrolment = offers[pick % len(offers)]
        parent = self.parent_of(enrolment)
        if accept:
            in_time = enrolment.offer_expires_at > utcnow()
            try:
                accept_offer(enrolment, actor=parent)
            except DomainError:
                assert not in_time
            else:
                assert enrolment.status == EnrolmentStatus.ENROLLED
        else:
            decline_offer(enrolment, actor=parent)
            self.ended.add(enrolment.id)

    @rule(hours=st.integers(1, 60))
    def time_passes_and_cron_runs(self, hours: int) -> None:
        self.clock.shift(timedelta(hours=hours))
        now = utcnow()
        due = {e.id for e in self.of_status(EnrolmentStatus.OFFERED) if e.offer_expires_at <= now}
        lapsed = expire_offers()
        assert {e.id for e in lapsed} == due
        self.ended |= due
        assert expire_offers() == []  # idempotent

    @rule(group=st.integers(0, 1), capacity=st.integers(1, 4))
    def capacity_changes(self, group: int, capacity: int) -> None:
        cohort = self.cohorts[group]
        _, seats, _ = self.counts(cohort)
        try:
            _set_capacity(cohort, capacity, self.world.coordinator)
        except DomainError:
            assert capacity < seats
        else:
            assert capacity >= seats

    def parent_of(self, enrolment: Enrolment):
        return next(p for p, c in self.families if c.id == enrolment.child_id)

    # -- invariants

    @invariant()
    def seats_never_above_capacity_and_counters_exact(self) -> None:
        assert check_consistency(self.cohorts) == []
        for cohort in self.cohorts:
            capacity, seats, _waiting = self.counts(cohort)
            assert seats <= capacity

    @invariant()
    def first_come_first_served(self) -> None:
        for cohort in self.cohorts:
            active = self.active(cohort)
            waiting = [e.id for e in active if e.status == EnrolmentStatus.WAITLISTED]
            offered = [e.id for e in active if e.status == EnrolmentStatus.OFFERED]
            if waiting and offered:
                assert max(offered) < min(waiting)

    @invariant()
    def one_offer_per_seat_once(self) -> None:
        for enrolment in db.session.scalars(select(Enrolment)):
            if enrolment.offered_at is not None:
                first = self.offered_at.setdefault(enrolment.id, enrolment.offered_at)
                assert enrolment.offered_at == first  # never offered a second time
            if enrolment.id in self.ended:
                assert enrolment.status in TERMINAL  # ended stays ended


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_random_sequences_keep_the_invariants(world, make_cohort, make_family, frozen_now):
    from datetime import time
    from types import SimpleNamespace

    cohorts = [
        make_cohort(capacity=2),
        make_cohort(capacity=3, start_time=time(17, 0)),
    ]
    families_ = []
    for _ in range(FAMILIES):
        parent, child = make_family()
        families_.append((db.session.get(type(parent), parent.id), child))
    SeatsMachine.world = SimpleNamespace(
        cohorts=cohorts,
        families=families_,
        coordinator=world.coordinator,
        clock=frozen_now,
    )
    run_state_machine_as_test(
        SeatsMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
