"""Wrong passwords slow the guesser down, never lock out the owner or a lab full of families."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def config_overrides():
    return {
        "BABEL_DEFAULT_LOCALE": "en",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    from lms.extensions import limiter

    with app.app_context():
        limiter.reset()


ATTACKER = "41.250.1.1"
OWNER_HOME = "105.66.2.2"
LAB = "196.200.10.7"


def attempt(app, email, password="wrong password!", ip=ATTACKER, **data):
    client = app.test_client()
    return client.post(
        "/login",
        data={"email": email, "password": password, **data},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_a_stranger_cannot_lock_the_coordinator_out(app, world):
    email = world.coordinator.email
    statuses = [attempt(app, email).status_code for _ in range(8)]
    assert statuses[:5] == [422] * 5
    assert set(statuses[5:]) == {429}  # the guesser waits, and the right password is not tried
    refused = attempt(app, email, PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many wrong passwords" in refused.get_data(as_text=True)
    # The owner, from their own address, gets in at once.
    assert attempt(app, email, PASSWORD, ip=OWNER_HOME).status_code == 302


def test_unknown_addresses_are_throttled_the_same_way(app):
    statuses = [attempt(app, "nobody@example.ma").status_code for _ in range(6)]
    assert statuses == [422] * 5 + [429]


def test_the_wait_grows(app, world):
    from lms.accounts.throttle import _delay

    with app.app_context():
        assert [_delay(n, 5) for n in (4, 5, 6, 7)] == [0, 30, 60, 120]
        assert _delay(40, 5) == 15 * 60


def test_a_successful_reset_starts_afresh(app, world):
    from lms.accounts import services
    from lms.accounts.models import User
    from lms.extensions import db

    email = world.parents["p1"].email
    for _ in range(6):
        attempt(app, email, ip=LAB)
    assert attempt(app, email, PASSWORD, ip=LAB).status_code == 429
    with app.app_context():
        user = db.session.get(User, world.parents["p1"].id)
        token = services.make_password_token(user, services.RESET)
        services.reset_password_with_token(token, "un nouveau mot de passe", services.RESET)
        db.session.commit()
    assert attempt(app, email, "un nouveau mot de passe", ip=LAB).status_code == 302


def test_forty_families_behind_one_lab_address_are_not_blocked(app, make_user):
    from lms.roles import Role

    families = [make_user(Role.PARENT, email=f"famille{n}@example.ma") for n in range(40)]
    # One parent keeps mistyping; the others each get it wrong twice, then right.
    for _ in range(10):
        attempt(app, families[0].email, ip=LAB)
    for family in families[1:]:
        assert attempt(app, family.email, ip=LAB).status_code == 422
        assert attempt(app, family.email, ip=LAB).status_code == 422
        assert attempt(app, family.email, PASSWORD, ip=LAB).status_code == 302


def test_one_address_trying_many_accounts_is_slowed(app):
    app.config["LOGIN_FREE_FAILURES_PER_ADDRESS"] = 10
    statuses = [attempt(app, f"guess{n}@example.ma").status_code for n in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    assert attempt(app, "guess@example.ma", ip=OWNER_HOME).status_code == 422
