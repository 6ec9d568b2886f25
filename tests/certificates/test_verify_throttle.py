"""Public verification is throttled per address (against enumeration)."""

from __future__ import annotations

import pytest


@pytest.fixture
def config_overrides():
    return {"RATELIMIT_ENABLED": True, "VERIFY_LIMIT_PER_IP": "5 per minute"}


def test_verification_is_throttled_per_address(client):
    # The app fixture starts every rate-limited test with no counts.
    statuses = [
        client.get(
            "/verify/AL-0000-0000-0000", environ_base={"REMOTE_ADDR": "10.1.1.1"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [404] * 5 + [429]
    other = client.get("/verify/AL-0000-0000-0000", environ_base={"REMOTE_ADDR": "10.1.1.2"})
    assert other.status_code == 404
