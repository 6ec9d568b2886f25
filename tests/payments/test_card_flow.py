"""The whole card flow through the local gateway, as a parent clicks through it."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from lms.enrolment.models import CardOrder, CardOrderStatus, Payment
from lms.extensions import db
from tests.conftest import login


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields of the page's gateway form (not the sign-out button's)."""
    form = re.search(r'<form method="post" action="[^"]*gateway[^"]*">(.*?)</form>', html, re.S)
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)
        )
    }


def test_a_parent_pays_by_card_through_the_local_gateway(app, owing):
    client = app.test_client()
    login(client, owing.parent)
    home = client.get("/parent").get_data(as_text=True)
    assert "Pay 800.00" in home or "Pay MAD" in home or "by card" in home
    started = client.post("/payments/card/", data={"term": "2026-autumn"})
    assert started.status_code == 303
    page = client.get(started.headers["Location"])
    assert page.status_code == 200
    fields = hidden_fields(page.get_data(as_text=True))
    assert fields["storetype"] == "3D_PAY_HOSTING"
    assert fields["currency"] == "504"
    assert fields["amount"] == "800.00"
    # The browser posts the signed form to the (local) gateway, which asks for the card.
    gateway = client.post("/payments/card/local-gateway", data=fields)
    assert gateway.status_code == 200
    card_page = hidden_fields(gateway.get_data(as_text=True))
    # Paying: the gateway calls back (server to server), then sends the browser to "ok".
    done = client.post("/payments/card/local-gateway/answer", data={**card_page, "decision": "pay"})
    assert "ACTION=POSTAUTH" in done.get_data(as_text=True)
    with app.app_context():
        order = db.session.scalar(select(CardOrder))
        assert order.status == CardOrderStatus.PAID
        assert [p.amount_centimes for p in db.session.scalars(select(Payment))] == [80000]
    landing = client.post("/payments/card/ok", data={"oid": fields["oid"]}, follow_redirects=True)
    assert "the payment is received" in landing.get_data(as_text=True)


def test_the_local_gateway_refuses_a_form_not_signed_right(app, owing):
    client = app.test_client()
    login(client, owing.parent)
    started = client.post("/payments/card/", data={"term": "2026-autumn"})
    fields = hidden_fields(client.get(started.headers["Location"]).get_data(as_text=True))
    assert (
        client.post("/payments/card/local-gateway", data={**fields, "amount": "1.00"}).status_code
        == 400
    )
    answer = client.post(
        "/payments/card/local-gateway/answer", data={**fields, "amount": "1.00", "decision": "pay"}
    )
    assert answer.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Payment)).all() == []


def test_the_local_gateway_is_not_there_outside_local_mode(make_app):
    app = make_app(CMI_MODE="test", CMI_CLIENT_ID="1", CMI_STORE_KEY="k")
    assert app.test_client().post("/payments/card/local-gateway", data={}).status_code == 404
