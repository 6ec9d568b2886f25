"""Every POST route, for every role, with the values that once gave a 500 in every field of its
form (NUL, control characters, a right-to-left override, huge numbers, dates at the end of
time): no answer is a 500, on SQLite and on PostgreSQL (where a NUL in text is an error).

The fields are those of the form the route's own page shows, read from its HTML; a route with
no page of its own (a button) gets the query-string fuzz's parameter names. Each route starts
from a new browser, signed in afresh, so that a route that signs out or changes the account
does not hide the routes after it.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import login
from tests.robustness.test_fuzz import HUGE_ID, PARAMETERS, fill, real_values

BAD_VALUES = (
    "\x00", "a\x0bb", "\u202eevil", "99999999999999999999", "-1", "9999-12-31", "10000-01-01",
    "2026-13-45", "'--", "１２", "x" * 5000,
)  # fmt: skip
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*?\bname="([^"]+)"', re.IGNORECASE)
# Routes whose every accepted post is slow by design (a PDF per child): fuzzed with fewer values.
SLOW = ("/certificates/issue",)


def post_routes(app) -> list[tuple[str, bool]]:
    """(rule, has a page of its own) of every POST route."""
    return sorted(
        (rule.rule, "GET" in rule.methods)
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods
    )


def form_fields(client, path: str) -> list[str]:
    """The names of the fields of the page's forms, the CSRF token aside."""
    response = client.get(path)
    if response.status_code != 200 or response.mimetype != "text/html":
        return list(PARAMETERS)
    names = set(FIELD.findall(response.get_data(as_text=True))) - {"csrf_token"}
    return sorted(names) or list(PARAMETERS)


@pytest.fixture
def roles(world):
    return {
        "anonymous": None,
        "parent": world.parents["p1"],
        "instructor": world.lead,
        "coordinator": world.coordinator,
    }


@pytest.mark.parametrize("role", ["anonymous", "parent", "instructor", "coordinator"])
def test_every_form_takes_the_bad_values_in_every_field_without_a_500(app, world, roles, role):
    known = real_values(world)
    tried = 0
    for rule, has_page in post_routes(app):
        client = app.test_client()
        if roles[role] is not None:
            login(client, roles[role])
        path = fill(rule, lambda conv, name: str(known.get(name, world.ids["a"])))
        names = form_fields(client, path) if has_page else list(PARAMETERS)
        values = BAD_VALUES[:3] if rule.endswith(SLOW) else BAD_VALUES
        for value in values:
            response = client.post(path, data=dict.fromkeys(names, value))
            assert response.status_code != 500, (path, value)
            tried += 1
        # An id that no database column can hold, in every part of the path.
        huge = fill(rule, lambda conv, name: str(HUGE_ID) if conv == "int" else "x\x00")
        assert client.post(huge, data={}).status_code != 500, huge
    assert tried > 300  # every form was reached, not a handful
