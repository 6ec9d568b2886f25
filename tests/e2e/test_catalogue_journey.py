"""Journey: a coordinator creates a room, a course and a cohort; families find it in the public
catalogue, in French and in Arabic."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from lms.accounts.services import create_user
from lms.clock import local_today
from lms.courses.timetables import week_start
from lms.extensions import db
from tests.conftest import PASSWORD

COORDINATOR = "coordination@activelabs.ma"


def _staff(app) -> None:
    with app.app_context():
        create_user(
            full_name="Fatima Zahra El Amrani",
            email=COORDINATOR,
            role="coordinator",
            password=PASSWORD,
        )
        create_user(
            full_name="Youssef Benali",
            email="youssef.benali@activelabs.ma",
            role="instructor",
            password=PASSWORD,
        )
        db.session.commit()


def test_a_new_cohort_reaches_the_catalogue_in_french_and_arabic(ui, live_app):
    _staff(live_app)
    with live_app.app_context():
        start = week_start(local_today()) + timedelta(weeks=2)  # a Monday
    end = start + timedelta(weeks=8)

    page = ui.visit("/login")
    page.get_by_label("Adresse e-mail").fill(COORDINATOR)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()

    # A room.
    nav = page.get_by_role("navigation", name="Menu principal")
    nav.get_by_text("Gestion").click()  # the lab's set-up is in a menu
    nav.get_by_role("link", name="Salles").click()
    ui.audit()
    page.get_by_role("link", name="Nouvelle salle").click()
    ui.audit()
    page.get_by_label("Nom", exact=True).fill("Salle Ada Lovelace")
    page.get_by_label("Capacité (enfants)").fill("14")
    page.get_by_role("button", name="Enregistrer la salle").click()
    ui.audit()
    expect(page.get_by_text("La salle Salle Ada Lovelace est enregistrée.")).to_be_visible()

    # A course, in French with an Arabic title.
    nav.get_by_text("Gestion").click()
    page.keyboard.press("Escape")  # closes the menu (and a click elsewhere would)
    expect(nav.get_by_role("link", name="Cours", exact=True)).to_be_hidden()
    nav.get_by_text("Gestion").click()
    nav.get_by_role("link", name="Cours", exact=True).click()
    ui.audit()
    page.get_by_role("link", name="Nouveau cours").click()
    ui.audit()
    page.get_by_label("Titre en français").fill("Robotique LEGO")
    page.get_by_label("Résumé en français").fill(
        "Construire et programmer des robots LEGO qui suivent une ligne."
    )
    page.get_by_label("Titre en arabe").fill("روبوتات ليغو")
    page.get_by_label("Résumé en arabe").fill("بناء روبوتات ليغو وبرمجتها لتتبع خطًا.")
    page.get_by_label("Filière").select_option(label="Robotique")
    page.get_by_label("Âge minimum").fill("8")
    page.get_by_label("Âge maximum").fill("11")
    page.get_by_label("Prix (MAD)").fill("800")
    page.get_by_label("Publié au catalogue").check()
    page.get_by_role("button", name="Enregistrer le cours").click()
    ui.audit()
    expect(page.get_by_text("Le cours Robotique LEGO est enregistré.")).to_be_visible()

    # A cohort: a capacity above the room's is refused with a clear message, nothing lost.
    page.get_by_role("link", name="Nouvelle cohorte — Robotique LEGO").click()
    ui.audit()
    expect(page.get_by_label("Cours", exact=True)).to_have_value(re.compile(r"\d+"))
    page.get_by_label("Capacité (enfants)").fill("20")
    page.get_by_label("Premier jour").fill(start.isoformat())
    page.get_by_label("Dernier jour").fill(end.isoformat())
    page.get_by_label("mercredi").check()
    page.get_by_label("samedi").check()
    page.get_by_label("Heure de début").fill("14:30")
    page.get_by_label("Statut").select_option(label="Inscriptions ouvertes")
    page.get_by_role("button", name="Enregistrer la cohorte").click()
    ui.audit()
    expect(page.get_by_text("Salle Ada Lovelace accueille 14 enfants")).to_be_visible()
    expect(page.get_by_label("mercredi")).to_be_checked()
    expect(page.get_by_label("Heure de début")).to_have_value("14:30")
    page.get_by_label("Capacité (enfants)").fill("12")
    page.get_by_role("button", name="Enregistrer la cohorte").click()
    ui.audit()
    # Eight weeks of Wednesdays and Saturdays (no closure in this database).
    expect(page.get_by_text("La cohorte est enregistrée avec 16 séances.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Robotique LEGO")
    ui.screenshot("cohort-detail-fr")

    nav.get_by_role("link", name="Emploi du temps").click()
    ui.audit()
    page.get_by_label("Semaine du", exact=True).fill((start + timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Afficher").click()
    ui.audit()
    expect(page.get_by_text("2 séances cette semaine.")).to_be_visible()
    ui.screenshot("timetable-fr")

    # Families see it in the public catalogue, without logging in.
    page.get_by_role("button", name="Se déconnecter").click()
    ui.audit()
    page.get_by_role("link", name="Catalogue").click()
    ui.audit()
    expect(page.get_by_role("heading", name="Ateliers ouverts aux inscriptions")).to_be_visible()
    card = page.locator(".cohort-card").filter(has_text="Robotique LEGO")
    expect(card).to_contain_text("mercredi et samedi")
    expect(card).to_contain_text("14:30–16:00")
    expect(card).to_contain_text("12 places restantes")
    expect(card).to_contain_text("800\xa0MAD")
    expect(card).to_contain_text("Salle Ada Lovelace")
    ui.screenshot("catalogue-fr")

    # The filters narrow it down.
    page.get_by_label("Âge").fill("12")
    page.get_by_role("button", name="Afficher les groupes").click()
    ui.audit()
    expect(page.get_by_text("Aucun groupe ne correspond encore à ces filtres.")).to_be_visible()
    page.get_by_label("Âge").fill("9")
    page.get_by_label("Jour", exact=True).select_option(label="samedi")
    page.get_by_role("button", name="Afficher les groupes").click()
    ui.audit()
    expect(page.locator(".cohort-card")).to_have_count(1)

    # In Arabic: right to left, the course's Arabic title.
    page.get_by_role("button", name="العربية").click()
    ui.audit()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("ورشات مفتوحة للتسجيل")
    card = page.locator(".cohort-card")
    expect(card).to_contain_text("روبوتات ليغو")
    expect(card).to_contain_text("المقاعد المتبقية: 12")
    ui.screenshot("catalogue-ar")
    card.get_by_role("link", name="روبوتات ليغو", exact=True).click()
    ui.audit()
    expect(page.get_by_role("heading", level=1)).to_have_text("روبوتات ليغو")
    expect(page.get_by_text("بناء روبوتات ليغو وبرمجتها لتتبع خطًا.")).to_be_visible()
    ui.screenshot("course-page-ar")

    # The calendar file is one click away.
    with page.expect_response(re.compile(r"/calendar\.ics$")) as feed:
        page.evaluate(
            "url => fetch(url)", page.locator("a[href$='calendar.ics']").first.get_attribute("href")
        )
    assert feed.value.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "TZID=Africa/Casablanca" in feed.value.text()
