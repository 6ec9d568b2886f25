"""Sign-ups that a lab's Wi-Fi can carry: 150 families behind one address all get in; a limit
that is hit brings the form back with what was typed and when to try again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.extensions import db
from tests.accounts.test_views import GOOD


@pytest.fixture
def config_overrides():
    # The shipped limits, on: the point is that they fit a lab's shared Wi-Fi.
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    from lms.extensions import limiter

    with app.app_context():
        limiter.reset()


LAB_WIFI = {"REMOTE_ADDR": "196.200.10.7"}


def sign_up(app, n: int, **changes):
    client = app.test_client()
    data = GOOD | {"full_name": f"Parent {n}", "email": f"parent{n}@example.ma"} | changes
    return client.post("/register", data=data, environ_base=LAB_WIFI)


def test_150_families_sign_up_from_one_address_within_the_hour(app):
    statuses = [sign_up(app, n).status_code for n in range(150)]
    assert statuses == [302] * 150
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 150


def test_the_limit_per_address_typed_brings_the_form_back_with_what_was_typed(app):
    for n in range(5):
        # The same address typed again and again (taken after the first): refused on the form.
        assert sign_up(app, n, email="same@example.ma").status_code in (302, 422)
    response = sign_up(app, 99, email="same@example.ma", full_name="Omar Tazi")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert 'value="Omar Tazi"' in page  # what was typed is kept
    assert 'value="same@example.ma"' in page
    assert "Réessayez dans" in page or "try again in" in page
    # Another family on the same Wi-Fi is not held back.
    assert sign_up(app, 100).status_code == 302
