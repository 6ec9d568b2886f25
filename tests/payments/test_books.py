"""The term's books: the figures add up against a known dataset, each has its list, the
accountant's journal (CSV, XLSX) holds every receipt and credit note; coordinators only."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from lms.courses.terms import term_of
from lms.enrolment.credit_notes import issue_credit_note
from lms.enrolment.fees import book_payment, set_fee_waiver
from lms.enrolment.joining import enrol
from lms.enrolment.leaving import withdraw
from lms.extensions import db
from lms.reports.books import term_books
from lms.roles import Role
from tests.conftest import get
from tests.enrolment.conftest import GROUP_START, NOW

TODAY = NOW.date()
TERM = term_of(GROUP_START)


@pytest.fixture
def dataset(make_family, make_cohort, world):
    """Five places of 800 MAD in one group: paid by card; 300 by transfer; paid in cash then
    withdrawn before the start, 500 given back; nothing paid; waived in full."""
    cohort = make_cohort(capacity=8)
    places = {}
    for name in ("Amine", "Badr", "Chama", "Dina", "Elias"):
        user, child = make_family(first_name=name)
        places[name] = enrol(child, cohort, actor=get(user))
    book_payment(places["Amine"], amount_centimes=80000, method="card", paid_on=TODAY)
    book_payment(places["Badr"], amount_centimes=30000, method="bank_transfer", paid_on=TODAY)
    cash = book_payment(places["Chama"], amount_centimes=80000, method="cash", paid_on=TODAY)
    withdraw(places["Chama"], actor=places["Chama"].child.guardians[0])
    issue_credit_note(cash, actor=world.coordinator, amount_centimes=50000, reason="Retrait.")
    set_fee_waiver(places["Elias"], actor=world.coordinator, amount_centimes=80000, reason="B.")
    db.session.commit()
    return places


def test_the_figures_add_up(dataset):
    books = term_books(TERM)
    figures = {name: books.figure(name) for name in (
        "billed", "card", "bank_transfer", "cash", "refunded", "outstanding", "refunds_due"
    )}  # fmt: skip
    assert figures == {
        "billed": 240000,  # Amine, Badr, Dina; Chama withdrew before the start, Elias waived
        "card": 80000,
        "bank_transfer": 30000,
        "cash": 80000,
        "refunded": 50000,
        "outstanding": 130000,  # Badr 500, Dina 800
        "refunds_due": 30000,  # Chama: 800 paid, 500 given back
    }
    kept = books.paid - books.refunded
    assert books.billed - kept == books.outstanding - books.refunds_due
    assert [e.child.first_name for e in books.behind("outstanding")] == ["Badr", "Dina"]
    assert [e.child.first_name for e in books.behind("refunds_due")] == ["Chama"]
    assert [p.method for p in books.behind("cash")] == ["cash"]
    assert [n.amount_centimes for n in books.behind("refunded")] == [50000]


def test_the_page_shows_each_figure_and_its_list(client, login_as, dataset, coordinator):
    login_as(coordinator)
    page = client.get(f"/coordinator/reports/books?term={TERM.key}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-figure="outstanding">1,300\xa0MAD<' in text
    assert 'data-figure="refunds_due">300\xa0MAD<' in text
    listed = client.get(f"/coordinator/reports/books?term={TERM.key}&show=outstanding")
    body = listed.get_data(as_text=True)
    assert "Badr" in body
    assert "Dina" in body
    assert "Amine" not in body
    refunded = client.get(f"/coordinator/reports/books?term={TERM.key}&show=refunded")
    assert "AL-AV-2026-000001" in refunded.get_data(as_text=True)
    assert client.get(f"/coordinator/reports/books?term={TERM.key}&show=x").status_code == 404
    assert client.get("/coordinator/reports/books?term=1999-nope").status_code == 404


def _journal(rows):
    return [(row[0], row[1], float(row[3]), row[7]) for row in rows[1:]]


EXPECTED = [
    ("Receipt", "AL-2026-000001", 800.0, "Amine Tazi"),
    ("Receipt", "AL-2026-000002", 300.0, "Badr Tazi"),
    ("Receipt", "AL-2026-000003", 800.0, "Chama Tazi"),
    ("Credit note", "AL-AV-2026-000001", -500.0, "Chama Tazi"),
]


def test_the_accountants_journal_in_csv(client, login_as, dataset, coordinator):
    login_as(coordinator)
    response = client.get(f"/coordinator/reports/books.csv?term={TERM.key}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=","))
    assert rows[0][:4] == ["Document", "Number", "Date", "Amount (MAD)"]
    assert _journal(rows) == EXPECTED
    assert rows[4][6] == "AL-2026-000003"  # the receipt the credit note credits


def test_the_accountants_journal_in_excel(client, login_as, dataset, coordinator):
    login_as(coordinator)
    response = client.get(f"/coordinator/reports/books.xlsx?term={TERM.key}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert _journal(rows) == EXPECTED
    assert client.get(f"/coordinator/reports/books.pdf?term={TERM.key}").status_code == 404


@pytest.mark.parametrize("role", [Role.PARENT, Role.INSTRUCTOR])
@pytest.mark.parametrize(
    "path", ["/coordinator/reports/books", "/coordinator/reports/books.csv",
             "/coordinator/reports/books.xlsx"],
)  # fmt: skip
def test_parents_and_instructors_refused(client, login_as, make_user, dataset, role, path):
    login_as(make_user(role))
    assert client.get(f"{path}?term={TERM.key}").status_code == 403
