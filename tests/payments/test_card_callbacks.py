"""The gateway's callback is the only thing that marks a card payment, once."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.courses.models import Cohort
from lms.courses.terms import term_of
from lms.enrolment import card_payments
from lms.enrolment.joining import enrol
from lms.enrolment.models import CardOrder, CardOrderStatus, Payment
from lms.extensions import db
from lms.families.models import Child
from lms.notifications.models import OutboxMessage
from tests.conftest import login
from tests.enrolment.conftest import GROUP_START, get
from tests.enrolment.test_concurrency import setup  # noqa: F401 - a shared fixture

CALLBACK = "/payments/card/callback"


def open_order(owing) -> CardOrder:
    order = card_payments.open_card_order(
        get(owing.parent), [owing.child], term=term_of(GROUP_START)
    )
    db.session.commit()
    return order


def callback_for(order: CardOrder, **changes) -> dict[str, str]:
    """What CMI posts back for ``order``: the shop's fields, the result, signed."""
    params = {
        "clientid": card_payments.LOCAL_CLIENT_ID,
        "oid": order.order_id,
        "amount": card_payments.amount_text(order.amount_centimes),
        "currency": "504",
        "ProcReturnCode": "00",
        "Response": "Approved",
        "TransId": "26341ABC",
        "storetype": "3D_PAY_HOSTING",
    }
    params.update(changes)
    params["HASH"] = card_payments.hash_v3(params, card_payments.LOCAL_STORE_KEY)
    return params


def payments() -> list[Payment]:
    return list(db.session.scalars(select(Payment).order_by(Payment.id)))


def receipts_mailed() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.template == "payment_recorded")
    )


def test_an_order_pays_what_the_family_owes_for_the_term(owing):
    order = open_order(owing)
    assert order.amount_centimes == 80000
    assert [(line.enrolment_id, line.amount_centimes) for line in order.lines] == [
        (owing.enrolment.id, 80000)
    ]
    assert order.status == CardOrderStatus.PENDING


def test_a_correct_callback_marks_the_fee_paid_once(app, owing):
    order = open_order(owing)
    client = app.test_client()
    first = client.post(CALLBACK, data=callback_for(order))
    assert first.status_code == 200
    assert first.get_data(as_text=True) == "ACTION=POSTAUTH"
    for _ in range(5):
        again = client.post(CALLBACK, data=callback_for(order))
        assert again.get_data(as_text=True) == "ACTION=POSTAUTH"
    with app.app_context():
        booked = payments()
        assert [(p.amount_centimes, p.method, p.card_order_id) for p in booked] == [
            (80000, "card", order.id)
        ]
        assert booked[0].receipt_number == "AL-2026-000001"
        assert booked[0].enrolment.balance_centimes == 0
        assert receipts_mailed() == 1
        assert db.session.get(CardOrder, order.id).status == CardOrderStatus.PAID


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p: {**p, "HASH": p["HASH"][:-4] + "AAAA"}, id="wrong hash"),
        pytest.param(lambda p: {**p, "amount": "1.00"}, id="altered amount"),
        pytest.param(lambda p: {**p, "ProcReturnCode": "00", "TransId": "X"}, id="altered id"),
        pytest.param(lambda p: {k: v for k, v in p.items() if k != "HASH"}, id="no hash"),
    ],
)
def test_an_altered_callback_records_nothing_and_is_logged(app, owing, tamper, caplog):
    order = open_order(owing)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="lms.enrolment.card_payments"):
        answer = client.post(CALLBACK, data=tamper(callback_for(order)))
    assert answer.get_data(as_text=True) == "FAILURE"
    assert "CMI callback refused" in caplog.text
    with app.app_context():
        assert payments() == []
        assert db.session.get(CardOrder, order.id).status == CardOrderStatus.PENDING


def test_a_signed_callback_with_the_wrong_amount_records_nothing(app, owing, caplog):
    # Signed with the right key (a leaked callback of a smaller order, say), but the amount
    # is not the order's.
    order = open_order(owing)
    with caplog.at_level(logging.WARNING):
        answer = app.test_client().post(CALLBACK, data=callback_for(order, amount="1.00"))
    assert answer.get_data(as_text=True) == "FAILURE"
    assert "(amount)" in caplog.text
    with app.app_context():
        assert payments() == []


def test_a_callback_for_an_unknown_order_records_nothing(app, owing, caplog):
    order = open_order(owing)
    with caplog.at_level(logging.WARNING):
        answer = app.test_client().post(CALLBACK, data=callback_for(order, oid="AL0000"))
    assert answer.get_data(as_text=True) == "FAILURE"
    assert "unknown order" in caplog.text
    with app.app_context():
        assert payments() == []


def test_a_callback_replayed_for_another_order_records_nothing(app, owing, make_cohort):
    # Two orders of the same amount: the first one's signed callback must not pay the second.
    paid = open_order(owing)
    other_cohort = make_cohort(capacity=5, weekdays=[5])
    enrol(owing.child, other_cohort, actor=get(owing.parent))
    db.session.commit()
    other = card_payments.open_card_order(
        get(owing.parent), [owing.child], enrolment=owing.enrolment
    )
    db.session.commit()
    assert other.amount_centimes == paid.amount_centimes
    client = app.test_client()
    replay = {**callback_for(paid), "oid": other.order_id}  # the first order's hash
    assert client.post(CALLBACK, data=replay).get_data(as_text=True) == "FAILURE"
    with app.app_context():
        assert payments() == []
        assert db.session.get(CardOrder, other.id).status == CardOrderStatus.PENDING


def test_a_declined_card_leaves_the_fee_owed_and_the_order_payable(app, owing):
    order = open_order(owing)
    client = app.test_client()
    declined = client.post(CALLBACK, data=callback_for(order, ProcReturnCode="05"))
    assert declined.get_data(as_text=True) == "APPROVED"
    with app.app_context():
        assert payments() == []
        assert db.session.get(CardOrder, order.id).status == CardOrderStatus.DECLINED
    # The parent tries another card on the same order: now it is paid.
    assert client.post(CALLBACK, data=callback_for(order)).get_data(as_text=True) == (
        "ACTION=POSTAUTH"
    )
    with app.app_context():
        assert len(payments()) == 1


def test_the_ok_page_changes_nothing(app, owing):
    order = open_order(owing)
    client = app.test_client()
    landing = client.post("/payments/card/ok", data=callback_for(order))
    assert landing.status_code == 302
    assert landing.headers["Location"].endswith(f"/payments/card/{order.order_id}")
    with app.app_context():
        assert payments() == []
        assert db.session.get(CardOrder, order.id).status == CardOrderStatus.PENDING


def test_an_order_page_is_only_for_its_payer_and_coordinators(app, owing, make_family):
    order = open_order(owing)
    stranger, _child = make_family()
    client = app.test_client()
    login(client, stranger)
    assert client.get(f"/payments/card/{order.order_id}").status_code == 404
    assert client.get(f"/payments/card/{order.order_id}/pay").status_code == 404


def test_nothing_to_pay_is_refused(app, owing):
    order = open_order(owing)
    app.test_client().post(CALLBACK, data=callback_for(order))
    with app.app_context(), pytest.raises(card_payments.DomainError):
        card_payments.open_card_order(get(owing.parent), [owing.child], term=term_of(GROUP_START))


@pytest.mark.committed
def test_a_hundred_parallel_deliveries_book_one_payment(app, setup):  # noqa: F811
    cohort_id, [(user_id, _email, child_id)] = setup(capacity=2, families_count=1)
    with app.app_context():
        parent, child = db.session.get(User, user_id), db.session.get(Child, child_id)
        enrol(child, db.session.get(Cohort, cohort_id), actor=parent)
        order = card_payments.open_card_order(parent, [child], term=term_of(GROUP_START))
        db.session.commit()
        params = callback_for(order)

    def deliver(_):
        return app.test_client().post(CALLBACK, data=params).get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(deliver, range(100)))
    assert set(answers) == {"ACTION=POSTAUTH"}
    with app.app_context():
        assert len(payments()) == 1
        assert receipts_mailed() == 1
