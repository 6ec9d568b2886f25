"""The enrolment pages: happy paths, guards, bad inputs (clear messages, never a 500)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.audit.models import AuditEntry
from lms.enrolment.fees import record_payment
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import Enrolment, EnrolmentStatus, Payment, PrerequisiteWaiver
from lms.enrolment.offers import expire_offers, offer_token
from lms.extensions import db
from tests.conftest import get, links_in, mail_log
from tests.enrolment.conftest import NOW, mails, refreshed


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def family(make_family, add_child):
    """Karim's family: Yasmine (9) and Adam (12, too old for the course)."""
    user, yasmine = make_family(first_name="Yasmine")
    adam = add_child(user, first_name="Adam", age=12)
    return user, yasmine, adam


class TestCatalogue:
    def test_parents_see_enrol_on_open_groups(self, client, login_as, cohort, family):
        anonymous = text(client.get("/catalogue"))
        assert f"/cohorts/{cohort.id}/enrol" not in anonymous
        login_as(family[0])
        page = text(client.get("/catalogue"))
        assert f'href="/cohorts/{cohort.id}/enrol"' in page
        assert "2 seats left" in page
        course_page = text(client.get(f"/catalogue/courses/{cohort.course_id}"))
        assert f"/cohorts/{cohort.id}/enrol" in course_page

    def test_real_seats_and_waiting_list(self, client, make_cohort, make_family):
        cohort = make_cohort(capacity=1)
        for _ in range(3):
            user, child = make_family()
            enrol(child, cohort, actor=get(user))
        db.session.commit()
        page = text(client.get("/catalogue"))
        assert "Full" in page
        assert "2 children on the waiting list" in page


class TestEnrolPage:
    def test_the_form_shows_each_childs_situation(self, client, login_as, cohort, family):
        login_as(family[0])
        response = client.get(f"/cohorts/{cohort.id}/enrol")
        assert response.status_code == 200
        page = text(response)
        assert "Yasmine Tazi" in page
        assert "On the group&#39;s first day (7 October 2026) Adam will be 12" in page
        assert re.search(rf'value="{family[1].id}"[^>]*checked|checked[^>]*value="{family[1].id}"',
                         page)  # fmt: skip

    def test_enrol_one_child(self, app, client, login_as, cohort, family):
        user, yasmine, _ = family
        login_as(user)
        response = client.post(f"/cohorts/{cohort.id}/enrol", data={"children": yasmine.id})
        assert response.status_code == 302
        assert response.headers["Location"] == "/parent#enrolments"
        home = text(client.get("/parent"))
        assert "Yasmine is enrolled." in home
        assert "Robotique LEGO" in home
        assert "still to pay: 800\xa0MAD" in home
        [enrolment] = db.session.scalars(select(Enrolment)).all()
        assert enrolment.status == EnrolmentStatus.ENROLLED

    def test_siblings_at_once_each_on_its_own(self, client, login_as, cohort, family, add_child):
        user, yasmine, adam = family
        rania = add_child(user, first_name="Rania")
        sara = add_child(user, first_name="Sara")
        login_as(user)
        response = client.post(
            f"/cohorts/{cohort.id}/enrol",
            data={"children": [yasmine.id, adam.id, rania.id, sara.id]},
            follow_redirects=True,
        )
        page = text(response)
        assert "Yasmine is enrolled." in page
        assert "Rania is enrolled." in page
        assert "Sara is number 1 on the waiting list" in page
        assert "Adam will be 12" in page
        assert refreshed(cohort).seats_taken == 2

    def test_the_waiting_place_is_told_as_read_under_the_groups_lock(
        self, client, login_as, make_cohort, make_family, family
    ):
        cohort = make_cohort(capacity=1)
        for _ in range(2):  # one seated, one waiting
            user, child = make_family()
            enrol(child, cohort, actor=get(user))
        db.session.commit()
        user, yasmine, _ = family
        login_as(user)
        page = text(
            client.post(
                f"/cohorts/{cohort.id}/enrol", data={"children": yasmine.id}, follow_redirects=True
            )
        )
        assert "Yasmine is number 2 on the waiting list" in page
        assert refreshed(cohort).waitlist_count == 2

    @pytest.mark.parametrize("capacity", [5, 0], ids=["a seat", "the waiting list"])
    def test_an_only_child_is_enrolled_in_few_statements(
        self, client, login_as, make_cohort, make_family, count_statements, capacity
    ):
        """Opening day: each statement of the enrolment costs every parent in the queue."""
        cohort = make_cohort(capacity=max(capacity, 1))
        if not capacity:  # full, with a child waiting
            for _ in range(2):
                other, child = make_family()
                enrol(child, cohort, actor=get(other))
            db.session.commit()
        user, child = make_family()
        login_as(user)
        client.get(f"/cohorts/{cohort.id}/enrol")
        with count_statements() as counter:
            response = client.post(f"/cohorts/{cohort.id}/enrol", data={"children": child.id})
        assert response.status_code == 302
        status = db.session.scalar(select(Enrolment.status).where(Enrolment.child_id == child.id))
        assert status == (EnrolmentStatus.ENROLLED if capacity else EnrolmentStatus.WAITLISTED)
        # The user, the group with its course, the family's children, the submission, the
        # family's lock, the child's places, the group's lock, one or two counter moves, the
        # enrolment, the audit, the preferences, the e-mail and the submission's answer.
        assert counter.count <= 15, "\n".join(counter.statements)

    def test_all_refused_shows_the_form_again(self, client, login_as, cohort, family):
        user, _, adam = family
        login_as(user)
        response = client.post(f"/cohorts/{cohort.id}/enrol", data={"children": adam.id})
        assert response.status_code == 422
        assert "Adam will be 12" in text(response)
        assert db.session.scalars(select(Enrolment)).all() == []

    def test_a_double_submitted_form_creates_one_enrolment(self, client, login_as, cohort, family):
        user, yasmine, _ = family
        login_as(user)
        first = client.post(f"/cohorts/{cohort.id}/enrol", data={"children": yasmine.id})
        second = client.post(f"/cohorts/{cohort.id}/enrol", data={"children": yasmine.id})
        assert first.status_code == 302
        # The copy goes where the first answer went, with a word saying so.
        assert (second.status_code, second.headers["Location"]) == (303, first.headers["Location"])
        assert "This was already received" in text(client.get(second.headers["Location"]))
        assert len(db.session.scalars(select(Enrolment)).all()) == 1
        # The same child sent again from a new page is a new submission, refused by the rule.
        third = client.post(
            f"/cohorts/{cohort.id}/enrol", data={"children": yasmine.id, "csrf_token": "page-2"}
        )
        assert third.status_code == 422
        assert "Yasmine is already enrolled in this group." in text(third)

    @pytest.mark.parametrize("data", [{}, {"children": "abc"}, {"children": "999999"}])
    def test_bad_input(self, client, login_as, cohort, family, data):
        login_as(family[0])
        response = client.post(f"/cohorts/{cohort.id}/enrol", data=data)
        assert response.status_code == 422
        assert db.session.scalars(select(Enrolment)).all() == []

    def test_no_children_yet(self, client, login_as, cohort, make_user):
        from lms.accounts.models import Role

        login_as(make_user(Role.PARENT, locale="en"))
        assert "Describe your children first" in text(client.get(f"/cohorts/{cohort.id}/enrol"))

    def test_a_draft_group_is_not_found(self, client, login_as, make_cohort, family):
        from lms.courses.models import CohortStatus

        draft = make_cohort(status=CohortStatus.DRAFT)
        login_as(family[0])
        assert client.get(f"/cohorts/{draft.id}/enrol").status_code == 404
        assert client.get("/cohorts/999999/enrol").status_code == 404


@pytest.fixture
def offered(make_cohort, make_family):
    """A group of 1: Yasmine withdrew, the seat is offered to Adam (another family)."""
    cohort = make_cohort(capacity=1)
    first_parent, yasmine = make_family(first_name="Yasmine")
    taken = enrol(yasmine, cohort, actor=get(first_parent))
    parent, adam = make_family(first_name="Adam")
    waiting = enrol(adam, cohort, actor=get(parent))
    withdraw(taken, actor=get(first_parent))
    db.session.commit()
    return cohort, parent, waiting


class TestFamilyActions:
    def test_the_dashboard_shows_the_offer_with_its_deadline(self, client, login_as, offered):
        _, parent, _ = offered
        login_as(parent)
        page = text(client.get("/parent"))
        assert "A seat is free for Adam in Robotique LEGO!" in page
        assert "Answer before Wednesday, 9 September 2026 at 09:00" in page
        assert "Accept the seat" in page

    def test_accept_from_the_dashboard(self, client, login_as, offered):
        _, parent, waiting = offered
        login_as(parent)
        response = client.post(f"/enrolments/{waiting.id}/accept", follow_redirects=True)
        assert "Adam has the seat: welcome to the group!" in text(response)
        assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.ENROLLED

    def test_decline_from_the_dashboard(self, client, login_as, offered):
        _, parent, waiting = offered
        login_as(parent)
        response = client.post(f"/enrolments/{waiting.id}/decline", follow_redirects=True)
        assert "You declined the seat" in text(response)
        assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.WITHDRAWN

    def test_withdraw_and_come_back_to_the_childs_page(self, client, login_as, cohort, family):
        user, yasmine, _ = family
        enrolment = enrol(yasmine, cohort, actor=get(user))
        db.session.commit()
        login_as(user)
        child_page = text(client.get(f"/children/{yasmine.id}"))
        assert "Enrolments" in child_page
        assert f"/enrolments/{enrolment.id}/withdraw" in child_page
        response = client.post(
            f"/enrolments/{enrolment.id}/withdraw", data={"next": f"/children/{yasmine.id}"}
        )
        assert response.headers["Location"] == f"/children/{yasmine.id}"
        assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.WITHDRAWN
        again = client.post(f"/enrolments/{enrolment.id}/withdraw", follow_redirects=True)
        assert "Yasmine is no longer in this group." in text(again)

    def test_a_group_that_is_over_offers_no_withdrawal(
        self, client, login_as, cohort, family, frozen_now
    ):
        user, yasmine, _ = family
        enrolment = enrol(yasmine, cohort, actor=get(user))
        db.session.commit()
        login_as(user)
        for page in ("/parent", f"/children/{yasmine.id}"):
            assert f"/enrolments/{enrolment.id}/withdraw" in text(client.get(page))
        frozen_now.move_to(NOW.replace(year=2027, month=1, day=4))  # the group ended in November
        login_as(user)  # the earlier session has expired
        for page in ("/parent", f"/children/{yasmine.id}"):
            shown = text(client.get(page))
            assert f"/enrolments/{enrolment.id}/withdraw" not in shown
            assert "Group over" in shown
        refused = client.post(f"/enrolments/{enrolment.id}/withdraw", follow_redirects=True)
        assert "This group is over." in text(refused)
        assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.ENROLLED

    def test_a_foreign_next_is_ignored(self, client, login_as, cohort, family):
        user, yasmine, _ = family
        enrolment = enrol(yasmine, cohort, actor=get(user))
        db.session.commit()
        login_as(user)
        response = client.post(
            f"/enrolments/{enrolment.id}/withdraw", data={"next": "https://evil.example/"}
        )
        assert response.headers["Location"] == "/parent#enrolments"

    def test_accepting_too_late(self, client, login_as, offered, frozen_now):
        _, parent, waiting = offered
        frozen_now.move_to(waiting.offer_expires_at + timedelta(minutes=1))
        login_as(parent)
        response = client.post(f"/enrolments/{waiting.id}/accept", follow_redirects=True)
        assert "The deadline to accept this seat has passed" in text(response)


class TestOfferLink:
    def test_the_link_in_the_email_asks_to_log_in_then_to_confirm(
        self, app, client, login_as, offered
    ):
        _, parent, waiting = offered
        body = mails("seat_offered", to=parent.email)[0].body
        accept = next(link for link in links_in(body) if "/offers/" in link)
        path = accept.removeprefix("http://127.0.0.1:5000")
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=%2Foffers%2F")
        login_as(parent)
        page = client.get(path)
        assert page.status_code == 200
        assert "Confirm that Adam takes this seat." in text(page)
        assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.OFFERED
        confirmed = client.post(path)
        assert confirmed.status_code == 302
        assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.ENROLLED
        # Single use: the same link now says so on the page again, and changes nothing.
        again = client.post(path)
        assert again.status_code == 422
        assert "Adam already has this seat" in text(again)
        assert "Accept the seat" not in text(again)
        assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.ENROLLED

    def test_the_decline_link(self, client, login_as, offered):
        _, parent, waiting = offered
        token = offer_token(waiting, "decline")
        login_as(parent)
        assert "Decline the seat" in text(client.get(f"/offers/{token}"))
        client.post(f"/offers/{token}")
        assert db.session.get(Enrolment, waiting.id).end_reason == "offer_declined"

    def test_a_forged_link(self, client, login_as, offered):
        login_as(offered[1])
        response = client.get("/offers/not-a-token")
        assert response.status_code == 404
        assert "This link is not valid" in text(response)

    def test_another_parent_cannot_use_the_link(self, client, login_as, offered, make_family):
        _, _, waiting = offered
        stranger, _ = make_family()
        token = offer_token(waiting, "accept")
        login_as(stranger)
        assert client.get(f"/offers/{token}").status_code == 404
        assert client.post(f"/offers/{token}").status_code == 404
        assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.OFFERED

    def test_an_expired_offer_is_explained(self, client, login_as, offered, frozen_now):
        _, parent, waiting = offered
        token = offer_token(waiting, "accept")
        frozen_now.move_to(waiting.offer_expires_at + timedelta(minutes=1))
        login_as(parent)
        page = text(client.get(f"/offers/{token}"))
        assert "The deadline to accept this seat has passed" in page
        assert "Accept the seat" not in page
        # Reading the page wrote nothing: the offer reads as lapsed, and the periodic job
        # moves it on.
        assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.OFFERED
        refused = client.post(f"/offers/{token}")
        assert refused.status_code == 422
        assert "The deadline to accept this seat has passed" in text(refused)
        assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.OFFERED
        assert [e.id for e in expire_offers()] == [waiting.id]
        db.session.commit()
        assert db.session.get(Enrolment, waiting.id).end_reason == "offer_expired"


class TestReceipt:
    @pytest.fixture
    def payment(self, cohort, family, world):
        user, yasmine, _ = family
        enrolment = enrol(yasmine, cohort, actor=get(user))
        payment = record_payment(
            enrolment, actor=world.coordinator, amount_centimes=30000, method="cash",
            paid_on=NOW.date(),
        )  # fmt: skip
        db.session.commit()
        return payment

    def test_the_parent_downloads_it(self, client, login_as, payment, family):
        login_as(family[0])
        page = text(client.get("/parent"))
        assert f"Receipt {payment.receipt_number} (PDF)" in page
        response = client.get(f"/payments/{payment.id}/receipt.pdf")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        assert payment.receipt_number in response.headers["Content-Disposition"]

    def test_coordinators_too_other_parents_not(
        self, client, login_as, payment, coordinator, make_family
    ):
        stranger, _ = make_family()
        login_as(stranger)
        assert client.get(f"/payments/{payment.id}/receipt.pdf").status_code == 404
        client.post("/logout")
        login_as(coordinator)
        assert client.get(f"/payments/{payment.id}/receipt.pdf").status_code == 200


class TestCoordinatorPages:
    @pytest.fixture
    def roster(self, make_cohort, make_family):
        cohort = make_cohort(capacity=1)
        people = [make_family(first_name=name) for name in ("Yasmine", "Adam", "Rania")]
        enrolments = [enrol(c, cohort, actor=get(p)) for p, c in people]
        withdraw(enrolments[0], actor=get(people[0][0]))
        db.session.commit()
        return cohort, people, enrolments

    def test_the_roster_waiting_list_offers_and_payments(
        self, client, login_as, coordinator, roster
    ):
        cohort, _, _ = roster
        login_as(coordinator)
        detail = text(client.get(f"/coordinator/cohorts/{cohort.id}"))
        assert "Offers pending: 1" in detail
        # What needs the coordinator is coloured; an empty count is not.
        assert '<span class="badge action">Offers pending: 1</span>' in detail
        assert '<span class="badge warn">Waiting: 1</span>' in detail
        assert f"/coordinator/cohorts/{cohort.id}/enrolments" in detail
        page = text(client.get(f"/coordinator/cohorts/{cohort.id}/enrolments"))
        assert "Seats offered (1)" in page
        assert "Waiting list (1)" in page
        assert "Rania Tazi" in page
        assert "Withdrawn by the family" in page

    def test_empty_counts_read_quietly(self, client, login_as, coordinator, make_cohort):
        cohort = make_cohort()
        db.session.commit()
        login_as(coordinator)
        detail = text(client.get(f"/coordinator/cohorts/{cohort.id}"))
        assert '<span class="badge">Offers pending: 0</span>' in detail
        assert '<span class="badge">Waiting: 0</span>' in detail

    def test_enrol_by_hand_with_an_override(
        self, client, login_as, coordinator, cohort, make_family
    ):
        _, child = make_family(first_name="Ilyas", age=7)
        login_as(coordinator)
        url = f"/coordinator/cohorts/{cohort.id}/enrolments/new"
        assert client.get(url).status_code == 200
        refused = client.post(url, data={"child_id": child.id})
        assert refused.status_code == 422
        assert "Ilyas will be 7" in text(refused)
        no_reason = client.post(url, data={"child_id": child.id, "override_age": "y"})
        assert "Say why the rules are set aside." in text(no_reason)
        done = client.post(
            url, data={"child_id": child.id, "override_age": "y", "reason": "Sibling in group"}
        )
        assert done.status_code == 302
        assert db.session.scalar(select(Enrolment.override_reason)) == "Sibling in group"

    def test_cancel(self, client, login_as, coordinator, roster):
        _, _, enrolments = roster
        login_as(coordinator)
        url = f"/coordinator/enrolments/{enrolments[1].id}/cancel"
        assert "Cancel an enrolment" in text(client.get(url))
        assert client.post(url, data={"reason": ""}).status_code == 422
        assert client.post(url, data={"reason": "Family moved"}).status_code == 302
        assert db.session.get(Enrolment, enrolments[1].id).status == EnrolmentStatus.CANCELLED
        again = client.post(url, data={"reason": "Again"})
        assert again.status_code == 422
        assert "This enrolment has already ended." in text(again)

    def test_move(self, client, login_as, coordinator, cohort, family, make_cohort, world):
        user, yasmine, _ = family
        enrolment = enrol(yasmine, cohort, actor=get(user))
        target = make_cohort(room=world.other_room, lead=world.other_lead)
        db.session.commit()
        login_as(coordinator)
        url = f"/coordinator/enrolments/{enrolment.id}/move"
        assert "seats free" in text(client.get(url))
        assert client.post(url, data={"cohort_id": "abc"}).status_code == 422
        response = client.post(url, data={"cohort_id": target.id})
        assert response.status_code == 302
        assert response.headers["Location"] == f"/coordinator/cohorts/{target.id}/enrolments"

    def test_fee_waiver_and_payment(self, client, login_as, coordinator, cohort, family):
        user, yasmine, _ = family
        enrolment = enrol(yasmine, cohort, actor=get(user))
        db.session.commit()
        login_as(coordinator)
        waiver = f"/coordinator/enrolments/{enrolment.id}/fee-waiver"
        assert client.get(waiver).status_code == 200
        assert client.post(waiver, data={"amount": "abc"}).status_code == 422
        assert client.post(waiver, data={"amount": "900", "reason": "x"}).status_code == 422
        assert client.post(waiver, data={"amount": "200", "reason": "Bourse"}).status_code == 302
        pay = f"/coordinator/enrolments/{enrolment.id}/payments/new"
        form = text(client.get(pay))
        assert 'value="600.00"' in form  # the balance, ready to record
        bad = client.post(pay, data={"amount": "700", "method": "cash", "paid_on": "2026-09-07"})
        assert bad.status_code == 422
        assert "This is more than what is still owed (600\xa0MAD)" in text(bad)
        assert (
            client.post(
                pay, data={"amount": "100", "method": "wampum", "paid_on": "2026-09-07"}
            ).status_code
            == 422
        )
        assert (
            client.post(
                pay, data={"amount": "100", "method": "cash", "paid_on": "not a date"}
            ).status_code
            == 422
        )
        done = client.post(
            pay,
            data={"amount": "600", "method": "card", "paid_on": "2026-09-07", "reference": "TPE"},
        )
        assert done.status_code == 302
        payment = db.session.scalar(select(Payment))
        assert (payment.amount_centimes, payment.reference) == (60000, "TPE")
        log = mail_log(client.application)
        assert payment.receipt_number in log

    def test_prerequisite_waivers(self, client, login_as, coordinator, family, make_course):
        basics = make_course("Python pour débutants")
        make_course("Arduino", prerequisite_ids=[basics.id])
        _, yasmine, _ = family
        login_as(coordinator)
        page = text(client.get("/coordinator/prerequisite-waivers"))
        assert "Python pour débutants" in page
        assert (
            client.post(
                "/coordinator/prerequisite-waivers",
                data={"child_id": yasmine.id, "course_id": basics.id, "reason": ""},
            ).status_code
            == 422
        )
        assert (
            client.post(
                "/coordinator/prerequisite-waivers",
                data={"child_id": yasmine.id, "course_id": basics.id, "reason": "Knows Python"},
            ).status_code
            == 302
        )
        waiver = db.session.scalar(select(PrerequisiteWaiver))
        assert "Knows Python" in text(client.get("/coordinator/prerequisite-waivers"))
        assert client.post(f"/coordinator/prerequisite-waivers/{waiver.id}/revoke").status_code == (
            302
        )
        assert db.session.scalar(select(PrerequisiteWaiver)) is None

    @pytest.mark.parametrize(
        "path",
        [
            "/coordinator/cohorts/999999/enrolments",
            "/coordinator/cohorts/999999/enrolments/new",
            "/coordinator/enrolments/999999/cancel",
            "/coordinator/enrolments/999999/move",
            "/coordinator/enrolments/999999/fee-waiver",
            "/coordinator/enrolments/999999/payments/new",
        ],
    )
    def test_unknown_ids(self, client, login_as, coordinator, path):
        login_as(coordinator)
        assert client.get(path).status_code == 404


class TestLanguages:
    def test_the_dashboard_in_french_and_arabic(self, client, login_as, offered, make_user):
        _, parent, _ = offered
        login_as(parent)
        client.post("/language", data={"language": "fr"})
        french = text(client.get("/parent"))
        assert "Accepter la place" in french
        client.post("/language", data={"language": "ar"})
        arabic = text(client.get("/parent"))
        assert 'dir="rtl"' in arabic
        assert "قبول المقعد" in arabic

    def test_arabic_readers_see_the_arabic_first_name(self, client, login_as, cohort, make_family):
        user, child = make_family(first_name="Yasmine", first_name_ar="ياسمين", locale="ar")
        enrol(child, cohort, actor=get(user))
        db.session.commit()
        login_as(user)
        arabic = text(client.get("/parent"))
        assert "<h3>ياسمين</h3>" in arabic
        client.post("/language", data={"language": "fr"})
        assert "<h3>Yasmine</h3>" in text(client.get("/parent"))


def test_the_family_export_page_lists_enrolments_and_payments(
    client, login_as, cohort, family, world
):
    user, yasmine, _ = family
    enrolment = enrol(yasmine, cohort, actor=get(user))
    record_payment(
        enrolment, actor=world.coordinator, amount_centimes=5000, method="cash", paid_on=NOW.date()
    )
    db.session.commit()
    login_as(user)
    page = text(client.get("/family/export"))
    assert 'id="section-enrolments"' in page
    assert 'id="section-payments"' in page
    assert "Robotique LEGO" in page
    assert "7 October 2026" in page
    assert "50.00" in page


class TestRefusals:
    """A service's refusal through the one path of lms/web.py: on the form that was sent, or
    flashed back where the user came from; nothing stored either way."""

    def test_a_refused_form_keeps_what_was_typed_and_says_why_on_the_field(
        self, client, login_as, coordinator, cohort, family
    ):
        user, yasmine, _ = family
        enrolment = enrol(yasmine, cohort, actor=get(user))
        db.session.commit()
        audited = db.session.scalar(select(func.count()).select_from(AuditEntry))
        login_as(coordinator)
        response = client.post(
            f"/coordinator/enrolments/{enrolment.id}/fee-waiver",
            data={"amount": "900", "reason": "Bourse de la fondation"},
        )
        assert response.status_code == 422
        page = text(response)
        error = re.search(r'<p class="error" id="amount-error">(.*?)</p>', page, re.S)
        assert error is not None
        assert "The waiver cannot be more than the fee after the discount" in error.group(1)
        assert 'value="900.00"' in page or 'value="900"' in page
        assert "Bourse de la fondation" in page
        db.session.expire_all()
        assert db.session.get(Enrolment, enrolment.id).waiver_centimes == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audited

    def test_a_refused_button_is_flashed_back_to_next(self, client, login_as, cohort, family):
        user, yasmine, _ = family
        enrolment = enrol(yasmine, cohort, actor=get(user))
        withdraw(enrolment, actor=get(user))
        db.session.commit()
        audited = db.session.scalar(select(func.count()).select_from(AuditEntry))
        login_as(user)
        back = f"/children/{yasmine.id}"
        response = client.post(f"/enrolments/{enrolment.id}/withdraw", data={"next": back})
        assert response.status_code == 303
        assert response.headers["Location"] == back
        assert "Yasmine is no longer in this group." in text(client.get(back))
        # Without a next, back to the page the button was on.
        response = client.post(
            f"/enrolments/{enrolment.id}/withdraw", headers={"Referer": "http://localhost/parent"}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/parent"
        db.session.expire_all()
        assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.WITHDRAWN
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audited


def test_pages_show_a_lapsed_offer_without_writing(
    client, login_as, coordinator, offered, frozen_now
):
    cohort, parent, waiting = offered
    frozen_now.move_to(waiting.offer_expires_at + timedelta(minutes=1))
    login_as(parent)
    home = text(client.get("/parent"))  # a GET that wrote would raise here (lms/web.py)
    assert "Offer expired" in home
    assert "A seat is free for Adam" not in home
    assert f"/enrolments/{waiting.id}/accept" not in home
    assert "Offer expired" in text(client.get(f"/children/{waiting.child_id}"))
    client.get("/catalogue")
    client.get(f"/catalogue/courses/{cohort.course_id}")
    refused = client.post(f"/enrolments/{waiting.id}/accept", follow_redirects=True)
    assert "The deadline to accept this seat has passed" in text(refused)
    client.post("/logout")
    login_as(coordinator)
    roster = text(client.get(f"/coordinator/cohorts/{cohort.id}/enrolments"))
    assert "Seats offered (1)" in roster
    assert "Offer expired" in roster
    client.get(f"/coordinator/cohorts/{cohort.id}")
    db.session.expire_all()
    assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.OFFERED
    # The periodic job moves it on.
    assert [e.id for e in expire_offers()] == [waiting.id]
    db.session.commit()
    assert db.session.get(Enrolment, waiting.id).end_reason == "offer_expired"
    assert refreshed(cohort).seats_taken == 0
