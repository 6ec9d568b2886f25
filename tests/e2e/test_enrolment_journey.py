"""Journey: a parent enrols a child in the last seat, a second parent joins the waiting list,
the first withdraws, and the second accepts the seat from the link in the e-mail; the pages
in French and in Arabic, and the coordinator's roster."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from lms.accounts.services import create_user
from lms.courses.scheduling import create_room
from lms.extensions import db
from lms.families.contacts import Person
from tests import builders
from tests.conftest import PASSWORD, links_in

COORDINATOR = "coordination@activelabs.ma"
FIRST_PARENT = "karim.alaoui@example.ma"
SECOND_PARENT = "omar.tazi@example.ma"


def _world(app) -> int:
    """Staff, a course, a group with one seat, two families; the group's id."""
    with app.app_context():
        boss = create_user(
            full_name="Fatima Zahra El Amrani", email=COORDINATOR, role="coordinator",
            password=PASSWORD,
        )  # fmt: skip
        lead = create_user(
            full_name="Youssef Benali", email="youssef.benali@activelabs.ma", role="instructor",
            password=PASSWORD,
        )  # fmt: skip
        room = create_room(actor=boss, name="Atelier Al-Jazari", capacity=12)
        course = builders.robotics_course(
            boss,
            summary_fr="Construire et programmer des robots LEGO.",
            summary_ar="بناء روبوتات ليغو وبرمجتها.",
            min_age=8,
            max_age=11,
            price_centimes=80000,
        )
        cohort = builders.saturday_group(boss, course, room=room, lead=lead, capacity=1)
        for email, name, child, language in [
            (FIRST_PARENT, "Karim Alaoui", "Yasmine", "fr"),
            (SECOND_PARENT, "Omar Tazi", "Ilyas", "fr"),
        ]:
            parent = create_user(
                full_name=name, email=email, role="parent", password=PASSWORD, locale=language
            )
            builders.child(
                parent,
                child,
                name.split()[-1],
                date_of_birth=date(cohort.start_date.year - 9, 3, 14),
                emergency_contact=Person(name, "Père", "0612345601"),
            )
        db.session.commit()
        return cohort.id


def log_in(ui, email: str):
    page = ui.page
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()
    return page


def log_out(ui) -> None:
    ui.page.get_by_role("button", name=re.compile("Se déconnecter|تسجيل الخروج")).click()
    ui.audit()


def enrol_from_the_catalogue(ui, button: str, screenshot: str) -> None:
    page = ui.page
    page.get_by_role("navigation").get_by_role("link", name="Catalogue").click()
    ui.audit()
    page.get_by_role("link", name=re.compile(f"^{re.escape(button)}")).click()
    ui.audit()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscription à Robotique LEGO")
    ui.screenshot(screenshot)
    page.get_by_role("button", name=button).click()
    ui.audit()


def test_last_seat_waiting_list_withdrawal_and_an_offer_accepted_from_the_email(ui):
    cohort_id = _world(ui.app)
    page = ui.page
    page.on("dialog", lambda dialog: dialog.accept())  # "Désinscrire Yasmine ?"

    # Karim takes the only seat for Yasmine.
    ui.visit("/login")
    log_in(ui, FIRST_PARENT)
    enrol_from_the_catalogue(ui, "Inscrire", "enrolment-form-fr")
    expect(page.get_by_text("Inscription enregistrée pour Yasmine. Un e-mail")).to_be_visible()
    workshops = page.locator("#enrolments")
    expect(workshops.get_by_text("Inscrit", exact=True)).to_be_visible()
    expect(workshops.get_by_text("reste à payer : 800 MAD")).to_be_visible()
    ui.screenshot("enrolment-dashboard-enrolled-fr")
    mail = ui.wait_for_mail(FIRST_PARENT, "Inscription confirmée pour Yasmine : Robotique LEGO")
    assert "text/calendar" in mail or "Les séances" in mail
    log_out(ui)

    # Omar finds the group full: Ilyas joins the waiting list, first in line.
    ui.visit("/login")
    log_in(ui, SECOND_PARENT)
    enrol_from_the_catalogue(ui, "S'inscrire sur la liste d'attente", "enrolment-form-full-fr")
    expect(page.get_by_text("Le groupe est complet : Ilyas est n° 1")).to_be_visible()
    expect(page.locator("#enrolments").get_by_text("En liste d'attente · n° 1")).to_be_visible()
    ui.screenshot("enrolment-dashboard-waiting-fr")
    log_out(ui)

    # Karim withdraws Yasmine; the seat is offered to Ilyas at once.
    ui.visit("/login")
    log_in(ui, FIRST_PARENT)
    page.locator("#enrolments").get_by_role("button", name=re.compile("^Désinscrire")).click()
    ui.audit()
    expect(page.get_by_text("Désinscription enregistrée pour Yasmine.")).to_be_visible()
    log_out(ui)

    # Omar opens the link in the e-mail, logs in, and accepts.
    mail = ui.wait_for_mail(SECOND_PARENT, "/offers/")
    assert "Bonne nouvelle : une place se libère" in mail
    accept = next(link for link in links_in(mail) if "/offers/" in link)
    page.goto(accept)
    ui.audit()
    expect(page).to_have_url(re.compile(r"/login\?next=%2Foffers%2F"))
    log_in(ui, SECOND_PARENT)
    expect(page).to_have_url(re.compile(r"/offers/"))
    expect(page.get_by_text("Confirmez qu'Ilyas prend cette place.")).to_be_visible()
    ui.screenshot("enrolment-offer-fr")
    # The offer also waits on the family's page, with its deadline.
    ui.visit("/parent")
    expect(page.get_by_text("Une place se libère pour Ilyas en Robotique LEGO !")).to_be_visible()
    ui.screenshot("enrolment-dashboard-offer-fr")
    page.goto(accept)
    ui.audit()
    page.get_by_role("button", name="Accepter la place").click()
    ui.audit()
    expect(page.get_by_text("Ilyas a sa place : bienvenue dans le groupe !")).to_be_visible()
    expect(page.locator("#enrolments").get_by_text("Inscrit", exact=True)).to_be_visible()

    # The same link cannot be used twice.
    page.goto(accept)
    ui.audit()
    expect(page.get_by_text("Ilyas a déjà cette place : rien de plus à faire.")).to_be_visible()

    # The family's pages in Arabic, right to left.
    page.get_by_role("button", name="العربية").click()
    ui.audit()
    ui.visit("/parent")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", name="التسجيلات", exact=True)).to_be_visible()
    expect(page.locator("#enrolments").get_by_text("مسجل", exact=True)).to_be_visible()
    ui.screenshot("enrolment-dashboard-ar")
    ui.visit(f"/cohorts/{cohort_id}/enrol")
    expect(page.get_by_text("سبق تسجيل Ilyas في هذه المجموعة.")).to_be_visible()
    ui.screenshot("enrolment-form-ar")
    log_out(ui)

    # The coordinator sees the roster and the history.
    ui.visit("/login")
    page.get_by_role("button", name="Français").click()
    ui.audit()
    log_in(ui, COORDINATOR)
    ui.visit(f"/coordinator/cohorts/{cohort_id}")
    page.get_by_role("link", name="Liste des inscrits, liste d'attente et paiements").click()
    ui.audit()
    expect(page.get_by_text("Inscrits (1)")).to_be_visible()
    expect(page.get_by_role("cell", name="Ilyas Tazi", exact=True)).to_be_visible()
    expect(page.get_by_text("Désinscription par la famille")).to_be_visible()
    ui.screenshot("enrolment-roster-fr")
