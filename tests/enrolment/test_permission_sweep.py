"""Who may do what with a child's enrolment: another parent, an instructor, a visitor."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from lms.enrolment.fees import record_payment
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.offers import offer_token
from lms.extensions import db
from lms.roles import Role
from tests import builders
from tests.conftest import get
from tests.enrolment.conftest import NOW, born


@pytest.fixture
def mine(make_cohort, make_family, world):
    """Karim's Yasmine is enrolled (and has paid something); his Adam has a seat offered."""
    cohort = make_cohort(capacity=1)
    other_group = make_cohort(capacity=1, room=world.other_room, lead=world.other_lead)
    parent, yasmine = make_family(first_name="Yasmine")
    adam = builders.child(get(parent), "Adam", "Tazi", date_of_birth=born(10))
    enrolled = enrol(yasmine, cohort, actor=get(parent))
    payment = record_payment(
        enrolled, actor=world.coordinator, amount_centimes=100, method="cash", paid_on=NOW.date()
    )
    someone, their_child = make_family()
    taken = enrol(their_child, other_group, actor=get(someone))
    offered = enrol(adam, other_group, actor=get(parent))
    withdraw(taken, actor=get(someone))
    db.session.commit()
    assert offered.status == EnrolmentStatus.OFFERED
    return SimpleNamespace(
        parent=parent,
        cohort=cohort,
        yasmine=yasmine,
        enrolled=enrolled,
        offered=offered,
        payment=payment,
        token=offer_token(offered, "accept"),
    )


def family_requests(m):
    """(method, path, data) a family may send about its own children."""
    return [
        ("POST", f"/cohorts/{m.cohort.id}/enrol", {"children": m.yasmine.id}),
        ("POST", f"/enrolments/{m.enrolled.id}/withdraw", {}),
        ("POST", f"/enrolments/{m.offered.id}/accept", {}),
        ("POST", f"/enrolments/{m.offered.id}/decline", {}),
        ("GET", f"/offers/{m.token}", {}),
        ("POST", f"/offers/{m.token}", {}),
        ("GET", f"/payments/{m.payment.id}/receipt.pdf", {}),
    ]


def coordinator_requests(m):
    return [
        ("GET", f"/coordinator/cohorts/{m.cohort.id}/enrolments", {}),
        ("POST", f"/coordinator/cohorts/{m.cohort.id}/enrolments/new", {"child_id": m.yasmine.id}),
        ("POST", f"/coordinator/enrolments/{m.enrolled.id}/cancel", {"reason": "x"}),
        ("POST", f"/coordinator/enrolments/{m.enrolled.id}/move", {"cohort_id": m.cohort.id}),
        ("POST", f"/coordinator/enrolments/{m.enrolled.id}/fee-waiver", {"amount": "1"}),
        ("POST", f"/coordinator/enrolments/{m.enrolled.id}/payments/new", {"amount": "1"}),
        ("GET", "/coordinator/prerequisite-waivers", {}),
    ]


def snapshot():
    return db.session.execute(
        select(Enrolment.id, Enrolment.status).order_by(Enrolment.id)
    ).all(), db.session.scalar(select(func.count()).select_from(Enrolment))


def test_another_parent_cannot_enrol_withdraw_or_answer_for_my_child(
    client, login_as, mine, make_family
):
    stranger, _ = make_family()
    before = snapshot()
    login_as(stranger)
    for method, path, data in family_requests(mine):
        response = client.open(path, method=method, data=data)
        if path.endswith("/enrol"):
            # Not one of their children: the form refuses it; nothing is enrolled.
            assert response.status_code == 422, path
        else:
            assert response.status_code == 404, (method, path, response.status_code)
    db.session.expire_all()
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.COORDINATOR])
def test_staff_cannot_act_as_the_family(client, login_as, mine, make_user, role):
    before = snapshot()
    login_as(make_user(role))
    for method, path, data in family_requests(mine):
        response = client.open(path, method=method, data=data)
        if path.endswith("receipt.pdf"):
            # Receipts: coordinators may read them; for an instructor they do not exist.
            assert response.status_code == (200 if role == Role.COORDINATOR else 404)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
    db.session.expire_all()
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.PARENT, Role.INSTRUCTOR])
def test_only_coordinators_run_rosters_fees_and_waivers(client, login_as, mine, make_user, role):
    before = snapshot()
    login_as(make_user(role))
    for method, path, data in coordinator_requests(mine):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (role, method, path, response.status_code)
    db.session.expire_all()
    assert snapshot() == before


def test_visitors_are_sent_to_log_in(client, mine):
    for method, path, data in family_requests(mine) + coordinator_requests(mine):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_the_family_itself_may(client, login_as, mine):
    login_as(mine.parent)
    assert client.get(f"/payments/{mine.payment.id}/receipt.pdf").status_code == 200
    assert client.get(f"/offers/{mine.token}").status_code == 200
    assert client.post(f"/enrolments/{mine.offered.id}/accept").status_code == 302
    assert db.session.get(Enrolment, mine.offered.id).status == EnrolmentStatus.ENROLLED
