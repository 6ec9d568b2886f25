"""Credit notes: money given back on a payment, numbered in their own gapless sequence, never
an edit of the payment; at most what the payment still holds; coordinators only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.enrolment import receipts
from lms.enrolment.credit_notes import issue_credit_note, refund_due, suggested_refund
from lms.enrolment.fees import record_payment
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import CreditNote, Payment
from lms.errors import DomainError
from lms.extensions import db
from lms.roles import Role
from tests.enrolment.conftest import NOW, mails

TODAY = NOW.date()


def refusal(callable_, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as raised:
        callable_(*args, **kwargs)
    return str(raised.value.message)


@pytest.fixture
def paid(owing, world):
    """The family paid the 800 MAD in full, then withdrew before the first lesson."""
    payment = record_payment(
        owing.enrolment, actor=world.coordinator, amount_centimes=80000, method="cash",
        paid_on=TODAY,
    )  # fmt: skip
    withdraw(owing.enrolment, actor=owing.parent)
    db.session.commit()
    return payment


def test_a_withdrawal_before_the_start_makes_a_refund_due_a_credit_note_settles_it(paid, world):
    enrolment = paid.enrolment
    assert enrolment.balance_centimes == -80000
    assert refund_due(enrolment) == suggested_refund(paid) == 80000
    receipt = paid.receipt_number

    note = issue_credit_note(
        paid, actor=world.coordinator, amount_centimes=80000, reason="Retrait avant le début."
    )

    assert note.number == "AL-AV-2026-000001"
    assert note.issued_on == TODAY
    assert enrolment.balance_centimes == 0
    # The payment is untouched: a credit note is written beside it.
    db.session.expire_all()
    stored = db.session.get(Payment, paid.id)
    assert (stored.amount_centimes, stored.receipt_number) == (80000, receipt)
    assert stored.kept_centimes == 0
    [mail] = mails("credit_note_issued")
    assert note.number in mail.body
    assert receipt in mail.body


def test_numbered_apart_from_receipts_one_after_the_other(paid, world):
    first = issue_credit_note(paid, actor=world.coordinator, amount_centimes=100, reason="a")
    second = issue_credit_note(paid, actor=world.coordinator, amount_centimes=100, reason="b")
    assert [first.number, second.number] == ["AL-AV-2026-000001", "AL-AV-2026-000002"]
    assert paid.receipt_number == "AL-2026-000001"


def test_never_more_than_the_payment_holds(paid, world):
    issue_credit_note(paid, actor=world.coordinator, amount_centimes=50000, reason="Partiel.")
    assert (
        refusal(issue_credit_note, paid, actor=world.coordinator, amount_centimes=30001, reason="x")
        == "This is more than what is left of the payment to give back (300\xa0MAD)."
    )
    issue_credit_note(paid, actor=world.coordinator, amount_centimes=30000, reason="Le reste.")
    assert (
        refusal(issue_credit_note, paid, actor=world.coordinator, amount_centimes=1, reason="x")
        == "This payment was already given back in full."
    )
    assert db.session.scalar(select(func.sum(CreditNote.amount_centimes))) == 80000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount_centimes": 0}, "The amount must be more than zero."),
        ({"amount_centimes": -500}, "The amount must be more than zero."),
        ({"reason": "  "}, "Say why the money is given back."),
    ],
)
def test_refusals(paid, world, changes, message):
    values = {"amount_centimes": 1000, "reason": "Retrait.", **changes}
    assert refusal(issue_credit_note, paid, actor=world.coordinator, **values) == message
    assert db.session.scalars(select(CreditNote)).all() == []


def test_only_coordinators(paid, owing):
    assert (
        refusal(issue_credit_note, paid, actor=owing.parent, amount_centimes=100, reason="x")
        == "Only coordinators can do this."
    )


def test_the_pdf_names_the_payment_it_credits_and_the_lab(paid, world, app):
    note = issue_credit_note(paid, actor=world.coordinator, amount_centimes=80000, reason="R.")
    data = receipts.credit_note_data(note)
    assert data["credit_note_number"] == note.number
    assert data["receipt_number"] == paid.receipt_number
    assert data["payment_amount_centimes"] == 80000
    assert data["lab"]["ice"] == app.config["LAB_ICE"]
    assert data["lab"]["rc"] == app.config["LAB_RC"]
    assert receipts.render_credit_note(data).startswith(b"%PDF")


def test_the_receipt_shows_the_rib_and_the_familys_transfer_reference(owing, world, app):
    payment = record_payment(
        owing.enrolment, actor=world.coordinator, amount_centimes=30000, method="cash",
        paid_on=TODAY,
    )  # fmt: skip
    data = receipts.receipt_data(payment)
    assert data["lab"]["rib"] == app.config["LAB_RIB"]
    [(name, reference)] = data["transfer_references"]
    assert name == owing.parent.full_name
    assert reference.startswith("AL")


class TestPages:
    FORM = "/coordinator/payments/{}/credit-notes/new"

    def test_a_coordinator_issues_one_and_the_family_downloads_it(
        self, client, login_as, paid, coordinator, owing
    ):
        login_as(coordinator)
        page = client.get(self.FORM.format(paid.id))
        assert page.status_code == 200
        assert 'value="800.00"' in page.get_data(as_text=True)  # the refund due, suggested
        response = client.post(
            self.FORM.format(paid.id), data={"amount": "800", "reason": "Retrait."}
        )
        assert response.status_code == 302
        note = db.session.scalar(select(CreditNote))
        roster = client.get(response.headers["Location"]).get_data(as_text=True)
        assert note.number in roster
        client.post("/logout")
        login_as(owing.parent)
        assert note.number in client.get("/parent").get_data(as_text=True)
        pdf = client.get(f"/credit-notes/{note.id}/credit-note.pdf")
        assert pdf.status_code == 200
        assert pdf.data.startswith(b"%PDF")
        assert note.number in pdf.headers["Content-Disposition"]

    @pytest.mark.parametrize(
        ("amount", "message"),
        [
            ("801", "This is more than what is left of the payment to give back"),
            ("-5", "Between 0.01 and 100000"),
            ("beaucoup", "Not a valid decimal value."),
            ("", "Enter an amount in dirhams"),
        ],
    )
    def test_bad_amounts_get_a_clear_message(
        self, client, login_as, paid, coordinator, amount, message
    ):
        login_as(coordinator)
        response = client.post(
            self.FORM.format(paid.id), data={"amount": amount, "reason": "Retrait."}
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
        assert db.session.scalars(select(CreditNote)).all() == []

    @pytest.mark.parametrize("role", [Role.PARENT, Role.INSTRUCTOR])
    def test_parents_and_instructors_refused(self, client, login_as, paid, make_user, role):
        login_as(make_user(role))
        assert client.get(self.FORM.format(paid.id)).status_code == 403
        response = client.post(self.FORM.format(paid.id), data={"amount": "1", "reason": "x"})
        assert response.status_code == 403
        assert db.session.scalars(select(CreditNote)).all() == []

    def test_another_family_cannot_download_it(self, client, login_as, paid, world, make_user):
        note = issue_credit_note(paid, actor=world.coordinator, amount_centimes=100, reason="x")
        db.session.commit()
        login_as(make_user(Role.PARENT))
        assert client.get(f"/credit-notes/{note.id}/credit-note.pdf").status_code == 404
        client.post("/logout")
        assert client.get(f"/credit-notes/{note.id}/credit-note.pdf").status_code in (302, 401)


@pytest.mark.committed
def test_two_coordinators_at_once_never_give_back_more_than_was_paid(
    request, is_postgres, app, coordinator, make_user
):
    """Each on their own connection, 500 MAD each on an 800 MAD payment: one note is issued,
    the other is refused with the reason (the payment's row lock)."""
    if not is_postgres:
        # The shared world fixtures keep the test's own session inside a writing transaction,
        # which on SQLite holds the write lock the requests wait for. There, every writing
        # transaction starts with BEGIN IMMEDIATE (lms/database.py), so two issuers cannot
        # overlap at all; tests/test_one_effect.py runs its credit note concurrently on both.
        pytest.skip("PostgreSQL only: see the comment")
    paid = request.getfixturevalue("paid")
    from tests.conftest import login
    from tests.enrolment.test_concurrency import run_at_once

    other = make_user(Role.COORDINATOR, locale="en")
    browsers = []
    for user in (coordinator, other):
        browser = app.test_client()
        assert login(browser, user).status_code == 302
        browsers.append(browser)
    path = TestPages.FORM.format(paid.id)
    db.session.rollback()  # this thread holds no transaction (SQLite's write lock) meanwhile
    responses, errors = run_at_once(
        [
            lambda b=b, n=n: b.post(path, data={"amount": "500", "reason": f"Retrait {n}."})
            for n, b in enumerate(browsers)
        ]
    )
    assert errors == []
    assert sorted(r.status_code for r in responses) == [302, 422]
    [refused] = [r for r in responses if r.status_code == 422]
    assert "more than what is left of the payment" in refused.get_data(as_text=True)
    db.session.rollback()
    notes = db.session.scalars(select(CreditNote)).all()
    assert [(n.number, n.amount_centimes) for n in notes] == [("AL-AV-2026-000001", 50000)]
