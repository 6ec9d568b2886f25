"""CSRF: every POST route refuses a request without a token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


# Routes that another server calls (or, for the card gateway, the browser sent back by it):
# they prove themselves by a signature checked in the view, not by our CSRF token. Their
# refusals are tested with their features (tests/notifications, tests/payments).
SIGNED_BY_THE_SENDER = {
    "webhooks.whatsapp_event",
    "webhooks.sms_event",
    "card_payments.callback",
    "card_payments.ok",
    "card_payments.fail",
    "card_payments.local_gateway",
    "card_payments.local_gateway_answer",
}


def test_the_routes_without_csrf_are_only_the_signed_ones(app):
    from lms.extensions import csrf

    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        exempt = f"{view.__module__}.{view.__name__}" in csrf._exempt_views or rule.endpoint.split(
            "."
        )[0] in {bp.name for bp in csrf._exempt_blueprints}
        assert exempt == (rule.endpoint in SIGNED_BY_THE_SENDER), rule.endpoint


def test_every_post_route_refuses_a_missing_csrf_token(app, client, parent):
    """With CSRF on (config_overrides below), no POST gets through without a token."""
    login_response = client.post("/login", data={"email": parent.email, "password": PASSWORD})
    assert login_response.status_code == 400  # even the login form
    posts = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint != "static"
    ]
    assert len(posts) >= 8
    for rule in posts:
        if rule.endpoint in SIGNED_BY_THE_SENDER:
            continue
        url = re.sub(r"<(?:int:)?\w+>", "1", rule.rule)
        response = client.post(url, data={"email": "a@b.ma"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert "Ce formulaire a expiré" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
