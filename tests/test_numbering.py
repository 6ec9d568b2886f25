"""Gapless document numbers (lms/numbering.py): one sequence per kind and year, no number
lost to a transaction that rolls back, none given twice when issuers run at once.

The concurrent test commits for real, each thread on its own app context, session and
connection; run it on PostgreSQL too (LMS_TEST_DATABASE_URL=postgresql+psycopg://...), where
the row lock of the counter is what serialises the issuers.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.numbering import DocumentCounter, next_number
from tests.enrolment.test_concurrency import run_at_once


def test_one_sequence_per_kind_and_year(ctx):
    assert [next_number("receipt", 2026) for _ in range(3)] == [1, 2, 3]
    assert next_number("credit_note", 2026) == 1
    assert next_number("receipt", 2027) == 1
    assert next_number("receipt", 2026) == 4


def test_a_number_taken_in_a_transaction_rolled_back_is_given_again(ctx):
    assert next_number("receipt", 2026) == 1
    savepoint = db.session.begin_nested()
    assert next_number("receipt", 2026) == 2
    savepoint.rollback()
    assert next_number("receipt", 2026) == 2


def test_a_counter_seeded_past_older_numbers_goes_on_from_there(ctx):
    db.session.add(DocumentCounter(kind="receipt", year=2026, next_value=124))
    db.session.flush()
    assert next_number("receipt", 2026) == 124


@pytest.mark.committed
def test_issuers_at_once_one_rolling_back_leave_no_gap_and_no_double(app):
    issuers = 7
    committed: list[int] = []
    lock = threading.Lock()
    holding = threading.Event()

    def issue() -> None:
        with app.app_context():
            try:
                number = next_number("receipt", 2026)
                # Hold the counter a moment, as a request does between numbering a receipt
                # and its commit: the other issuers queue behind it.
                time.sleep(0.05)
                db.session.commit()
                with lock:
                    committed.append(number)
            finally:
                db.session.remove()

    def issue_then_roll_back() -> int:
        with app.app_context():
            try:
                number = next_number("receipt", 2026)
                holding.set()
                time.sleep(0.5)  # the others are queued behind this transaction now
                db.session.rollback()
                return number
            finally:
                db.session.remove()

    rolled_back: list[int] = []
    first = threading.Thread(target=lambda: rolled_back.append(issue_then_roll_back()))
    first.start()
    assert holding.wait(30)
    _, errors = run_at_once([issue] * issuers)
    first.join(30)

    assert errors == []
    assert rolled_back == [1]
    assert sorted(committed) == list(range(1, issuers + 1))  # 1 given again; no gap, no double
    with app.app_context():
        counter = db.session.scalar(
            select(DocumentCounter.next_value).where(
                DocumentCounter.kind == "receipt", DocumentCounter.year == 2026
            )
        )
        assert counter == issuers + 1
