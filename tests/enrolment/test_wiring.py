"""The answers the enrolment domain gives to the hooks of courses and families."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from lms.courses import hooks as courses_hooks
from lms.enrolment import wiring
from lms.enrolment.fees import record_payment, set_fee_waiver
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import EndReason, Enrolment, EnrolmentStatus, PrerequisiteWaiver
from lms.enrolment.offers import expire_offers
from lms.enrolment.queries import last_cohort_ends
from lms.enrolment.rules import grant_prerequisite_waiver
from lms.enrolment.seats import check_consistency, is_running
from lms.extensions import db
from lms.families.data_rights import child_erasure_preview, erase_child, export_family
from lms.families.guardians import accept_invitation, invite_guardian, make_invitation_token
from lms.families.hooks import PageSection
from lms.families.permissions import can_view_safeguarding, instructor_teaches
from lms.roles import Role
from tests.conftest import PASSWORD, get
from tests.enrolment.conftest import GROUP_END, NOW, mails, refreshed


@pytest.fixture
def full(make_cohort, make_family):
    cohort = make_cohort(capacity=1)
    seated = make_family(first_name="Yasmine")
    waiting = make_family(first_name="Adam")
    e1 = enrol(seated[1], cohort, actor=get(seated[0]))
    e2 = enrol(waiting[1], cohort, actor=get(waiting[0]))
    db.session.commit()
    return SimpleNamespace(cohort=cohort, parent=seated[0], e1=e1, waiting_parent=waiting[0], e2=e2)


class TestCourses:
    def test_lesson_changes_go_to_the_families_holding_a_seat(self, full):
        assert courses_hooks.cohort_recipients(full.cohort) == [get(full.parent)]

    def test_the_family_calendar_holds_the_groups_the_children_are_enrolled_in(self, full):
        assert list(courses_hooks.family_cohort_ids(get(full.parent))) == [full.cohort.id]
        assert list(courses_hooks.family_cohort_ids(get(full.waiting_parent))) == []

    def test_a_parent_sees_enrol_on_the_card_while_the_window_is_open(self, app, full):
        from flask_login import AnonymousUserMixin

        cohort = full.cohort
        with app.test_request_context():
            [action] = wiring.enrol_action(cohort, get(full.parent))
            assert action.url == f"/cohorts/{cohort.id}/enrol"
            assert str(action.label) == "Join the waiting list"
            assert wiring.enrol_action(cohort, AnonymousUserMixin()) == []
            cohort.status = "closed"
            assert wiring.enrol_action(cohort, get(full.parent)) == []

    def test_the_cohort_page_counts(self, full):
        section = wiring.cohort_page_section(full.cohort)
        assert isinstance(section, PageSection)
        assert section.context["counts"] == {"enrolled": 1, "waitlisted": 1}

    def test_a_lapsed_offer_reads_as_lapsed_until_the_job_moves_it_on(self, full, frozen_now):
        withdraw(full.e1, actor=get(full.parent))
        db.session.commit()
        assert full.e2.status == EnrolmentStatus.OFFERED
        assert full.e2.offer_is_open
        assert not full.e2.offer_lapsed
        assert expire_offers([full.cohort]) == []
        frozen_now.move_to(full.e2.offer_expires_at + timedelta(minutes=1))
        # Derived on reading: nothing is stored until the periodic job runs.
        assert full.e2.offer_lapsed
        assert not full.e2.offer_is_open
        assert full.e2.status == EnrolmentStatus.OFFERED
        assert refreshed(full.cohort).seats_taken == 1
        assert expire_offers([full.cohort]) == [full.e2]
        assert full.e2.end_reason == EndReason.OFFER_EXPIRED
        assert refreshed(full.cohort).seats_taken == 0


class TestFamilies:
    def test_an_instructor_teaches_an_enrolled_child_until_the_group_ends(self, full, world):
        lead = world.lead
        seated, waiting = full.e1.child, full.e2.child
        assert instructor_teaches(lead, seated)
        assert can_view_safeguarding(lead, seated)
        assert not instructor_teaches(lead, waiting)
        assert not instructor_teaches(world.other_lead, seated)
        grace = 30  # INSTRUCTOR_ACCESS_DAYS_AFTER_COHORT
        assert instructor_teaches(lead, seated, on=GROUP_END + timedelta(days=grace))
        assert not instructor_teaches(lead, seated, on=GROUP_END + timedelta(days=grace + 1))
        assert not instructor_teaches(lead, seated, on=NOW.date() - timedelta(days=1))

    def test_withdrawn_children_are_no_longer_taught(self, full, world):
        withdraw(full.e1, actor=get(full.parent))
        assert not instructor_teaches(world.lead, full.e1.child)

    def test_last_cohort_ends(self, full):
        assert last_cohort_ends(today=GROUP_END) == {}
        assert last_cohort_ends(today=GROUP_END + timedelta(days=1)) == {
            full.e1.child_id: GROUP_END
        }

    def test_a_child_who_left_early_finished_the_day_it_left(self, full, frozen_now):
        frozen_now.move_to(NOW + timedelta(days=50))
        withdraw(full.e1, actor=get(full.parent))
        assert last_cohort_ends() == {full.e1.child_id: (NOW + timedelta(days=50)).date()}

    def test_the_export_lists_enrolments_and_payments(self, full, world):
        record_payment(
            full.e1,
            actor=world.coordinator,
            amount_centimes=10000,
            method="cash",
            paid_on=NOW.date(),
        )
        data = export_family(get(full.parent))
        [row] = data["enrolments"]
        assert row["course"] == "Robotique LEGO"
        assert row["status"] == "Enrolled"
        assert (row["fee_mad"], row["paid_mad"]) == ("800.00", "100.00")
        [payment] = data["payments"]
        assert payment["amount_mad"] == "100.00"
        assert payment["method"] == "Cash"

    def test_nothing_to_export_adds_nothing(self, make_family):
        parent, _ = make_family()
        data = export_family(get(parent))
        assert "enrolments" not in data
        assert "payments" not in data

    def test_erasing_a_child_frees_the_seat_and_keeps_the_rows(self, full, world):
        child = full.e1.child
        grant_prerequisite_waiver(child, world.course, actor=world.coordinator, reason="x")
        set_fee_waiver(
            full.e1, actor=world.coordinator, amount_centimes=100, reason="Yasmine's scholarship"
        )
        preview = child_erasure_preview(child, actor=get(full.parent))
        assert preview.from_other_domains == [
            "Yasmine leaves 1 group or waiting list; the seat goes to the next child waiting.",
            "The enrolments and payments stay in the lab's accounts, without Yasmine's name.",
        ]
        erase_child(child, actor=get(full.parent), password=PASSWORD)
        db.session.commit()
        e1 = db.session.get(Enrolment, full.e1.id)
        assert (e1.status, e1.end_reason) == (EnrolmentStatus.WITHDRAWN, EndReason.CHILD_ERASED)
        assert e1.waiver_reason == "—"
        assert db.session.get(Enrolment, full.e2.id).status == EnrolmentStatus.OFFERED
        assert db.session.scalars(select(PrerequisiteWaiver)).all() == []
        assert check_consistency() == []
        assert mails("seat_offered", to=full.waiting_parent.email)

    def test_the_childs_page_shows_the_groups(self, full):
        section = wiring.child_page_section(full.e1.child, get(full.parent))
        assert section.template == "enrolment/_child_section.html"
        assert section.context["enrolments"] == [full.e1]

    def test_co_parents_see_and_act_for_the_child(self, full, make_user):
        co_parent = get(make_user(Role.PARENT, full_name="Nadia Bennani", locale="ar"))
        invitation = invite_guardian(
            actor=get(full.parent), email=co_parent.email, children=[full.e1.child]
        )
        accept_invitation(make_invitation_token(invitation), user=co_parent)
        db.session.commit()
        withdraw(full.e1, actor=co_parent)
        assert {m.recipient for m in mails("enrolment_withdrawn")} == {
            full.parent.email,
            co_parent.email,
        }


def test_the_consistency_check_finds_every_kind_of_problem(full):
    cohort = full.cohort
    assert check_consistency() == []
    cohort.seats_taken = 0
    cohort.waitlist_count = 3
    db.session.flush()
    problems = check_consistency([cohort])
    assert f"cohort {cohort.id}: seats_taken 0 != 1" in problems
    assert f"cohort {cohort.id}: waitlist_count 3 != 1" in problems
    db.session.rollback()
    full.e2.status = EnrolmentStatus.ENROLLED
    db.session.flush()
    assert f"cohort {cohort.id}: 2 seats held, capacity 1" in check_consistency()


def test_a_waiting_child_while_a_seat_is_free_is_a_problem(make_cohort, make_family):
    cohort = make_cohort(capacity=2)
    user, child = make_family()
    enrolment = enrol(child, cohort, actor=get(user))
    enrolment.status = EnrolmentStatus.WAITLISTED
    cohort.seats_taken, cohort.waitlist_count = 0, 1
    db.session.flush()
    assert check_consistency() == [f"cohort {cohort.id}: 1 waiting while a seat is free"]


def test_a_date_in_the_past_is_not_a_running_group(make_cohort):
    cohort = make_cohort()
    assert is_running(cohort)
    cohort.end_date = date(2026, 9, 1)
    assert not is_running(cohort)
