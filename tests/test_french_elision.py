from flask_babel import force_locale, lazy_gettext
from markupsafe import Markup

from lms.accounts.models import User
from lms.extensions import db
from lms.i18n import french_elision
from tests.conftest import login


def test_de_and_que_are_elided_before_a_name_that_starts_with_a_vowel():
    assert french_elision("Présences de Adam", ["Adam"]) == "Présences d'Adam"
    assert (
        french_elision("Profil de Élise, que Omar", ["Élise", "Omar"]) == "Profil d'Élise, qu'Omar"
    )


def test_consonants_an_h_numbers_and_escaped_text_are_left_as_written():
    assert (
        french_elision("de Hamza et de Yasmine", ["Hamza", "Yasmine"]) == "de Hamza et de Yasmine"
    )
    assert french_elision("groupe de 9 ans", [9]) == "groupe de 9 ans"
    assert french_elision(Markup("de Inès &amp; Co"), ["Inès & Co"]) == Markup("d'Inès &amp; Co")


def test_messages_built_in_python_are_elided_too(app, client, coordinator, instructor):
    """A flash made by a view (gettext with the name in), not by a template."""
    with app.app_context():
        db.session.get(User, instructor.id).full_name = "Amina Tazi"
        db.session.commit()
    login(client, coordinator)
    response = client.post(
        f"/coordinator/staff/{instructor.id}",
        data={
            "full_name": "Amina Tazi",
            "email": instructor.email,
            "phone": "",
            "role": "instructor",
            "language": "fr",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Le compte d&#39;Amina Tazi est enregistré." in page
    assert "de Amina" not in page


def test_lazy_and_plural_messages_are_elided_and_other_languages_left_alone(app):
    with app.test_request_context(), force_locale("fr"):
        assert str(lazy_gettext("Attendance of %(name)s", name="Omar")) == "Présences d'Omar"
        assert str(lazy_gettext("Attendance of %(name)s", name="Yasmine")) == (
            "Présences de Yasmine"
        )
    with app.test_request_context(), force_locale("en"):
        assert str(lazy_gettext("Attendance of %(name)s", name="Omar")) == "Attendance of Omar"
