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
        url = re.sub(r"<(?:int:)?\w+>", "1", rule.rule)
        response = client.post(url, data={"email": "a@b.ma"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert "Ce formulaire a expiré" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
