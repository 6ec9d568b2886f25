"""Account pages through the test client: happy paths, bad inputs, sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.database import utcnow
from lms.extensions import db
from lms.roles import Role
from tests.conftest import PASSWORD, links_in, login, mail_log

GOOD = {
    "full_name": "Omar Tazi",
    "email": "omar.tazi@example.ma",
    "phone": "06 12 34 56 03",
    "password": "les robots de Tanger",
    "confirm": "les robots de Tanger",
    "language": "fr",
    "accept_privacy": "y",
}


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_register_opens_a_parent_account_and_asks_to_check_the_inbox(app, client):
    response = client.post("/register", data=GOOD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Vérifiez votre boîte de réception" in page
    # Nobody is logged in by the sign-up (see test_sign_up_does_not_tell_...): the parent logs
    # in with the password just chosen.
    assert client.get("/home").headers["Location"].startswith("/login")
    response = client.post("/login", data={"email": GOOD["email"], "password": GOOD["password"]})
    assert response.headers["Location"] == "/home"
    assert client.get("/home").headers["Location"] == "/parent"
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.phone == "+212612345603"
        assert user.role == Role.PARENT
        assert user.privacy_notice_version == app.config["PRIVACY_NOTICE_VERSION"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "omar.tazi@"}, "Saisissez une adresse e-mail valide"),
        ({"email": "pas une adresse"}, "Saisissez une adresse e-mail valide"),
        ({"email": "a" * 250 + "@x.ma"}, "254 caractères au maximum"),
        ({"full_name": "O" * 121}, "Entre 2 et 120 caractères"),
        ({"full_name": ""}, "Ce champ est obligatoire"),
        ({"password": "azerty", "confirm": "azerty"}, "au moins 10 caractères"),
        ({"password": "1234567890", "confirm": "1234567890"}, "trop courant"),
        ({"confirm": "autre chose"}, "Les deux mots de passe sont différents"),
        ({"phone": "12"}, "Saisissez un numéro de téléphone valide"),
        ({"phone": "+212 6" + "1" * 40}, "30 caractères au maximum"),
        ({"accept_privacy": ""}, "Vous devez accepter la notice de confidentialité"),
        ({"language": "de"}, "N'est pas un choix valide"),
    ],
)
def test_register_bad_inputs_get_a_clear_message(app, client, changes, message):
    response = client.post("/register", data=GOOD | changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message.replace("'", "&#39;") in page or message in page
    assert count_users(app) == 0
    # What was typed is kept (except the passwords).
    if "full_name" not in changes:
        assert 'value="Omar Tazi"' in page


def test_sign_up_does_not_tell_whether_an_address_has_an_account(app, parent):
    """The page answers the same for a known address; its owner gets a reset link instead."""

    def sign_up(email: str):
        client = app.test_client()
        response = client.post("/register", data=GOOD | {"email": email})
        return response, client.get(response.location).get_data(as_text=True)

    known, known_page = sign_up(parent.email.upper())
    free, free_page = sign_up("someone.new@example.ma")
    assert known.status_code == free.status_code == 302
    assert known.location == free.location == "/login"
    flash = "Vérifiez votre boîte de réception : nous avons envoyé un message à"
    assert flash in known_page
    assert flash in free_page
    assert parent.email in known_page
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.email == parent.email))
        assert owner.full_name == "Karim Alaoui"  # nothing of the owner's account changed
        assert count_users(app) == 2  # the owner and the new parent: no second account
    log = mail_log(app)
    message = log[log.index(f"To: {parent.email}") :]
    assert "a essayé d'ouvrir un nouveau compte" in message
    [reset] = [url for url in links_in(message) if "/password/reset/" in url]
    # The link works: the owner can choose a new password with it.
    page = app.test_client().get(reset.replace("http://localhost", ""))
    assert page.status_code == 200


def test_login_refuses_with_the_same_words_for_unknown_and_wrong(client, parent):
    unknown = client.post("/login", data={"email": "x@example.ma", "password": PASSWORD})
    wrong = client.post("/login", data={"email": parent.email, "password": "not it at all"})
    for response in (unknown, wrong):
        assert response.status_code == 422
        assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [("/account", "/account"), ("//evil.example/x", "/home"), ("https://evil.example", "/home")],
)
def test_login_follows_only_local_next_urls(client, parent, next_url, expected):
    response = login(client, parent, next=next_url)
    assert response.headers["Location"] == expected


def test_anonymous_visitor_is_sent_to_login_and_back(client, parent):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="/account"' in page


def _cookie(client, name):
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def test_logout_kills_sessions_and_remember_me_cookies_everywhere(app, parent):
    laptop, phone = app.test_client(), app.test_client()
    assert login(laptop, parent, remember="y").status_code == 302
    assert login(phone, parent, remember="y").status_code == 302
    laptop_session = _cookie(laptop, "session")
    remember = _cookie(laptop, "remember_token")
    assert remember

    assert phone.post("/logout").status_code == 302

    # The laptop's session and its remember-me cookie were both ended by the phone's logout.
    assert laptop.get("/account").status_code == 302
    replay = app.test_client()
    replay.set_cookie("remember_token", remember)
    assert replay.get("/account").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", laptop_session)
    assert replay.get("/account").status_code == 302


def test_remember_me_logs_back_in_without_a_session(app, parent):
    client = app.test_client()
    login(client, parent, remember="y")
    remember = _cookie(client, "remember_token")
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/account").status_code == 200


def test_change_password_keeps_this_device_and_logs_out_others(app, parent):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, parent)
    login(elsewhere, parent)
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "la plage de Malabata",
            "confirm": "la plage de Malabata",
        },
    )
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    assert login(app.test_client(), parent, password="la plage de Malabata").status_code == 302


def test_change_password_wrong_current_is_a_form_error(client, parent):
    login(client, parent)
    response = client.post(
        "/account/password",
        data={"current_password": "nope", "password": "x y z w v u", "confirm": "x y z w v u"},
    )
    assert response.status_code == 422


def test_password_reset_through_the_mail_log(app, client, parent):
    response = client.post("/password/forgot", data={"email": parent.email.upper()})
    assert response.status_code == 302
    link = next(link for link in links_in(mail_log(app)) if "/password/reset/" in link)
    path = link.split("localhost", 1)[-1]
    assert client.get(path).status_code == 200
    response = client.post(
        path, data={"password": "cap spartel 2026", "confirm": "cap spartel 2026"}
    )
    assert response.status_code == 302
    assert login(client, parent, password="cap spartel 2026").status_code == 302
    # Used once: the same link is now refused with a message, not a 500.
    client.post("/logout")
    response = client.get(path, follow_redirects=True)
    assert "Ce lien n&#39;est pas valide ou a déjà été utilisé." in response.get_data(as_text=True)


def test_forgot_password_says_the_same_for_unknown_addresses(app, client, parent):
    known = client.post("/password/forgot", data={"email": parent.email}, follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "x@example.ma"}, follow_redirects=True)

    def main(response):
        return response.get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]

    assert main(known) == main(unknown)


def test_expired_reset_link_says_so(app, client, parent):
    with time_machine.travel(utcnow(), tick=False) as traveller:
        client.post("/password/forgot", data={"email": parent.email})
        link = next(link for link in links_in(mail_log(app)) if "/password/reset/" in link)
        traveller.shift(timedelta(hours=1, minutes=1))
        response = client.get(link.split("localhost", 1)[-1], follow_redirects=True)
    assert "Ce lien a expiré. Demandez-en un nouveau." in response.get_data(as_text=True)


def test_reset_form_refuses_weak_password_and_keeps_the_link_alive(app, client, parent):
    client.post("/password/forgot", data={"email": parent.email})
    path = next(link for link in links_in(mail_log(app)) if "/reset/" in link).split("localhost")[1]
    response = client.post(path, data={"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert client.get(path).status_code == 200


def test_language_switch_for_a_visitor_uses_a_cookie(client):
    response = client.post("/language", data={"language": "ar", "next": "/login"})
    assert response.headers["Location"] == "/login"
    assert _cookie(client, "lang") == "ar"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "تسجيل الدخول" in page


def test_language_switch_is_remembered_for_the_account(app, client, parent):
    login(client, parent)
    client.post("/language", data={"language": "en", "next": "/account"})
    with app.app_context():
        assert db.session.get(User, parent.id).locale == "en"
    other = app.test_client()
    login(other, parent)
    assert '<html lang="en" dir="ltr">' in other.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "location"),
    [
        ({"language": "xx", "next": "/login"}, "/login"),
        ({"language": "ar", "next": "https://evil.example"}, "/home"),
        ({"language": "ar", "next": "//evil.example"}, "/home"),
    ],
)
def test_language_switch_bad_input(client, data, location):
    response = client.post("/language", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == location


def test_browser_language_is_used_for_visitors(client):
    page = client.get("/", headers={"Accept-Language": "ar-MA,ar;q=0.9"}).get_data(as_text=True)
    assert 'dir="rtl"' in page
    page = client.get("/", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page


def test_profile_update_and_bad_phone(app, client, parent):
    login(client, parent)
    response = client.post(
        "/account", data={"full_name": "Karim Alaoui", "phone": "0612", "language": "fr"}
    )
    assert response.status_code == 422
    response = client.post(
        "/account",
        data={"full_name": "Karim Alaoui", "phone": "+33 6 12 34 56 78", "language": "ar"},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, parent.id)
        assert (user.phone, user.locale) == ("+33612345678", "ar")


def test_coordinator_creates_an_instructor_who_sets_a_password(app, client, coordinator):
    login(client, coordinator)
    response = client.post(
        "/coordinator/staff/new",
        data={
            "full_name": "Salma Idrissi",
            "email": "salma.idrissi@activelabs.ma",
            "phone": "",
            "role": "instructor",
            "language": "ar",
        },
    )
    assert response.status_code == 302
    assert "Salma Idrissi" in client.get("/coordinator/staff").get_data(as_text=True)
    client.post("/logout")
    log = mail_log(app)
    assert "To: salma.idrissi@activelabs.ma" in log
    path = next(link for link in links_in(log) if "/welcome/" in link).split("localhost")[1]
    response = client.post(
        path, data={"password": "robots et capteurs", "confirm": "robots et capteurs"}
    )
    assert response.status_code == 302
    response = client.post(
        "/login", data={"email": "salma.idrissi@activelabs.ma", "password": "robots et capteurs"}
    )
    assert response.status_code == 302
    assert client.get("/home").headers["Location"] == "/instructor"


def test_staff_form_refuses_duplicates_and_parent_role(client, coordinator, parent):
    login(client, coordinator)
    base = {"full_name": "X Y", "phone": "", "language": "fr"}
    response = client.post(
        "/coordinator/staff/new", data=base | {"email": parent.email, "role": "instructor"}
    )
    assert response.status_code == 422
    response = client.post(
        "/coordinator/staff/new", data=base | {"email": "new@example.ma", "role": "parent"}
    )
    assert response.status_code == 422


def test_translated_messages_with_user_data_are_escaped(app, client, coordinator):
    login(client, coordinator)
    response = client.post(
        "/coordinator/staff/new",
        data={
            "full_name": "<b>Salma</b>",
            "email": "salma@activelabs.ma",
            "phone": "",
            "role": "instructor",
            "language": "fr",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "<b>Salma</b>" not in page
    assert "&lt;b&gt;Salma&lt;/b&gt;" in page
