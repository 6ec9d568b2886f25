"""Every route that needs a login sends visitors to it; every role-only route refuses the
other roles. New routes are covered automatically: the sweep reads the URL map."""

from __future__ import annotations

import re

import pytest

from lms.roles import Role

# Routes anyone may open. Anything else must require a login.
PUBLIC = {
    "static",
    "dashboard.index",
    "dashboard.privacy",
    "accounts.register",
    "accounts.login",
    "accounts.forgot_password",
    "accounts.reset_password",
    "accounts.account_setup",
    "accounts.confirm_email",  # the link from the e-mail works before logging in
    "accounts.confirm_email_post",
    "accounts.set_language",
    "health.healthz",
    "courses.catalogue",
    "courses.course_page",
    "courses.cohort_calendar",
    "courses.private_calendar",
    "families.invitation",  # shows who invites; accepting needs a login
    "certificates.verify",
    "certificates.verify_code",
    # The card gateway: its server calls back; it sends the parent back from its site (no
    # session cookie there); in local mode the app plays it. Each checks its own proof.
    "card_payments.callback",
    "card_payments.ok",
    "card_payments.fail",
    "card_payments.local_gateway",
    "card_payments.local_gateway_answer",
    # The offline roll call's service worker script and manifest: no data, and the browser
    # fetches them again to update the worker, signed in or not.
    "offline.service_worker",
    "offline.manifest",
}
# Public endpoints of later domains register themselves here by prefix or name.
PUBLIC_PREFIXES: tuple[str, ...] = ("credentials.",)  # Open Badges: keys, credentials, status
# Called by providers, not people: no login, a signature instead; a stranger gets 403
# (tests/notifications/test_channels.py tries good and bad signatures).
SIGNED_PREFIXES: tuple[str, ...] = ("webhooks.",)


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC or endpoint.startswith(PUBLIC_PREFIXES + SIGNED_PREFIXES)


def url_for_rule(rule) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)


def routes(app, public: bool):
    for rule in app.url_map.iter_rules():
        if is_public(rule.endpoint) == public:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_private_routes_send_anonymous_visitors_to_login(app, client):
    checked = 0
    for rule, method in routes(app, public=False):
        response = client.open(url_for_rule(rule), method=method)
        assert response.status_code == 302, (method, rule.rule, response.status_code)
        assert response.headers["Location"].startswith("/login"), (method, rule.rule)
        checked += 1
    assert checked >= 10


def test_public_routes_answer_visitors(app, client):
    from lms.certificates.keys import create_key

    create_key(app.instance_path)  # the credentials' routes sign with it
    for rule, method in routes(app, public=True):
        if rule.endpoint.startswith(SIGNED_PREFIXES):
            response = client.open(url_for_rule(rule), method=method)
            assert response.status_code == 403, (method, rule.rule, response.status_code)
            continue
        if method != "GET" or rule.endpoint in ("static", "health.healthz"):
            continue  # /healthz has its own tests (503 here: the test schema has no migrations)
        response = client.get(url_for_rule(rule))
        assert response.status_code in (200, 302, 404, 410), (rule.rule, response.status_code)


@pytest.mark.parametrize("role", list(Role))
def test_role_routes_refuse_the_other_roles(app, make_user, login_as, role):
    client = login_as(make_user(role))
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "required_roles", None)
        if allowed is None or role in allowed:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url_for_rule(rule), method=method)
            assert response.status_code == 403, (role, method, rule.rule, response.status_code)
            checked += 1
    assert checked >= 1
