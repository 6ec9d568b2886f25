"""Confirming an address through the pages: the link from the sign-up e-mail, the prompt on
the home page, corrections, and the clear pages of bad links, in French, Arabic and English."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from lms.accounts.models import User
from lms.database import utcnow
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from tests.accounts.test_views import GOOD
from tests.conftest import links_in, mail_log


def sign_up(client, **changes) -> None:
    """Sign up, then log in with the password chosen (the sign-up logs nobody in)."""
    data = GOOD | changes
    response = client.post("/register", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    response = client.post("/login", data={"email": data["email"], "password": data["password"]})
    assert response.status_code == 302, response.get_data(as_text=True)


def confirmation_link(app) -> str:
    [link] = [url for url in links_in(mail_log(app)) if "/account/confirm/" in url]
    return link.replace("http://localhost", "")


def stored_user(app) -> User:
    with app.app_context():
        user = db.session.scalar(select(User))
        db.session.expunge(user)
        return user


def test_sign_up_sends_a_link_in_the_parents_language_and_the_home_page_asks_for_it(app, client):
    sign_up(client, language="ar")
    log = mail_log(app)
    assert "omar.tazi@example.ma" in log
    assert "تأكيد" in log  # the Arabic e-mail
    home = client.get("/parent").get_data(as_text=True)
    assert "confirm-prompt" in home
    link = confirmation_link(app)
    page = client.get(link)
    assert page.status_code == 200
    assert "omar.tazi@example.ma" in page.get_data(as_text=True)
    assert not stored_user(app).email_confirmed  # showing the page confirms nothing
    response = client.post(link)
    assert response.status_code == 302
    assert stored_user(app).email_confirmed
    assert "confirm-prompt" not in client.get("/parent").get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "used", "tampered", "expired"),
    [
        ("fr", "déjà confirmée", "pas valide", "expiré"),
        ("ar", "مؤكد", "غير صالح", "انتهت"),
        ("en", "already confirmed", "not valid", "expired"),
    ],
)
def test_bad_links_give_a_clear_page(app, client, language, used, tampered, expired):
    client.set_cookie("lang", language)  # the session ends during the four days below
    sign_up(client, language=language)
    link = confirmation_link(app)
    broken = client.get(link[:-3] + "xyz")
    assert broken.status_code == 410
    assert tampered in broken.get_data(as_text=True)
    with time_machine.travel(utcnow() + timedelta(days=4)):
        late = client.post(link)
        assert late.status_code == 303  # a refused button: flashed, back
        shown = client.get(late.headers["Location"], follow_redirects=True)
        assert expired in shown.get_data(as_text=True)
    assert not stored_user(app).email_confirmed
    client.post(link)
    assert stored_user(app).email_confirmed
    reused = client.get(link)
    assert reused.status_code == 410
    assert used in reused.get_data(as_text=True)


def test_a_mistyped_address_is_corrected_from_the_prompt(app, client):
    sign_up(client, email="omar.tazi@exmple.ma")
    response = client.post(
        "/account/email", data={"email": "omar.tazi@example.ma", "password": GOOD["password"]}
    )
    assert response.status_code == 302
    user = stored_user(app)
    assert (user.email, user.email_confirmed) == ("omar.tazi@example.ma", False)
    with app.app_context():
        recipients = list(
            db.session.scalars(
                select(OutboxMessage.recipient).where(OutboxMessage.template == "email_confirm")
            )
        )
    assert recipients == ["omar.tazi@exmple.ma", "omar.tazi@example.ma"]


def test_a_wrong_password_keeps_the_typed_address_and_changes_nothing(app, client):
    sign_up(client)
    response = client.post(
        "/account/email", data={"email": "new@example.ma", "password": "not my password"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="new@example.ma"' in page
    assert stored_user(app).email == "omar.tazi@example.ma"


def test_resend_sends_a_new_link_and_goes_back(app, client):
    sign_up(client)
    response = client.post("/account/email/resend", data={"next": "/parent"})
    assert (response.status_code, response.headers["Location"]) == (303, "/parent")
    with app.app_context():
        count = len(
            list(
                db.session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.template == "email_confirm")
                )
            )
        )
    assert count == 2


def test_messages_to_an_unconfirmed_address_are_flagged_to_coordinators(
    app, client, login_as, coordinator
):
    sign_up(client)
    with app.app_context():
        from lms.accounts.services import request_password_reset

        request_password_reset("omar.tazi@example.ma")
        db.session.commit()
    client.post("/logout")
    login_as(coordinator)
    page = client.get("/coordinator/outbox/?unconfirmed=1").get_data(as_text=True)
    assert "omar.tazi@example.ma" in page
    assert "adresse non confirmée" in page or "address not confirmed" in page


def test_the_confirmation_routes_need_the_right_person(app, client):
    assert client.post("/account/email/resend").status_code == 302  # to the login page
    assert client.get("/account/email").status_code == 302
