"""Before the lab has a signing key, the credentials' pages say so instead of failing."""

from __future__ import annotations


def test_a_fresh_installation_without_a_key_answers_503_with_the_reason(client):
    response = client.get("/credentials/status")
    assert response.status_code == 503
    assert "clé de signature" in response.get_data(as_text=True)
