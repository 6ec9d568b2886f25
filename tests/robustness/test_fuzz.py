"""Every GET route, for every role, with the query strings and ids that once gave a 500
(huge integers, a term in 9999, a week at the end of time, NUL) and random ones from
hypothesis: no answer is a 500."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import login

PARAMETERS = (
    "page", "per_page", "term", "week", "status", "track", "course", "room", "cohort",
    "cohort_id", "child", "role", "when", "q", "published", "audience", "since", "until",
    "subject_id", "actor", "age", "weekday", "time_of_day", "language", "instructor", "code",
    "kind", "format", "unconfirmed", "action", "subject_type",
)  # fmt: skip
BAD_VALUES = (
    "99999999999999999999", "-1", "0", "9999-spring", "9999-12-31", "0000-01-01", "10000-01-01",
    "nonsense", "", "\x00", "a\x0bb", "\u202eevil", "1e9", "１２", "%", "'--", "2026-13-45",
)  # fmt: skip
HUGE_ID = 99999999999999999999


def get_routes(app) -> list[tuple[str, list[str]]]:
    """(rule, argument names) of every GET route but static files."""
    return [
        (rule.rule, sorted(rule.arguments))
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.endpoint != "static"
    ]


def fill(rule: str, value_for) -> str:
    return re.sub(
        r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: value_for(m.group(1), m.group(2)), rule
    )


def real_values(world) -> dict:
    ids = world.ids
    return {"cohort_id": ids["a"], "fmt": "xlsx", "kind": "contacts"}


@pytest.fixture
def roles(world):
    return {
        "anonymous": None,
        "parent": world.parents["p1"],
        "instructor": world.lead,
        "coordinator": world.coordinator,
    }


def assert_no_500(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code != 500, url


@pytest.mark.parametrize("role", ["anonymous", "parent", "instructor", "coordinator"])
def test_every_route_takes_the_bad_values_without_a_500(app, world, roles, role):
    client = app.test_client()
    if roles[role] is not None:
        login(client, roles[role])
    known = real_values(world)
    for rule, _arguments in get_routes(app):
        # /healthz reads no query string; its bounded time is tested in test_sqlite_locking.
        if rule.startswith(("/logout", "/healthz")):
            continue
        path = fill(rule, lambda conv, name: str(known.get(name, world.ids["a"])))
        assert_no_500(
            client, fill(rule, lambda conv, name: "x\x00" if conv != "int" else str(HUGE_ID))
        )
        for value in BAD_VALUES:
            assert_no_500(client, path + "?" + "&".join(f"{name}={value}" for name in PARAMETERS))


QUERY_VALUES = st.one_of(
    st.text(alphabet=string.printable + "\x00\x0b\u202e٣é", max_size=12),
    st.integers().map(str),
    st.dates().map(str),
    st.builds(
        lambda y, s: f"{y}-{s}", st.integers(0, 99999), st.sampled_from(["autumn", "spring"])
    ),
)


@pytest.mark.parametrize("role", ["parent", "coordinator"])
def test_random_query_strings_on_lists_reports_and_exports(app, world, roles, role):
    client = app.test_client()
    login(client, roles[role])
    known = real_values(world)
    paths = [
        fill(rule, lambda conv, name: str(known.get(name, world.ids["a"])))
        for rule, _ in get_routes(app)
        if not rule.startswith(("/logout", "/healthz"))
    ]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        path=st.sampled_from(paths),
        query=st.dictionaries(st.sampled_from(PARAMETERS), QUERY_VALUES, max_size=4),
    )
    def check(path, query):
        response = client.get(path, query_string=query)
        assert response.status_code != 500, (path, query)

    check()
