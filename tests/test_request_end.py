"""How a request ends (lms/web.py): where "back" goes, refusals on GET, the commit point."""

from __future__ import annotations

import pytest
from flask import g, get_flashed_messages

from lms import web
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications.models import OutboxMessage


@pytest.mark.parametrize(
    ("form", "query", "referrer", "expected"),
    [
        ({"next": "/children/3"}, {}, None, "/children/3"),
        ({}, {"next": "/parent#enrolments"}, None, "/parent#enrolments"),
        (
            {"next": "//evil.example/x"},
            {},
            "http://localhost/courses?track=coding",
            "/courses?track=coding",
        ),
        ({"next": "https://evil.example/"}, {}, None, "/"),
        ({}, {}, "http://evil.example/steal", "/"),
        ({}, {}, "http://localhost/coordinator/staff/2", "/coordinator/staff/2"),
    ],
)
def test_back_url_stays_on_this_site(app, form, query, referrer, expected):
    headers = {"Referer": referrer} if referrer else {}
    with app.test_request_context(
        "/x", method="POST", data=form, query_string=query, headers=headers
    ):
        assert web.back_url() == expected


def test_a_refused_button_post_flashes_and_goes_back_with_303(app):
    with app.test_request_context(
        "/enrolments/1/withdraw", method="POST", data={"next": "/parent"}
    ):
        response = web.refused(DomainError("This group is over."))
        assert (response.status_code, response.location) == (303, "/parent")
        assert get_flashed_messages(with_categories=True) == [("error", "This group is over.")]


def test_a_domain_error_on_a_get_is_a_page_not_a_500(app):
    with app.test_request_context("/anything"):
        body, status = web.refused(DomainError("Nothing to see."))
        assert status == 409
        assert "Nothing to see." in body


def _pending_row() -> OutboxMessage:
    row = OutboxMessage(
        recipient="a@example.ma", subject="s", body="b", template="t", language="fr"
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_a_get_that_writes_is_an_error_in_tests(app):
    with app.test_request_context("/x"):
        _pending_row()
        response = app.make_response(("ok", 200))
        with pytest.raises(RuntimeError, match="wrote to the database"):
            web.end_transaction(response)


def test_a_get_that_records_a_reading_may_write(app):
    with app.test_request_context("/x"):
        web.record_reading()
        row_id = _pending_row().id
        web.end_transaction(app.make_response(("ok", 200)))
        assert not web.session_wrote()
    with app.app_context():
        assert db.session.get(OutboxMessage, row_id) is not None


def test_an_error_answer_rolls_back_what_the_view_wrote(app):
    with app.test_request_context("/x", method="POST"):
        row_id = _pending_row().id
        web.end_transaction(app.make_response(("no", 400)))
    with app.app_context():
        assert db.session.get(OutboxMessage, row_id) is None


def test_a_successful_post_is_committed_once(app):
    with app.test_request_context("/x", method="POST"):
        row_id = _pending_row().id
        web.end_transaction(app.make_response(("ok", 200)))
        assert not g.get("records_reading")
    with app.app_context():
        assert db.session.get(OutboxMessage, row_id) is not None
