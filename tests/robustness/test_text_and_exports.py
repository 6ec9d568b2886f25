"""The text rule of every form, and spreadsheets that survive any stored text."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.extensions import db
from lms.families.models import Child, ContactPerson
from lms.text import refused_character
from tests.conftest import login
from tests.families.test_views import new_child_form


@pytest.mark.parametrize(
    ("value", "one_line", "refused"),
    [
        ("Mère", True, None),
        ("Tab\there", True, None),
        ("a\x00b", True, "\x00"),
        ("a\x0bb", False, "\x0b"),
        ("\x7f", True, "\x7f"),
        ("\u202eevil", True, "\u202e"),
        ("\u2067x\u2069", True, "\u2067"),
        ("\u202eevil", False, None),  # free text may quote mixed directions
        ("زبيدة\u200f", True, None),  # the right-to-left mark Arabic uses stays
        ("two\nlines", True, "\n"),
        ("two\nlines", False, None),
    ],
)
def test_the_text_rule(value, one_line, refused):
    assert refused_character(value, one_line=one_line) == refused


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("emergency_relationship", "M\x00ère", "U+0000"),
        ("emergency_relationship", "M\x0bère", "U+000B"),
        ("first_name", "\u202eenimsaY", "U+202E"),
        ("date_of_birth", "9999-12-31", "8999"),
    ],
)
def test_a_new_child_with_a_bad_character_is_refused_clearly_and_nothing_stored(
    app, parent, field, value, message
):
    client = app.test_client()
    login(client, parent)
    with app.app_context():
        data = new_child_form(**{field: value})
    response = client.post("/children/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Child)).all() == []


def test_line_breaks_from_a_browser_are_kept_as_line_feeds(app):
    from werkzeug.datastructures import MultiDict

    from lms.families.forms import HealthForm

    with app.test_request_context(method="POST"):
        app.config["WTF_CSRF_ENABLED"] = False
        form = HealthForm(MultiDict({"consent": "yes", "allergies": "Arachides\r\nLait\rOeufs"}))
        assert form.validate(), form.errors
        assert form.allergies.data == "Arachides\nLait\nOeufs"
        refused = HealthForm(MultiDict({"consent": "yes", "allergies": "Arachides\x00"}))
        assert not refused.validate()
        assert "U+0000" in refused.allergies.errors[0]


def test_every_xlsx_export_survives_control_characters_stored_before_the_rule(app, world):
    with app.app_context():
        for contact in db.session.scalars(select(ContactPerson)):
            contact.relationship = "Oncle\x0b\x00"
            contact.full_name = "=HYPERLINK(\x01)"
        for child in db.session.scalars(select(Child)):
            child.first_name = child.first_name + "\x1f"
        db.session.commit()
    client = app.test_client()
    for user in (world.coordinator, world.lead):
        login(client, user)
        cohort = world.ids["a"]
        urls = [
            f"/exports/cohorts/{cohort}/roster.xlsx",
            f"/attendance/cohorts/{cohort}/attendance.xlsx",
        ]
        if user is world.coordinator:
            urls += [
                f"/exports/{kind}.xlsx"
                for kind in ("families", "enrolments", "waiting-lists", "payments")
            ]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            sheet = load_workbook(io.BytesIO(response.data)).active
            assert sheet.max_row >= 1
        client.post("/logout")
