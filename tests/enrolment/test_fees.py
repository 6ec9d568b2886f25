"""Fees: the price copied at enrolment, the sibling discount per family and term, waivers,
payments, balances, PDF receipts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.enrolment import receipts
from lms.enrolment.fees import record_payment, set_fee_waiver
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import cancel_enrolment, withdraw
from lms.enrolment.models import EnrolmentStatus, Payment
from lms.enrolment.offers import accept_offer
from lms.enrolment.queries import family_overview
from lms.errors import DomainError
from lms.extensions import db
from tests.conftest import get
from tests.enrolment.conftest import NOW, mails

TODAY = NOW.date()


def refusal(callable_, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as raised:
        callable_(*args, **kwargs)
    return str(raised.value.message)


@pytest.fixture
def groups(make_cohort, world):
    """Three groups of the same autumn term, at different times (8 seats each)."""
    return [
        make_cohort(capacity=8),
        make_cohort(capacity=8, start_time=time(17, 0)),
        make_cohort(capacity=8, room=world.other_room, lead=world.other_lead),
    ]


class TestSiblingDiscount:
    def test_every_child_but_the_first_gets_it(self, groups, make_family, add_child):
        user, yasmine = make_family(first_name="Yasmine")
        adam = add_child(user, first_name="Adam")
        rania = add_child(user, first_name="Rania")
        first = enrol(yasmine, groups[0], actor=get(user))
        second = enrol(adam, groups[0], actor=get(user))
        third = enrol(rania, groups[2], actor=get(user))
        assert [e.discount_centimes for e in (first, second, third)] == [0, 8000, 8000]
        assert second.amount_due_centimes == 72000

    def test_the_first_child_pays_full_price_for_each_of_its_groups(
        self, groups, make_family, add_child
    ):
        user, yasmine = make_family(first_name="Yasmine")
        adam = add_child(user, first_name="Adam")
        a = enrol(yasmine, groups[0], actor=get(user))
        b = enrol(adam, groups[2], actor=get(user))
        c = enrol(yasmine, groups[1], actor=get(user))
        assert [e.discount_centimes for e in (a, b, c)] == [0, 8000, 0]

    def test_recomputed_when_the_first_child_withdraws(self, groups, make_family, add_child):
        user, yasmine = make_family(first_name="Yasmine")
        adam = add_child(user, first_name="Adam")
        first = enrol(yasmine, groups[0], actor=get(user))
        second = enrol(adam, groups[0], actor=get(user))
        withdraw(first, actor=get(user))
        assert second.discount_centimes == 0

    def test_other_families_and_other_terms_do_not_count(
        self, groups, make_cohort, make_family, add_child
    ):
        user, yasmine = make_family()
        other_user, other_child = make_family()
        enrol(other_child, groups[0], actor=get(other_user))
        assert enrol(yasmine, groups[1], actor=get(user)).discount_centimes == 0
        winter = make_cohort(start_date=date(2027, 1, 13), end_date=date(2027, 3, 3), capacity=8)
        adam = add_child(user, first_name="Adam", date_of_birth=date(2017, 5, 1))
        assert enrol(adam, winter, actor=get(user)).discount_centimes == 0

    def test_a_waiting_child_is_shown_the_discount_and_gets_it_on_accepting(
        self, make_cohort, make_family, add_child, groups
    ):
        tiny = make_cohort(capacity=1, room=groups[2].room, start_time=time(10, 0))
        stranger, other = make_family()
        taken = enrol(other, tiny, actor=get(stranger))
        user, yasmine = make_family(first_name="Yasmine")
        adam = add_child(user, first_name="Adam")
        enrol(yasmine, groups[0], actor=get(user))
        waiting = enrol(adam, tiny, actor=get(user))
        assert (waiting.status, waiting.discount_centimes) == (EnrolmentStatus.WAITLISTED, 8000)
        assert waiting.amount_due_centimes == 0  # nothing owed while waiting
        withdraw(taken, actor=get(stranger))
        accept_offer(waiting, actor=get(user))
        assert waiting.discount_centimes == 8000
        assert waiting.amount_due_centimes == 72000

    def test_a_cancelled_group_does_not_make_a_family_pay_more(
        self, groups, make_family, add_child, world
    ):
        from lms.courses.cohorts import set_cohort_status
        from lms.courses.models import CohortStatus

        user, yasmine = make_family(first_name="Yasmine")
        adam = add_child(user, first_name="Adam")
        enrol(yasmine, groups[0], actor=get(user))
        second = enrol(adam, groups[2], actor=get(user))
        set_cohort_status(groups[0], CohortStatus.CANCELLED, actor=world.coordinator)
        assert second.discount_centimes == 8000

    def test_configurable(self, groups, make_family, add_child, app):
        app.config["SIBLING_DISCOUNT_PERCENT"] = 25
        user, yasmine = make_family()
        adam = add_child(user, first_name="Adam")
        enrol(yasmine, groups[0], actor=get(user))
        assert enrol(adam, groups[0], actor=get(user)).discount_centimes == 20000


class TestFeeWaiver:
    @pytest.fixture
    def enrolment(self, cohort, make_family):
        user, child = make_family()
        return enrol(child, cohort, actor=get(user))

    def test_a_scholarship(self, enrolment, world):
        set_fee_waiver(
            enrolment, actor=world.coordinator, amount_centimes=50000, reason="Bourse AMDL"
        )
        assert enrolment.amount_due_centimes == 30000
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "enrolment.fee_waiver")
        )
        assert entry.reason == "Bourse AMDL"
        assert entry.details == {"before_centimes": 0, "after_centimes": 50000}

    def test_refusals(self, enrolment, world, make_family):
        boss = world.coordinator
        assert (
            refusal(set_fee_waiver, enrolment, actor=boss, amount_centimes=90000, reason="x")
            == "The waiver cannot be more than the fee after the discount (800\xa0MAD)."
        )
        assert (
            refusal(set_fee_waiver, enrolment, actor=boss, amount_centimes=-1, reason="x")
            == "The amount cannot be negative."
        )
        assert (
            refusal(set_fee_waiver, enrolment, actor=boss, amount_centimes=100, reason="")
            == "Say why the fee is waived."
        )
        parent, _ = make_family()
        assert (
            refusal(set_fee_waiver, enrolment, actor=get(parent), amount_centimes=1, reason="x")
            == "Only coordinators can do this."
        )

    def test_zero_removes_it(self, enrolment, world):
        set_fee_waiver(enrolment, actor=world.coordinator, amount_centimes=100, reason="x")
        set_fee_waiver(enrolment, actor=world.coordinator, amount_centimes=0, reason="")
        assert (enrolment.waiver_centimes, enrolment.waiver_reason) == (0, None)


class TestPayments:
    @pytest.fixture
    def enrolment(self, cohort, make_family):
        user, child = make_family(first_name="Yasmine", locale="fr")
        return enrol(child, cohort, actor=get(user))

    def test_recorded_with_a_numbered_receipt_and_the_family_told(self, enrolment, world):
        payment = record_payment(
            enrolment,
            actor=world.coordinator,
            amount_centimes=30000,
            method="bank_transfer",
            reference=" VIR-2026-118 ",
            paid_on=TODAY,
        )
        assert payment.receipt_number == "AL-2026-000001"  # the year's first receipt
        assert payment.reference == "VIR-2026-118"
        assert enrolment.balance_centimes == 50000
        [mail] = mails("payment_recorded")
        assert mail.language == "fr"
        assert payment.receipt_number in mail.body
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "payment.recorded"))
        assert entry.details == {
            "enrolment_id": enrolment.id,
            "amount_centimes": 30000,
            "method": "bank_transfer",
        }

    def test_paid_in_full(self, enrolment, world):
        record_payment(
            enrolment, actor=world.coordinator, amount_centimes=80000, method="cash", paid_on=TODAY
        )
        assert enrolment.balance_centimes == 0
        assert refusal(
            record_payment, enrolment, actor=world.coordinator, amount_centimes=1,
            method="cash", paid_on=TODAY,
        ) == "Nothing is owed for this enrolment."  # fmt: skip

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"amount_centimes": 0}, "The amount must be more than zero."),
            ({"amount_centimes": 80001}, "This is more than what is still owed (800\xa0MAD)."),
            ({"method": "cheque"}, "Choose how the family paid."),
            ({"paid_on": TODAY + timedelta(days=1)}, "The payment date cannot be in the future."),
            ({"paid_on": TODAY - timedelta(days=400)}, "The payment date is more than a year ago."),
        ],
    )
    def test_refusals(self, enrolment, world, changes, message):
        values = {"amount_centimes": 1000, "method": "cash", "paid_on": TODAY, **changes}
        assert refusal(record_payment, enrolment, actor=world.coordinator, **values) == (message)
        assert db.session.scalars(select(Payment)).all() == []

    def test_nothing_owed_while_waiting(self, make_cohort, make_family, world):
        cohort = make_cohort(capacity=1)
        first = make_family()
        enrol(first[1], cohort, actor=get(first[0]))
        user, child = make_family()
        waiting = enrol(child, cohort, actor=get(user))
        assert refusal(
            record_payment, waiting, actor=world.coordinator, amount_centimes=100,
            method="cash", paid_on=TODAY,
        ) == "Nothing is owed for this enrolment."  # fmt: skip

    def test_only_coordinators(self, enrolment):
        parent = enrolment.child.guardians[0]
        assert refusal(
            record_payment, enrolment, actor=parent, amount_centimes=100,
            method="cash", paid_on=TODAY,
        ) == "Only coordinators can do this."  # fmt: skip

    def test_the_family_balance(self, groups, make_family, add_child, world):
        user, yasmine = make_family()
        adam = add_child(user, first_name="Adam")
        first = enrol(yasmine, groups[0], actor=get(user))
        enrol(adam, groups[1], actor=get(user))
        record_payment(
            first, actor=world.coordinator, amount_centimes=80000, method="card", paid_on=TODAY
        )
        overview = family_overview(get(user), [yasmine, adam])
        assert overview.due_centimes == 80000 + 72000
        assert overview.paid_centimes == 80000
        assert overview.balance_centimes == 72000
        assert [p.amount_centimes for p in overview.payments] == [80000]


class TestReceipts:
    @pytest.fixture
    def payment(self, cohort, make_family, world):
        user, child = make_family(first_name="Yasmine", first_name_ar="ياسمين", locale="ar")
        enrolment = enrol(child, cohort, actor=get(user))
        return record_payment(
            enrolment, actor=world.coordinator, amount_centimes=30000, method="cash", paid_on=TODAY
        )

    @pytest.mark.parametrize("language", ["fr", "ar", "en"])
    def test_a_pdf_in_each_language(self, payment, language):
        data = receipts.receipt_data(payment, language=language)
        assert data["receipt_number"] == payment.receipt_number
        assert data["balance_centimes"] == 50000
        pdf = receipts.render_receipt(data)
        assert pdf.startswith(b"%PDF")
        assert len(pdf) > 1000

    def test_the_parents_language_by_default(self, payment):
        assert receipts.receipt_data(payment)["language"] == "ar"

    def test_right_to_left_in_arabic(self, payment, app):
        from flask import render_template

        data = receipts.receipt_data(payment, language="ar")
        with app.test_request_context():
            html = render_template(
                "enrolment/receipt.html",
                receipt=data,
                language="ar",
                direction="rtl",
                method_names={"cash": "نقدًا"},
            )
        assert '<html lang="ar" dir="rtl">' in html

    @pytest.mark.parametrize("language", ["fr", "ar"])
    def test_the_labs_legal_identifiers_from_the_settings(
        self, payment, app, language, monkeypatch
    ):
        from flask import render_template

        for key, value in (("ICE", "001234567000089"), ("IF", "45678901"), ("RC", "Tanger 98765")):
            monkeypatch.setitem(app.config, f"LAB_{key}", value)
        data = receipts.receipt_data(payment, language=language)
        assert data["lab"]["ice"] == "001234567000089"
        with app.test_request_context():
            html = render_template(
                "enrolment/receipt.html",
                receipt=data,
                language=language,
                direction="ltr",
                method_names={"cash": "cash"},
            )
        for shown in ('ICE <span class="num">001234567000089</span>', "45678901", "Tanger 98765"):
            assert shown in html
        assert app.config["LAB_ADDRESS"] in html

    def test_the_fetcher_serves_static_files_only(self, app):
        from pathlib import Path

        with app.app_context():
            static = Path(app.static_folder).resolve()
            fetcher = receipts.static_url_fetcher()
            logo = fetcher.fetch((static / "img" / "logo.svg").as_uri())
            assert logo.content_type == "image/svg+xml"
            assert logo.read().startswith(b"<svg")
            for url in (
                "https://example.com/x.png",
                "http://127.0.0.1:5000/static/img/logo.svg",
                "file:///etc/passwd",
                (static / ".." / "config.py").as_uri(),
                "file://evil.example/" + str(static / "img" / "logo.svg"),
                "data:text/plain,hello",
            ):
                with pytest.raises(receipts.RefusedURL):
                    fetcher.fetch(url)


class TestWhatAnEndedSeatOwes:
    """A seat the lab ended, or a withdrawal before the first day, owes nothing; a withdrawal
    once the cohort has started keeps the fee due; overpayment shows as a refund to settle."""

    @pytest.fixture
    def paid(self, cohort, make_family, world):
        user, child = make_family()
        enrolment = enrol(child, cohort, actor=get(user))
        record_payment(
            enrolment,
            actor=world.coordinator,
            amount_centimes=30000,
            method="cash",
            reference=None,
            paid_on=NOW.date(),
        )
        return user, enrolment

    def test_withdrawn_before_the_first_day(self, paid):
        user, enrolment = paid
        withdraw(enrolment, actor=get(user))
        assert enrolment.amount_due_centimes == 0
        assert enrolment.balance_centimes == -30000

    def test_withdrawn_after_the_start(self, paid, frozen_now):
        user, enrolment = paid
        frozen_now.move_to(
            datetime.combine(enrolment.cohort.start_date + timedelta(days=8), time(12), tzinfo=UTC)
        )
        withdraw(enrolment, actor=get(user))
        assert enrolment.amount_due_centimes == 80000
        assert enrolment.balance_centimes == 50000

    def test_cancelled_by_the_lab(self, paid, world):
        _, enrolment = paid
        cancel_enrolment(enrolment, actor=world.coordinator, reason="Erreur d'inscription")
        assert enrolment.amount_due_centimes == 0
