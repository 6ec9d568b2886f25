"""Journeys: a parent opens the fee page, pays the term by card on the local gateway page
(CMI_MODE "local", which plays CMI's hosted page and calls the shop back, signed), comes
back, sees the fee paid and downloads the receipt; a coordinator gives the money back to a
family who withdrew before the start and finds the refund in the term's books."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from lms.accounts.services import create_user
from lms.clock import local_today
from lms.courses.scheduling import create_room
from lms.courses.terms import term_of
from lms.database import utcnow
from lms.enrolment.fees import book_payment
from lms.enrolment.models import EnrolmentStatus
from lms.extensions import db
from lms.families.contacts import Person
from tests import builders
from tests.conftest import PASSWORD
from tests.e2e.test_enrolment_journey import log_in

PARENT = "karim.alaoui@example.ma"


def _world(app, *, withdrawn_after_paying: bool = False) -> tuple[int, str]:
    """A group of 800 MAD in two weeks; Karim's daughter Yasmine enrolled, nothing paid (or
    paid in cash, then withdrawn before the start). The group's id and term."""
    with app.app_context():
        boss = create_user(
            full_name="Fatima Zahra El Amrani", email="coordination@activelabs.ma",
            role="coordinator", password=PASSWORD,
        )  # fmt: skip
        lead = create_user(
            full_name="Youssef Benali", email="youssef.benali@activelabs.ma", role="instructor",
            password=PASSWORD,
        )  # fmt: skip
        room = create_room(actor=boss, name="Atelier Al-Jazari", capacity=12)
        course = builders.robotics_course(boss, price_centimes=80000)
        cohort = builders.saturday_group(boss, course, room=room, lead=lead, capacity=8)
        parent = create_user(
            full_name="Karim Alaoui", email=PARENT, role="parent", password=PASSWORD, locale="fr"
        )
        child = builders.child(
            parent,
            "Yasmine",
            "Alaoui",
            date_of_birth=date(cohort.start_date.year - 9, 3, 14),
            emergency_contact=Person("Karim Alaoui", "Père", "0612345601"),
        )
        enrolment = builders.enrol(child.id, cohort.id, at=utcnow(), fee_centimes=80000)
        if withdrawn_after_paying:
            book_payment(enrolment, amount_centimes=80000, method="cash", paid_on=local_today())
            enrolment.status = EnrolmentStatus.WITHDRAWN
            enrolment.ended_at = utcnow()
            enrolment.end_reason = "withdrawn_by_parent"
            cohort.seats_taken -= 1
        db.session.commit()
        return cohort.id, term_of(cohort.start_date).key


def test_a_parent_pays_the_term_by_card_and_gets_the_receipt(ui):
    _world(ui.app)
    page = ui.page

    ui.visit("/login")
    log_in(ui, PARENT)
    fees = page.locator("#enrolments")
    expect(fees.get_by_text("reste à payer : 800 MAD")).to_be_visible()
    # The fee page shows the lab's RIB and the family's transfer reference beside the card.
    expect(fees.get_by_text(ui.app.config["LAB_RIB"])).to_be_visible()
    expect(fees.locator("code", has_text=re.compile(r"^AL"))).to_have_count(1)

    fees.get_by_role("button", name="Payer 800\xa0MAD par carte").click()
    ui.audit()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payer par carte")
    page.get_by_role("button", name="Continuer vers la page de paiement sécurisée").click()

    # The local gateway page, playing CMI's.
    ui.audit()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passerelle de paiement locale")
    expect(page.get_by_text("800.00 MAD")).to_be_visible()
    page.get_by_role("button", name="Payer", exact=True).click()
    ui.audit()
    page.get_by_role("button", name="Retour à la boutique").click()

    # Back at the shop: the order is paid, with its receipt.
    ui.audit()
    expect(page.get_by_text("Merci : le paiement est reçu.")).to_be_visible()
    receipt = page.get_by_role("link", name=re.compile(r"^Reçu AL-\d{4}-000001 \(PDF\)$"))
    expect(receipt).to_be_visible()
    with page.expect_download() as download:
        receipt.click()
    path = download.value.path()
    assert path is not None
    with open(path, "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    ui.visit("/parent")
    fees = page.locator("#enrolments")
    expect(fees.get_by_text("payé", exact=True)).to_be_visible()
    expect(fees.get_by_role("link", name=re.compile(r"^Reçu AL-\d{4}-000001"))).to_be_visible()
    ui.wait_for_mail(PARENT, "AL-")


def test_a_coordinator_gives_the_money_back_and_finds_it_in_the_books(ui):
    cohort_id, term = _world(ui.app, withdrawn_after_paying=True)
    page = ui.page

    ui.visit("/login")
    log_in(ui, "coordination@activelabs.ma")
    ui.visit(f"/coordinator/cohorts/{cohort_id}/enrolments")
    expect(page.get_by_text("Remboursement dû : 800\xa0MAD")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Rembourser")).click()
    ui.audit()
    expect(page.get_by_label("Montant remboursé (MAD)")).to_have_value("800.00")
    page.get_by_label("Motif").fill("Retrait avant la première séance.")
    page.get_by_role("button", name="Émettre l'avoir").click()
    ui.audit()
    expect(page.get_by_text(re.compile(r"Avoir AL-AV-\d{4}-000001 émis\."))).to_be_visible()

    ui.visit(f"/coordinator/reports/books?term={term}")
    expect(page.locator('[data-figure="refunded"]')).to_have_text("800\xa0MAD")
    expect(page.locator('[data-figure="cash"]')).to_have_text("800\xa0MAD")
    expect(page.locator('[data-figure="refunds_due"]')).to_have_text("0\xa0MAD")
    page.get_by_role("link", name="Remboursé").click()
    ui.audit()
    expect(page.get_by_role("link", name=re.compile(r"^AL-AV-\d{4}-000001$"))).to_be_visible()
