"""Login and reset are throttled (per account and address, and per address), with a translated
429 page. The login throttle's own rules are tested in tests/robustness/test_login_throttle.py."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def config_overrides():
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_LIMIT_PER_IP": "8 per minute",
        "RESET_LIMIT_PER_IP": "4 per minute",
        "RESET_LIMIT_PER_ACCOUNT": "2 per hour",
    }  # counts start from nothing in every test (the app fixture resets them)


def attempt(client, email, password="wrong password!", ip="10.0.0.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_failed_logins_are_throttled_per_account_and_address(client, parent):
    for _ in range(5):
        assert attempt(client, parent.email).status_code == 422
    # Even the right password waits, from this address: the pair is throttled...
    response = attempt(client, parent.email.upper(), PASSWORD)
    assert response.status_code == 429
    assert "Trop de mots de passe erronés" in response.get_data(as_text=True)
    # ...but not from the owner's other address: a stranger cannot lock the owner out.
    assert attempt(client, parent.email, PASSWORD, ip="10.0.0.2").status_code == 302


def test_successful_logins_do_not_count_against_the_account(app, parent):
    for _ in range(5):
        client = app.test_client()
        assert attempt(client, parent.email, PASSWORD, ip=f"10.0.1.{_}").status_code == 302


def test_logins_are_throttled_per_ip_across_accounts(client):
    statuses = [attempt(client, f"user{n}@example.ma").status_code for n in range(9)]
    assert statuses[:8] == [422] * 8
    assert statuses[8] == 429
    # Another address is not affected.
    assert attempt(client, "someone@example.ma", ip="10.9.9.9").status_code == 422


def test_password_reset_is_throttled_and_says_nothing_about_the_account(client, parent):
    def ask(email, ip="10.0.0.1"):
        return client.post(
            "/password/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": ip}
        )

    assert ask(parent.email).status_code == 302
    assert ask(parent.email, ip="10.0.0.3").status_code == 302
    assert ask(parent.email, ip="10.0.0.4").status_code == 429
    # An unknown address is throttled exactly the same way.
    assert ask("ghost@example.ma").status_code == 302
    assert ask("ghost@example.ma", ip="10.0.0.3").status_code == 302
    assert ask("ghost@example.ma", ip="10.0.0.4").status_code == 429


def test_429_page_in_arabic(client, parent):
    client.set_cookie("lang", "ar")
    for n in range(8):  # the flood guard per address: 8 per minute here
        attempt(client, f"user{n}@example.ma")
    response = attempt(client, parent.email)
    assert response.status_code == 429
    assert "محاولات كثيرة" in response.get_data(as_text=True)
