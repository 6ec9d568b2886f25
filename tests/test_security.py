"""Headers, cookies, CSRF and error pages."""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import select

from lms.accounts.models import User
from lms.extensions import db
from lms.roles import Role
from tests.conftest import PASSWORD, login


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/no-such-page", "/static/css/app.css"):
        response = client.get(path)
        response.close()
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ):
            assert directive in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client):
    page = client.get("/register").get_data(as_text=True)
    assert "<script>" not in page
    assert " onclick=" not in page
    assert " style=" not in page
    assert "<style" not in page


def test_session_cookies_are_httponly_lax_and_secure_outside_debug(make_app, parent):
    app = make_app(TESTING=False)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = app.test_client()
    response = client.post(
        "/login", data={"email": parent.email, "password": PASSWORD, "remember": "y"}
    )
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_debug_mode_allows_plain_http_cookies(make_app):
    app = make_app(TESTING=False, DEBUG=True)
    assert app.config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    ("language", "code", "text"),
    [
        ("fr", 404, "Page introuvable"),
        ("ar", 404, "الصفحة غير موجودة"),
        ("en", 404, "Page not found"),
        ("ar", 403, "الوصول مرفوض"),
        ("fr", 405, "Non autorisé"),
    ],
)
def test_error_pages_speak_the_users_language(make_user, client, language, code, text):
    client.set_cookie("lang", language)
    path = {404: "/nowhere", 403: "/coordinator", 405: "/logout"}[code]
    if code == 403:
        login(client, make_user(Role.PARENT, locale=language))
    response = client.get(path)
    assert response.status_code == code
    assert text in response.get_data(as_text=True)


def test_500_rolls_back_and_shows_a_translated_page(make_app):
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        db.session.add(User(email="half@example.ma", full_name="Half", role="parent", locale="fr"))
        db.session.flush()
        raise RuntimeError("boom")

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    client = app.test_client()
    client.set_cookie("lang", "ar")
    response = client.get("/boom")
    assert response.status_code == 500
    assert "حدث خطأ ما" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "half@example.ma")) is None
