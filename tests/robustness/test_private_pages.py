"""Cache-Control: no-store on every answer shown to a signed-in user; public pages cache."""

from __future__ import annotations

import pytest

from tests.conftest import login


@pytest.mark.parametrize("who", ["parent", "coordinator", "instructor"])
def test_private_pages_and_downloads_are_never_stored(app, world, who):
    user = {
        "parent": world.parents["p1"],
        "coordinator": world.coordinator,
        "instructor": world.lead,
    }[who]
    client = app.test_client()
    login(client, user)
    urls = {
        "parent": ["/parent", "/family/messages", "/account", "/catalogue"],
        "coordinator": [
            "/coordinator/children",
            "/coordinator/staff",
            "/account",
            f"/exports/cohorts/{world.ids['a']}/roster.csv",
        ],
        "instructor": ["/account", f"/exports/cohorts/{world.ids['a']}/roster.xlsx"],
    }[who]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


def test_public_pages_and_static_files_may_be_cached(client):
    assert "no-store" not in client.get("/catalogue").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")
