"""Joining a group: every rule and every refusal, seats and the waiting list, e-mails."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.clock import local_instant
from lms.courses.cohorts import set_cohort_status
from lms.courses.models import CohortStatus, LessonStatus
from lms.enrolment import hooks
from lms.enrolment.joining import enrol, enrol_by_coordinator, enrol_children
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.rules import (
    active_enrolment,
    enrolment_problem,
    grant_prerequisite_waiver,
    revoke_prerequisite_waiver,
)
from lms.enrolment.seats import check_consistency, waiting_position
from lms.errors import DomainError
from lms.extensions import db
from lms.families.data_rights import erase_child
from lms.families.guardians import accept_invitation, invite_guardian, make_invitation_token
from lms.roles import Role
from tests.conftest import get
from tests.enrolment.conftest import GROUP_START, NOW, born, mails, refreshed, statuses

ENROLLED, WAITLISTED, OFFERED = (
    EnrolmentStatus.ENROLLED,
    EnrolmentStatus.WAITLISTED,
    EnrolmentStatus.OFFERED,
)


def refusal(callable_, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as raised:
        callable_(*args, **kwargs)
    return str(raised.value.message)


class TestSeatsAndWaitingList:
    def test_free_seats_then_the_waiting_list_in_arrival_order(self, cohort, make_family):
        families_ = [make_family() for _ in range(5)]
        enrolments = [enrol(c, cohort, actor=get(p)) for p, c in families_]
        assert [e.status for e in enrolments] == [ENROLLED, ENROLLED] + [WAITLISTED] * 3
        assert [e.id for e in enrolments] == sorted(e.id for e in enrolments)
        cohort = refreshed(cohort)
        assert (cohort.seats_taken, cohort.waitlist_count) == (2, 3)
        assert [waiting_position(e) for e in enrolments] == [None, None, 1, 2, 3]
        assert check_consistency() == []

    def test_enrolled_gets_the_dates_and_the_calendar(self, cohort, make_family):
        user, child = make_family(first_name="Yasmine")
        enrolment = enrol(child, cohort, actor=get(user))
        assert enrolment.enrolled_at is not None
        assert enrolment.created_by_id == user.id
        [mail] = mails("enrolment_confirmed")
        assert mail.recipient == user.email
        assert mail.subject == "Yasmine is enrolled in Robotique LEGO"
        assert "- Wednesday, 7 October 2026, 14:30–16:00" in mail.body, mail.body
        assert mail.body.count("\n- ") == 8  # the eight lessons
        [attachment] = mail.attachments
        assert attachment.content_type == "text/calendar"
        assert attachment.content.count(b"BEGIN:VEVENT") == 8
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.subject_id == enrolment.id))
        assert entry.action == "enrolment.enrolled"
        assert entry.details == {"child_id": child.id, "cohort_id": cohort.id}

    def test_waitlisted_is_told_the_position(self, make_cohort, make_family):
        cohort = make_cohort(capacity=1)
        first = make_family()
        enrol(first[1], cohort, actor=get(first[0]))
        user, child = make_family(first_name="Adam")
        enrol(child, cohort, actor=get(user))
        [mail] = mails("enrolment_waitlisted")
        assert mail.recipient == user.email
        assert "Adam is number 1 on its waiting list" in mail.body

    def test_every_guardian_is_told_in_their_own_language(
        self, cohort, make_family, make_user, ctx
    ):
        user, child = make_family(first_name="Yasmine", locale="fr")
        co_parent = get(make_user(Role.PARENT, full_name="Nadia Bennani", locale="ar"))
        invitation = invite_guardian(actor=get(user), email=co_parent.email,
                                              children=[child])  # fmt: skip
        accept_invitation(make_invitation_token(invitation), user=co_parent)
        db.session.commit()
        enrol(child, cohort, actor=get(user))
        sent = {m.recipient: m for m in mails("enrolment_confirmed")}
        assert set(sent) == {user.email, co_parent.email}
        assert sent[user.email].language == "fr"
        assert sent[user.email].subject == "Inscription confirmée pour Yasmine : Robotique LEGO"
        assert sent[co_parent.email].language == "ar"
        assert "روبوتات ليغو" in sent[co_parent.email].subject

    def test_a_coordinators_enrolment_still_never_goes_above_capacity(
        self, world, make_cohort, make_family
    ):
        cohort = make_cohort(capacity=1)
        a, b = make_family(), make_family()
        enrol_by_coordinator(a[1], cohort, actor=world.coordinator)
        second = enrol_by_coordinator(b[1], cohort, actor=world.coordinator)
        assert second.status == WAITLISTED
        assert refreshed(cohort).seats_taken == 1

    def test_the_price_is_copied_when_the_child_joins(self, world, cohort, make_family):
        user, child = make_family()
        enrolment = enrol(child, cohort, actor=get(user))
        world.course.price_centimes = 95000
        db.session.flush()
        assert enrolment.fee_centimes == 80000
        assert enrolment.amount_due_centimes == 80000

    def test_nothing_is_queued_for_a_transaction_that_rolls_back(self, cohort, make_family):
        user, child = make_family()
        db.session.commit()
        enrol(child, cohort, actor=get(user))
        assert mails("enrolment_confirmed")
        db.session.rollback()
        assert mails() == []
        assert db.session.scalars(select(Enrolment)).all() == []


class TestWhoMayEnrol:
    def test_only_the_childs_parent(self, cohort, make_family):
        _, child = make_family()
        stranger, _ = make_family()
        assert refusal(enrol, child, cohort, actor=get(stranger)) == (
            "You can only enrol and withdraw your own children."
        )

    @pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.COORDINATOR])
    def test_staff_do_not_use_the_parents_way(self, cohort, make_family, make_user, role):
        _, child = make_family()
        staff = get(make_user(role))
        assert refusal(enrol, child, cohort, actor=staff) == (
            "Only a child's parents can enrol the child."
        )

    def test_an_erased_child(self, cohort, make_family):
        from tests.conftest import PASSWORD

        user, child = make_family()
        erase_child(child, actor=get(user), password=PASSWORD)
        db.session.commit()
        with pytest.raises(DomainError):
            enrol(child, cohort, actor=get(user))


class TestGroupAndWindow:
    @pytest.mark.parametrize("status", [CohortStatus.DRAFT, CohortStatus.CLOSED])
    def test_the_group_must_be_open(self, make_cohort, make_family, world, status):
        cohort = make_cohort(status=CohortStatus.DRAFT)
        if status == CohortStatus.CLOSED:
            set_cohort_status(cohort, CohortStatus.OPEN, actor=world.coordinator)
            set_cohort_status(cohort, CohortStatus.CLOSED, actor=world.coordinator)
        user, child = make_family()
        assert refusal(enrol, child, cohort, actor=get(user)) == (
            "This group is not open for enrolment."
        )

    def test_the_window_has_not_opened_yet(self, make_cohort, make_family):
        cohort = make_cohort(enrolment_opens_at=local_instant(date(2026, 9, 14), time(0)))
        user, child = make_family()
        assert refusal(enrol, child, cohort, actor=get(user)) == (
            "Enrolment for this group opens on 14 September 2026."
        )

    def test_the_window_has_closed(self, make_cohort, make_family, frozen_now):
        closes = local_instant(date(2026, 9, 20), time(0))  # after the 19th
        cohort = make_cohort(enrolment_closes_at=closes)
        user, child = make_family()
        frozen_now.move_to(closes + timedelta(minutes=1))
        assert refusal(enrol, child, cohort, actor=get(user)) == (
            "Enrolment for this group closed on 19 September 2026."
        )

    def test_a_group_that_is_over(self, make_cohort, make_family, frozen_now):
        cohort = make_cohort()
        user, child = make_family()
        frozen_now.move_to(NOW + timedelta(days=100))
        assert refusal(enrol, child, cohort, actor=get(user)) == "This group is over."

    def test_a_group_already_started_still_takes_children(
        self, make_cohort, make_family, frozen_now
    ):
        cohort = make_cohort()
        user, child = make_family()
        frozen_now.move_to(NOW + timedelta(days=40))
        assert enrol(child, cohort, actor=get(user)).status == ENROLLED


class TestAge:
    """Ages count on the group's first day (7 October 2026), to the day; ages 8 to 11."""

    @pytest.mark.parametrize(
        ("birth_date", "accepted"),
        [
            (born(8, on=GROUP_START), True),  # 8 on the very first day
            (born(8, on=GROUP_START, days=1), False),  # 8 the day after
            (born(12, on=GROUP_START, days=1), True),  # still 11 on the first day
            (born(12, on=GROUP_START), False),  # 12 that day
        ],
    )
    def test_to_the_day(self, cohort, make_family, birth_date, accepted):
        user, child = make_family(first_name="Rania", date_of_birth=birth_date)
        if accepted:
            assert enrol(child, cohort, actor=get(user)).status == ENROLLED
        else:
            age = 7 if birth_date > born(8) else 12
            assert refusal(enrol, child, cohort, actor=get(user)) == (
                f"On the group's first day (7 October 2026) Rania will be {age}; this course "
                "is for children aged 8 to 11."
            )

    def test_a_coordinator_may_set_the_age_rule_aside_with_a_reason(
        self, world, cohort, make_family
    ):
        _, child = make_family(age=7)
        assert refusal(enrol_by_coordinator, child, cohort, actor=world.coordinator).startswith(
            "On the group's first day"
        )
        assert refusal(
            enrol_by_coordinator, child, cohort, actor=world.coordinator,
            override_age=True,
        ) == "Say why the rules are set aside."  # fmt: skip
        enrolment = enrol_by_coordinator(
            child, cohort, actor=world.coordinator, override_age=True, reason="Twin of Adam"
        )
        assert enrolment.status == ENROLLED
        assert enrolment.override_reason == "Twin of Adam"
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "enrolment.override")
        )
        assert entry.reason == "Twin of Adam"
        assert entry.details == {"age": True, "prerequisites": False}


class TestPrerequisites:
    @pytest.fixture
    def advanced(self, make_course, make_cohort, world):
        basics = make_course("Python pour débutants")
        arduino = make_course("Arduino", prerequisite_ids=[basics.id], min_age=8, max_age=11)
        return basics, make_cohort(course=arduino)

    def test_a_missing_certificate(self, advanced, make_family):
        _, cohort = advanced
        user, child = make_family(first_name="Adam")
        assert refusal(enrol, child, cohort, actor=get(user)) == (
            "Adam first needs the certificate of Python pour débutants, or a coordinator's waiver."
        )

    def test_a_certificate_lets_the_child_in(self, advanced, make_family):
        basics, cohort = advanced
        user, child = make_family()
        hooks.holds_valid_certificate.override(
            lambda c, course: (c.id, course.id) == (child.id, basics.id)
        )
        assert enrol(child, cohort, actor=get(user)).status == ENROLLED

    def test_a_waiver_lets_the_child_in(self, advanced, make_family, world):
        basics, cohort = advanced
        user, child = make_family()
        waiver = grant_prerequisite_waiver(
            child, basics, actor=world.coordinator, reason="Codes in Python at school"
        )
        assert enrol(child, cohort, actor=get(user)).status == ENROLLED
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "enrolment.prerequisite_waived")
        )
        assert (entry.subject_id, entry.reason) == (waiver.id, "Codes in Python at school")

    def test_waivers_need_a_reason_and_are_given_once(self, advanced, make_family, world):
        basics, _ = advanced
        _, child = make_family(first_name="Adam")
        assert (
            refusal(
                grant_prerequisite_waiver,
                child,
                basics,
                actor=world.coordinator,
                reason=" ",
            )
            == "Say why the prerequisite is waived."
        )
        grant_prerequisite_waiver(child, basics, actor=world.coordinator, reason="ok")
        assert (
            refusal(
                grant_prerequisite_waiver,
                child,
                basics,
                actor=world.coordinator,
                reason="x",
            )
            == "Adam already has a waiver for this course."
        )

    def test_a_revoked_waiver_no_longer_counts(self, advanced, make_family, world):
        basics, cohort = advanced
        user, child = make_family()
        waiver = grant_prerequisite_waiver(child, basics, actor=world.coordinator, reason="ok")
        revoke_prerequisite_waiver(waiver, actor=world.coordinator)
        assert "first needs the certificate" in refusal(enrol, child, cohort, actor=get(user))

    def test_only_coordinators_waive(self, advanced, make_family):
        basics, _ = advanced
        user, child = make_family()
        assert (
            refusal(grant_prerequisite_waiver, child, basics, actor=get(user), reason="please")
            == "Only coordinators can do this."
        )


class TestOverlap:
    @pytest.fixture
    def taken(self, make_cohort, make_course, make_family, world):
        """Yasmine is enrolled on Wednesdays 15:00-16:30 in Scratch (another room)."""
        scratch = make_course("Scratch", min_age=7, max_age=14)
        other = make_cohort(
            course=scratch,
            start_time=time(15, 0),
            capacity=5,
            room=world.other_room,
            lead=world.other_lead,
        )
        user, child = make_family(first_name="Yasmine")
        enrol(child, other, actor=get(user))
        return user, child, other

    def test_a_lesson_at_the_same_time_is_refused(self, taken, cohort):
        user, child, _ = taken
        assert refusal(enrol, child, cohort, actor=get(user)) == (
            "Yasmine already has a lesson at that time: Scratch on Wednesday, 7 October 2026 "
            "at 15:00."
        )

    def test_a_place_on_another_waiting_list_counts_too(
        self, make_cohort, make_course, make_family, cohort, world
    ):
        scratch = make_course("Scratch", min_age=7, max_age=14)
        other = make_cohort(
            course=scratch,
            start_time=time(15, 0),
            capacity=1,
            room=world.other_room,
            lead=world.other_lead,
        )
        someone = make_family()
        enrol(someone[1], other, actor=get(someone[0]))
        user, child = make_family()
        assert enrol(child, other, actor=get(user)).status == WAITLISTED
        assert "already has a lesson at that time" in refusal(enrol, child, cohort, actor=get(user))

    def test_cancelled_lessons_do_not_count(self, taken, cohort, world):
        user, child, other = taken
        for lesson in other.lessons:
            lesson.status = LessonStatus.CANCELLED
        db.session.commit()
        assert enrol(child, cohort, actor=get(user)).status == ENROLLED

    def test_after_withdrawing_the_time_is_free(self, taken, cohort):
        user, child, other = taken
        withdraw(active_enrolment(child, other), actor=get(user))
        assert enrol(child, cohort, actor=get(user)).status == ENROLLED

    def test_another_time_is_fine(self, taken, make_cohort):
        user, child, _ = taken
        later = make_cohort(start_time=time(17, 0))
        assert enrol(child, later, actor=get(user)).status == ENROLLED


class TestAlreadyThere:
    def test_enrolled(self, cohort, make_family):
        user, child = make_family(first_name="Adam")
        enrol(child, cohort, actor=get(user))
        assert refusal(enrol, child, cohort, actor=get(user)) == (
            "Adam is already enrolled in this group."
        )

    def test_waiting(self, make_cohort, make_family):
        cohort = make_cohort(capacity=1)
        first = make_family()
        enrol(first[1], cohort, actor=get(first[0]))
        user, child = make_family(first_name="Adam")
        enrol(child, cohort, actor=get(user))
        assert refusal(enrol, child, cohort, actor=get(user)) == (
            "Adam is already on this group's waiting list."
        )

    def test_offered(self, make_cohort, make_family):
        cohort = make_cohort(capacity=1)
        first = make_family()
        taken = enrol(first[1], cohort, actor=get(first[0]))
        user, child = make_family(first_name="Adam")
        enrol(child, cohort, actor=get(user))
        withdraw(taken, actor=get(first[0]))
        assert refusal(enrol, child, cohort, actor=get(user)) == (
            "A seat in this group is already offered to Adam: accept it from your page."
        )

    def test_after_withdrawing_a_child_may_come_back_at_the_end_of_the_queue(
        self, make_cohort, make_family
    ):
        cohort = make_cohort(capacity=1)
        user, child = make_family()
        first = enrol(child, cohort, actor=get(user))
        withdraw(first, actor=get(user))
        again = enrol(child, cohort, actor=get(user))
        assert again.id != first.id
        assert again.status == ENROLLED


class TestSiblings:
    def test_several_children_each_checked_on_their_own(self, make_cohort, make_family, add_child):
        cohort = make_cohort(capacity=2)
        user, yasmine = make_family(first_name="Yasmine")
        adam = add_child(user, first_name="Adam", age=12)
        rania = add_child(user, first_name="Rania", age=9)
        sara = add_child(user, first_name="Sara", age=10)
        results = enrol_children([yasmine, adam, rania, sara], cohort, actor=get(user))
        assert [(r.child.first_name, r.ok) for r in results] == [
            ("Yasmine", True),
            ("Adam", False),
            ("Rania", True),
            ("Sara", True),
        ]
        assert str(results[1].error.message).startswith("On the group's first day")
        assert [r.enrolment.status for r in results if r.ok] == [ENROLLED, ENROLLED, WAITLISTED]
        assert results[3].position == 1
        assert check_consistency() == []

    def test_the_dry_run_gives_the_reason_for_each(self, cohort, make_family, add_child):
        user, yasmine = make_family(first_name="Yasmine")
        adam = add_child(user, first_name="Adam", age=12)
        assert enrolment_problem(yasmine, cohort, actor=get(user)) is None
        assert enrolment_problem(adam, cohort, actor=get(user)).startswith(
            "On the group's first day"
        )
        assert statuses(cohort) == []
