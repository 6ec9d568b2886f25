"""Account rules, called directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from lms.accounts import services
from lms.accounts.models import User
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.roles import Role
from lms.security import hash_password, password_problems, verify_password
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("ctx")


def register(**overrides) -> User:
    fields = {
        "full_name": "Nadia Bennani",
        "email": "Nadia.Bennani@Example.MA",
        "phone": "+212612345602",
        "password": PASSWORD,
        "locale": "ar",
        "privacy_notice_version": "2026-09",
    } | overrides
    return services.register_parent(**fields)


def test_register_parent_stores_normalised_email_and_privacy_consent():
    user = register()
    assert user.email == "nadia.bennani@example.ma"
    assert user.role == Role.PARENT
    assert user.locale == "ar"
    assert user.privacy_notice_version == "2026-09"
    assert abs(user.privacy_accepted_at - utcnow()) < timedelta(seconds=5)
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)


def test_email_is_unique_whatever_its_case_and_its_owner_is_told():
    owner = register()
    assert register(email="  NADIA.BENNANI@example.ma ", full_name="Someone Else") is None
    users = db.session.scalars(select(User)).all()
    assert users == [owner]
    assert owner.full_name != "Someone Else"
    [message] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "signup_existing")
    ).all()
    assert message.recipient_user_id == owner.id


def test_weak_password_is_refused_by_the_service_too():
    with pytest.raises(DomainError) as error:
        register(password="123456789012")
    assert error.value.field == "password"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "au moins 10 caractères"),
        ("x" * 129, "au plus 128 caractères"),
        ("password1234", "trop courant"),
        ("qwertyuiop", "trop courant"),
        ("aaaaaaaaaaaa", "trop courant"),
        ("123456789012", "trop courant"),
        ("nadia.bennani", "votre adresse e-mail"),
    ],
)
def test_password_policy(password, problem):
    problems = [str(p) for p in password_problems(password, email="nadia.bennani@example.ma")]
    assert any(problem in p for p in problems), problems


def test_a_long_unusual_password_is_accepted():
    assert password_problems("les robots de Tanger dansent") == []


def test_hash_uses_argon2id_with_owasp_parameters_in_production_settings(app):
    app.config.update(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST_KIB=19_456, ARGON2_PARALLELISM=1)
    hashed = hash_password("les robots de Tanger dansent")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_authenticate_is_case_insensitive_and_refuses_wrong_password(parent):
    assert services.authenticate(parent.email.upper(), PASSWORD).id == parent.id
    assert services.authenticate(parent.email, "wrong password!") is None
    assert services.authenticate("nobody@example.ma", PASSWORD) is None


def test_deactivated_account_cannot_log_in(parent):
    user = db.session.get(User, parent.id)
    user.active = False
    assert services.authenticate(parent.email, PASSWORD) is None


def test_ending_sessions_rotates_the_token_and_the_old_id_no_longer_loads(parent):
    user = db.session.get(User, parent.id)
    old_id = user.get_id()
    assert services.load_user(old_id).id == user.id
    services.end_all_sessions(user)
    assert services.load_user(old_id) is None
    assert services.load_user(user.get_id()).id == user.id


@pytest.mark.parametrize("session_id", ["", "abc", "1", "1:", ":token", "999999:whatever"])
def test_load_user_refuses_garbage(session_id):
    assert services.load_user(session_id) is None


def test_change_password_checks_the_current_one(parent):
    user = db.session.get(User, parent.id)
    with pytest.raises(DomainError) as error:
        services.change_password(user, current_password="nope", new_password="une autre phrase")
    assert error.value.field == "current_password"
    services.change_password(user, current_password=PASSWORD, new_password="une autre phrase")
    assert verify_password(user.password_hash, "une autre phrase")


def test_reset_token_works_once(parent):
    user = db.session.get(User, parent.id)
    token = services.make_password_token(user)
    assert services.user_from_password_token(token).id == user.id
    services.reset_password_with_token(token, "la kasbah au soleil")
    with pytest.raises(services.InvalidLink):
        services.user_from_password_token(token)


def test_reset_token_expires_after_one_hour(parent):
    user = db.session.get(User, parent.id)
    with time_machine.travel(utcnow(), tick=False) as traveller:
        token = services.make_password_token(user)
        traveller.shift(timedelta(minutes=59))
        assert services.user_from_password_token(token).id == user.id
        traveller.shift(timedelta(minutes=2))
        with pytest.raises(services.InvalidLink) as error:
            services.user_from_password_token(token)
    assert "expiré" in str(error.value.message)


def test_reset_and_setup_tokens_are_not_interchangeable(parent):
    user = db.session.get(User, parent.id)
    setup = services.make_password_token(user, services.SETUP)
    with pytest.raises(services.InvalidLink):
        services.user_from_password_token(setup, services.RESET)


@pytest.mark.parametrize("token", ["", "garbage", "eyJ1IjoxfQ.abc.def", "a" * 500])
def test_forged_tokens_are_refused(token):
    with pytest.raises(services.InvalidLink):
        services.user_from_password_token(token)


def test_reset_request_for_unknown_address_queues_nothing():
    services.request_password_reset("nobody@example.ma")
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_reset_request_queues_a_mail_in_the_users_language(make_user):
    user = make_user(Role.PARENT, locale="ar")
    services.request_password_reset(user.email.upper())
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.recipient == user.email
    assert message.language == "ar"
    assert "كلمة مرور جديدة" in message.subject
    assert "/password/reset/" in message.body


def test_only_coordinators_create_staff(parent, instructor, coordinator):
    for actor_id in (parent.id, instructor.id):
        with pytest.raises(DomainError):
            services.create_staff(
                actor=db.session.get(User, actor_id),
                full_name="Salma Idrissi",
                email="salma@activelabs.ma",
                role=Role.INSTRUCTOR,
                phone=None,
                locale="fr",
            )
    staff = services.create_staff(
        actor=db.session.get(User, coordinator.id),
        full_name="Salma Idrissi",
        email="Salma@ActiveLabs.ma",
        role=Role.INSTRUCTOR,
        phone=None,
        locale="fr",
    )
    assert staff.password_hash is None
    assert services.authenticate("salma@activelabs.ma", "") is None
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.template == "account_setup"
    assert "/welcome/" in message.body


def test_staff_role_must_be_staff(coordinator):
    with pytest.raises(DomainError) as error:
        services.create_staff(
            actor=db.session.get(User, coordinator.id),
            full_name="Someone",
            email="someone@example.ma",
            role=Role.PARENT,
            phone=None,
            locale="fr",
        )
    assert error.value.field == "role"


def test_set_language_refuses_unknown_languages(parent):
    user = db.session.get(User, parent.id)
    with pytest.raises(DomainError):
        services.set_language(user, "de")
    services.set_language(user, "en")
    assert user.locale == "en"
