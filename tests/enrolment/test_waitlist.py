"""Leaving a group, seat offers (accept, decline, lapse), capacity changes, coordinators'
cancellations and moves, a cancelled group: invariants 1-3 after each."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.courses.cohorts import CohortPlan, set_cohort_status, update_cohort
from lms.courses.models import CohortStatus
from lms.enrolment.fees import record_payment
from lms.enrolment.joining import enrol, enrol_by_coordinator
from lms.enrolment.leaving import cancel_enrolment, move_enrolment, withdraw
from lms.enrolment.models import EndReason, Enrolment, EnrolmentStatus
from lms.enrolment.offers import (
    accept_offer,
    decline_offer,
    expire_offers,
    offer_deadline,
    offer_from_token,
    offer_token,
)
from lms.enrolment.seats import check_consistency, waiting_position
from lms.errors import DomainError
from lms.extensions import db
from tests.conftest import get
from tests.enrolment.conftest import NOW, mails, refreshed

ENROLLED = EnrolmentStatus.ENROLLED
WAITLISTED = EnrolmentStatus.WAITLISTED
OFFERED = EnrolmentStatus.OFFERED
WITHDRAWN = EnrolmentStatus.WITHDRAWN
CANCELLED = EnrolmentStatus.CANCELLED


def refusal(callable_, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as raised:
        callable_(*args, **kwargs)
    return str(raised.value.message)


@pytest.fixture
def full(make_cohort, make_family):
    """A group of 2 seats, full, with 3 children waiting: (cohort, [(parent, enrolment)])."""
    cohort = make_cohort(capacity=2)
    people = []
    for n in range(5):
        user, child = make_family(first_name=f"Child{n}")
        people.append((user, enrol(child, cohort, actor=get(user))))
    db.session.commit()
    return cohort, people


def counts(cohort) -> tuple[int, int]:
    cohort = refreshed(cohort)
    return cohort.seats_taken, cohort.waitlist_count


class TestWithdraw:
    def test_the_seat_goes_to_the_first_child_waiting(self, full):
        cohort, people = full
        (p0, e0), _, (_, e2), (_, e3), _ = people
        withdraw(e0, actor=get(p0))
        assert (e0.status, e0.end_reason) == (WITHDRAWN, EndReason.WITHDRAWN_BY_PARENT)
        assert db.session.get(Enrolment, e2.id).status == OFFERED
        assert db.session.get(Enrolment, e3.id).status == WAITLISTED
        assert counts(cohort) == (2, 2)
        assert waiting_position(e3) == 1
        assert check_consistency() == []
        [offer] = mails("seat_offered")
        assert offer.recipient == people[2][0].email
        assert "/offers/" in offer.body
        [confirmation] = mails("enrolment_withdrawn")
        assert confirmation.recipient == p0.email
        assert "Child0 is withdrawn from the Robotique LEGO group" in confirmation.body

    def test_leaving_the_waiting_list_moves_the_others_up(self, full):
        cohort, people = full
        _, _, (p2, e2), (_, e3), (_, e4) = people
        withdraw(e2, actor=get(p2))
        assert counts(cohort) == (2, 1 + 0 + 1)
        assert [waiting_position(e) for e in (e3, e4)] == [1, 2]
        assert mails("seat_offered") == []
        assert "no longer on the waiting list" in mails("enrolment_withdrawn")[0].body

    def test_with_nobody_waiting_the_seat_is_free_again(self, cohort, make_family):
        user, child = make_family()
        enrolment = enrol(child, cohort, actor=get(user))
        withdraw(enrolment, actor=get(user))
        assert counts(cohort) == (0, 0)

    def test_twice_is_refused_clearly(self, full):
        _, people = full
        p0, e0 = people[0]
        withdraw(e0, actor=get(p0))
        assert refusal(withdraw, e0, actor=get(p0)) == ("Child0 is no longer in this group.")

    def test_only_the_family(self, full, make_family):
        _, people = full
        stranger, _ = make_family()
        assert refusal(withdraw, people[0][1], actor=get(stranger)) == (
            "You can only enrol and withdraw your own children."
        )

    def test_during_the_group_yes_after_it_no(self, full, frozen_now):
        _, people = full
        frozen_now.move_to(NOW + timedelta(days=45))  # the group is under way
        withdraw(people[0][1], actor=get(people[0][0]))
        frozen_now.move_to(NOW + timedelta(days=100))
        assert refusal(withdraw, people[1][1], actor=get(people[1][0])) == ("This group is over.")

    def test_audited(self, full):
        _, people = full
        withdraw(people[0][1], actor=get(people[0][0]))
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"enrolment.withdrawn", "enrolment.offered"} <= actions


class TestOffers:
    @pytest.fixture
    def offered(self, full):
        cohort, people = full
        withdraw(people[0][1], actor=get(people[0][0]))
        db.session.commit()
        return cohort, people, people[2]

    def test_accepting_takes_the_seat(self, offered):
        cohort, _, (user, enrolment) = offered
        accept_offer(enrolment, actor=get(user))
        assert enrolment.status == ENROLLED
        assert enrolment.enrolled_at is not None
        assert counts(cohort) == (2, 2)
        assert mails("enrolment_confirmed", to=user.email)
        assert check_consistency() == []

    def test_declining_offers_the_seat_to_the_next_child(self, offered):
        cohort, people, (user, enrolment) = offered
        decline_offer(enrolment, actor=get(user))
        assert (enrolment.status, enrolment.end_reason) == (WITHDRAWN, EndReason.OFFER_DECLINED)
        assert db.session.get(Enrolment, people[3][1].id).status == OFFERED
        assert counts(cohort) == (2, 1)
        assert "you declined the seat" in mails("enrolment_withdrawn", to=user.email)[0].subject
        assert check_consistency() == []

    def test_withdrawing_an_offered_child_declines(self, offered):
        _, _, (user, enrolment) = offered
        withdraw(enrolment, actor=get(user))
        assert enrolment.end_reason == EndReason.OFFER_DECLINED

    def test_an_answered_offer_cannot_be_answered_again(self, offered):
        _, _, (user, enrolment) = offered
        accept_offer(enrolment, actor=get(user))
        assert refusal(accept_offer, enrolment, actor=get(user)) == (
            "Child2 already has this seat: nothing more to do."
        )
        assert refusal(decline_offer, enrolment, actor=get(user)) == (
            "Child2 already has this seat: nothing more to do."
        )

    def test_a_declined_offer_cannot_be_accepted(self, offered):
        _, _, (user, enrolment) = offered
        decline_offer(enrolment, actor=get(user))
        assert refusal(accept_offer, enrolment, actor=get(user)) == (
            "This seat is no longer offered to Child2."
        )

    def test_only_the_family_answers(self, offered, make_family):
        _, _, (_, enrolment) = offered
        stranger, _ = make_family()
        for answer in (accept_offer, decline_offer):
            assert refusal(answer, enrolment, actor=get(stranger)) == (
                "You can only enrol and withdraw your own children."
            )

    def test_too_late_to_accept(self, offered, frozen_now):
        _, _, (user, enrolment) = offered
        frozen_now.move_to(enrolment.offer_expires_at + timedelta(seconds=1))
        assert refusal(accept_offer, enrolment, actor=get(user)) == (
            "The deadline to accept this seat has passed; it goes to the next child waiting."
        )


class TestLapsedOffers:
    @pytest.fixture
    def offered(self, full):
        cohort, people = full
        withdraw(people[0][1], actor=get(people[0][0]))
        db.session.commit()
        return cohort, people

    def test_a_lapsed_offer_moves_to_the_next_child(self, offered):
        cohort, people = offered
        first = people[2][1]
        later = first.offer_expires_at + timedelta(minutes=1)
        lapsed = expire_offers(now=later)
        assert [e.id for e in lapsed] == [first.id]
        assert (first.status, first.end_reason) == (CANCELLED, EndReason.OFFER_EXPIRED)
        assert db.session.get(Enrolment, people[3][1].id).status == OFFERED
        assert counts(cohort) == (2, 1)
        assert mails("offer_expired", to=people[2][0].email)
        assert check_consistency() == []

    def test_nothing_happens_before_the_deadline_and_twice_is_harmless(self, offered):
        _, people = offered
        deadline = people[2][1].offer_expires_at
        assert expire_offers(now=deadline - timedelta(minutes=1)) == []
        assert len(expire_offers(now=deadline)) == 1
        assert expire_offers(now=deadline) == []

    def test_with_nobody_left_the_seat_is_freed(self, offered):
        cohort, _people = offered
        now = NOW
        for _ in range(3):
            now = now + timedelta(days=3)
            expire_offers(now=now)
        assert counts(cohort) == (1, 0)
        assert check_consistency() == []

    def test_only_the_given_group(self, offered, make_cohort):
        cohort, people = offered
        other = make_cohort(start_time=time(17, 0))
        later = people[2][1].offer_expires_at + timedelta(minutes=1)
        assert expire_offers(other, now=later) == []
        assert expire_offers([cohort], now=later)

    def test_a_cancelled_group_offers_nothing_more(self, offered, world):
        cohort, _people = offered
        set_cohort_status(cohort, CohortStatus.CANCELLED, actor=world.coordinator)
        assert counts(cohort) == (0, 0)


class TestOfferDeadline:
    """48 hours, but at most half the time left before the next lesson, at least 12 hours."""

    def test_far_from_the_start(self, cohort):
        assert offer_deadline(cohort, NOW) == NOW + timedelta(hours=48)

    def test_close_to_a_lesson(self, cohort):
        first = cohort.lessons[0].starts_at
        now = first - timedelta(hours=30)
        assert offer_deadline(cohort, now) == now + timedelta(hours=15)

    def test_never_under_the_minimum(self, cohort):
        first = cohort.lessons[0].starts_at
        now = first - timedelta(hours=3)
        assert offer_deadline(cohort, now) == now + timedelta(hours=12)

    def test_configurable(self, cohort, app):
        app.config.update(OFFER_HOURS=24, OFFER_MIN_HOURS=6)
        assert offer_deadline(cohort, NOW) == NOW + timedelta(hours=24)
        first = cohort.lessons[0].starts_at
        assert offer_deadline(cohort, first - timedelta(hours=4)) == first + timedelta(hours=2)


class TestOfferLinks:
    @pytest.fixture
    def offer(self, full):
        _cohort, people = full
        withdraw(people[0][1], actor=get(people[0][0]))
        db.session.commit()
        return people[2]

    def test_a_token_names_the_enrolment_and_the_answer(self, offer):
        _, enrolment = offer
        for action in ("accept", "decline"):
            token = offer_token(enrolment, action)
            assert offer_from_token(token) == (enrolment, action)

    @pytest.mark.parametrize("token", ["", "nonsense", "eyJlIjoxfQ.bad-signature"])
    def test_forged_tokens(self, ctx, token):
        with pytest.raises(DomainError, match="not valid"):
            offer_from_token(token)

    def test_a_token_of_another_offer_of_the_same_row_does_not_work(self, offer):
        _, enrolment = offer
        token = offer_token(enrolment, "accept")
        enrolment.offered_at = enrolment.offered_at + timedelta(seconds=5)
        with pytest.raises(DomainError, match="not valid"):
            offer_from_token(token)


class TestCapacity:
    def test_more_seats_are_offered_to_as_many_children(self, full, world):
        cohort, people = full
        update_cohort(cohort, replace(CohortPlan.of(cohort), capacity=4), actor=world.coordinator)
        assert [db.session.get(Enrolment, e.id).status for _, e in people] == [
            ENROLLED,
            ENROLLED,
            OFFERED,
            OFFERED,
            WAITLISTED,
        ]
        assert counts(cohort) == (4, 1)
        assert len(mails("seat_offered")) == 2
        assert (
            db.session.scalar(
                select(AuditEntry).where(AuditEntry.action == "cohort.seats_offered")
            ).details["capacity"]
            == 4
        )
        assert check_consistency() == []

    def test_fewer_seats_than_taken_is_refused(self, full, world):
        cohort, _ = full
        with pytest.raises(DomainError, match="2 seats are already taken"):
            update_cohort(
                cohort, replace(CohortPlan.of(cohort), capacity=1), actor=world.coordinator
            )


class TestCoordinator:
    def test_cancel_an_enrolment_with_a_reason(self, full, world):
        _cohort, people = full
        (parent0, e0) = people[0]
        assert refusal(cancel_enrolment, e0, actor=world.coordinator, reason=" ") == (
            "Say why the enrolment is cancelled."
        )
        cancel_enrolment(e0, actor=world.coordinator, reason="Moved to Rabat")
        assert (e0.status, e0.end_reason) == (CANCELLED, EndReason.CANCELLED_BY_COORDINATOR)
        assert db.session.get(Enrolment, people[2][1].id).status == OFFERED
        assert mails("enrolment_cancelled", to=parent0.email)
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "enrolment.cancelled")
        )
        assert entry.reason == "Moved to Rabat"
        assert refusal(cancel_enrolment, e0, actor=world.coordinator, reason="x") == (
            "This enrolment has already ended."
        )
        assert check_consistency() == []

    def test_parents_cannot_cancel_or_enrol_by_hand(self, full, make_family):
        cohort, people = full
        user, child = make_family()
        assert (
            refusal(cancel_enrolment, people[0][1], actor=get(people[0][0]), reason="x")
            == "Only coordinators can do this."
        )
        assert (
            refusal(enrol_by_coordinator, child, cohort, actor=get(user))
            == "Only coordinators can do this."
        )

    def test_enrol_by_hand_outside_the_window(self, make_cohort, make_family, world, frozen_now):
        cohort = make_cohort(enrolment_closes_at=NOW + timedelta(days=1))
        frozen_now.move_to(NOW + timedelta(days=2))
        user, child = make_family()
        assert "closed on" in refusal(enrol, child, cohort, actor=get(user))
        enrolment = enrol_by_coordinator(child, cohort, actor=world.coordinator)
        assert enrolment.status == ENROLLED

    def test_not_in_a_draft(self, make_cohort, make_family, world):
        cohort = make_cohort(status=CohortStatus.DRAFT)
        _, child = make_family()
        assert refusal(enrol_by_coordinator, child, cohort, actor=world.coordinator) == (
            "This group is not running: it is a draft, cancelled or over."
        )


class TestMove:
    @pytest.fixture
    def two_groups(self, make_cohort, full, world):
        cohort, people = full
        target = make_cohort(capacity=3, room=world.other_room, lead=world.other_lead)
        return cohort, target, people

    def test_a_move_is_one_step(self, two_groups, world):
        source, target, people = two_groups
        parent0, e0 = people[0]
        moved = move_enrolment(e0, target, actor=world.coordinator, reason="Schedule")
        assert moved.status == ENROLLED
        assert moved.moved_from_id == e0.id
        assert (e0.status, e0.end_reason) == (WITHDRAWN, EndReason.MOVED)
        assert db.session.get(Enrolment, people[2][1].id).status == OFFERED
        assert counts(source) == (2, 2)
        assert counts(target) == (1, 0)
        assert mails("enrolment_moved", to=parent0.email)[0].attachments
        assert check_consistency() == []

    def test_payments_follow_the_child(self, two_groups, world):
        _, target, people = two_groups
        e0 = people[0][1]
        payment = record_payment(
            e0, actor=world.coordinator, amount_centimes=20000, method="cash", paid_on=NOW.date()
        )
        moved = move_enrolment(e0, target, actor=world.coordinator)
        assert payment.enrolment_id == moved.id
        assert e0.balance_centimes == 0
        assert moved.balance_centimes == 80000 - 20000

    def test_the_target_needs_a_free_seat(self, two_groups, world, make_cohort):
        source, _, people = two_groups
        full_target = make_cohort(capacity=1, start_time=time(17, 0))
        someone = enrol_by_coordinator(people[2][1].child, full_target, actor=world.coordinator)
        assert someone.status == ENROLLED
        assert (
            refusal(move_enrolment, people[0][1], full_target, actor=world.coordinator)
            == "The other group has no free seat (or children are waiting for one)."
        )
        assert counts(source) == (2, 3)

    def test_refusals(self, two_groups, world):
        source, target, people = two_groups
        assert (
            refusal(move_enrolment, people[0][1], source, actor=world.coordinator)
            == "Choose another group."
        )
        assert (
            refusal(move_enrolment, people[3][1], target, actor=world.coordinator)
            == "Only an enrolled child can be moved."
        )
        assert refusal(
            move_enrolment, people[0][1], target, actor=world.coordinator,
            override_rules=True,
        ) == "Say why the rules are set aside."  # fmt: skip

    def test_age_rules_apply_unless_set_aside(self, world, make_cohort, make_course, full):
        _, people = full
        teens = make_course("Arduino", min_age=12, max_age=14)
        target = make_cohort(course=teens, room=world.other_room, lead=world.other_lead)
        assert "this course is for children aged 12 to 14" in refusal(
            move_enrolment, people[0][1], target, actor=world.coordinator
        )
        moved = move_enrolment(
            people[0][1], target, actor=world.coordinator, override_rules=True, reason="Gifted"
        )
        assert moved.override_reason == "Gifted"
        assert moved.fee_centimes == 60000


class TestCohortCancelled:
    def test_everyone_is_told_and_every_place_ends(self, full, world):
        cohort, people = full
        set_cohort_status(cohort, CohortStatus.CANCELLED, actor=world.coordinator)
        assert {e.status for _, e in people} == {CANCELLED}
        assert {e.end_reason for _, e in people} == {EndReason.COHORT_CANCELLED}
        told = {m.recipient for m in mails("cohort_cancelled")}
        assert told == {user.email for user, _ in people}
        assert len(mails("cohort_cancelled")) == 5  # once each
        assert counts(cohort) == (0, 0)
        assert check_consistency() == []
