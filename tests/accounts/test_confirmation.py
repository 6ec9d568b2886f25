"""A confirmed address: links that confirm, correct and change it, and their bad paths.

Messages are read in French, the lab's default language."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from lms.accounts import confirmation, services
from lms.accounts.models import User
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("ctx")


def register(email: str = "nadia@example.ma", locale: str = "ar") -> User:
    return services.register_parent(
        full_name="Nadia Bennani",
        email=email,
        phone=None,
        password=PASSWORD,
        locale=locale,
        privacy_notice_version="2026-09",
    )


def mails(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))


def test_a_link_confirms_the_address_once():
    user = register()
    assert not user.email_confirmed
    assert confirmation.send_confirmation_link(user) == "nadia@example.ma"
    [mail] = mails("email_confirm")
    assert (mail.recipient, mail.language) == ("nadia@example.ma", "ar")
    token = confirmation.make_confirmation_token(user, user.email)
    assert confirmation.confirm_email(token) is user
    assert user.email_confirmed
    with pytest.raises(DomainError, match="déjà confirmée"):
        confirmation.confirm_email(token)
    assert confirmation.send_confirmation_link(user) is None  # nothing left to confirm


def test_expired_and_tampered_links_are_refused():
    user = register()
    token = confirmation.make_confirmation_token(user, user.email)
    with pytest.raises(DomainError, match="pas valide"):
        # One character of the signature changed (never to itself: one token in 64 has an "A"
        # there already).
        confirmation.confirm_email(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    with (
        time_machine.travel(utcnow() + timedelta(days=4)),
        pytest.raises(DomainError, match="expiré"),
    ):
        confirmation.confirm_email(token)
    assert not user.email_confirmed


def test_a_mistyped_address_is_corrected_and_the_old_link_dies():
    user = register(email="nadia@exmple.ma")
    old_token = confirmation.make_confirmation_token(user, user.email)
    sent_to = confirmation.change_email(user, new_email="Nadia@Example.ma", password=PASSWORD)
    assert sent_to == "nadia@example.ma"
    assert (user.email, user.pending_email) == ("nadia@example.ma", None)
    assert not mails("email_change_notice")  # nobody reads the mistyped address
    with pytest.raises(DomainError, match="remplacé"):
        confirmation.confirm_email(old_token)
    confirmation.confirm_email(confirmation.make_confirmation_token(user, "nadia@example.ma"))
    assert user.email_confirmed


def test_a_confirmed_address_stays_until_the_new_one_is_confirmed_and_the_old_one_is_told():
    user = register()
    confirmation.confirm_email(confirmation.make_confirmation_token(user, user.email))
    confirmation.change_email(user, new_email="n.bennani@example.ma", password=PASSWORD)
    assert (user.email, user.pending_email) == ("nadia@example.ma", "n.bennani@example.ma")
    [notice] = mails("email_change_notice")
    assert notice.recipient == "nadia@example.ma"
    assert "n.bennani@example.ma" in notice.body
    link = [m for m in mails("email_confirm") if m.recipient == "n.bennani@example.ma"]
    assert link
    confirmation.confirm_email(confirmation.make_confirmation_token(user, "n.bennani@example.ma"))
    assert (user.email, user.pending_email, user.email_confirmed) == (
        "n.bennani@example.ma",
        None,
        True,
    )


def test_a_change_needs_the_password_and_a_free_address():
    user = register()
    register(email="taken@example.ma")
    with pytest.raises(DomainError, match="mot de passe actuel") as refused:
        confirmation.change_email(user, new_email="new@example.ma", password="wrong-password-1")
    assert refused.value.field == "password"
    with pytest.raises(DomainError, match="ne peut pas être utilisée") as refused:
        confirmation.change_email(user, new_email="taken@example.ma", password=PASSWORD)
    assert refused.value.field == "email"
    assert (user.email, user.pending_email) == ("nadia@example.ma", None)


def test_an_address_taken_meanwhile_is_not_stolen_at_confirmation():
    user = register()
    confirmation.confirm_email(confirmation.make_confirmation_token(user, user.email))
    confirmation.change_email(user, new_email="later@example.ma", password=PASSWORD)
    register(email="later@example.ma")
    with pytest.raises(DomainError, match="ne peut pas être utilisée"):
        confirmation.confirm_email(confirmation.make_confirmation_token(user, "later@example.ma"))
    assert user.email == "nadia@example.ma"


def test_a_link_emailed_for_a_password_proves_the_address():
    user = register()
    confirmation.mark_confirmed(user)
    assert user.email_confirmed
