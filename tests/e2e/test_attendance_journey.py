"""Journey on a phone: the instructor opens today's lesson, marks everyone present, then one
child late and one absent, saves, and checks a child out to her grandmother; the parent then
sees the marks. The roster and the parent's page in French and in Arabic."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from playwright.sync_api import expect

from lms.accounts.services import create_user
from lms.clock import local_today
from lms.courses.scheduling import create_room
from lms.extensions import db
from lms.families.children import save_health, set_photo_consent
from lms.families.contacts import Person, add_contact
from lms.families.models import ContactKind
from tests import builders
from tests.conftest import PASSWORD

INSTRUCTOR = "youssef.benali@activelabs.ma"
PARENT = "karim.alaoui@example.ma"
OTHER_PARENT = "omar.tazi@example.ma"


def _world(app) -> dict:
    """A cohort with a lesson that started ten minutes ago, and three children enrolled."""
    with app.app_context():
        coordinator = create_user(
            full_name="Fatima Zahra El Amrani",
            email="coordination@activelabs.ma",
            role="coordinator",
            password=PASSWORD,
        )
        lead = create_user(
            full_name="Youssef Benali", email=INSTRUCTOR, role="instructor", password=PASSWORD
        )
        karim = create_user(
            full_name="Karim Alaoui",
            email=PARENT,
            role="parent",
            password=PASSWORD,
            phone="+212612345601",
        )
        omar = create_user(
            full_name="Omar Tazi", email=OTHER_PARENT, role="parent", password=PASSWORD
        )
        today = local_today()
        room = create_room(actor=coordinator, name="Salle Ada Lovelace", capacity=14)
        cohort, todays = builders.group_with_a_lesson_under_way(coordinator, room=room, lead=lead)
        born = today.replace(year=today.year - 9, day=1)
        yasmine = builders.child(
            karim,
            "Yasmine",
            "Alaoui",
            first_name_ar="ياسمين",
            last_name_ar="العلوي",
            date_of_birth=born,
        )
        save_health(yasmine, actor=karim, consent=True, allergies="Arachides", medical_notes=None)
        set_photo_consent(yasmine, actor=karim, granted=True)
        add_contact(
            yasmine,
            actor=karim,
            kind=ContactKind.PICKUP,
            person=Person("Latifa Alaoui", "Grand-mère", "0661234590"),
        )
        adam = builders.child(
            karim,
            "Adam",
            "Alaoui",
            first_name_ar="آدم",
            last_name_ar="العلوي",
            date_of_birth=born.replace(year=born.year - 2),
            may_leave_alone=True,
        )
        rania = builders.child(
            omar,
            "Rania",
            "Tazi",
            first_name_ar="رانية",
            last_name_ar="التازي",
            date_of_birth=born,
            emergency_contact=Person("Omar Tazi", "Père", "0612345603"),
        )
        joined = datetime.combine(today - timedelta(days=20), time(9), tzinfo=UTC)
        for child in (yasmine, adam, rania):
            builders.enrol(child.id, cohort.id, at=joined)
        db.session.commit()
        return {"lesson": todays.id, "yasmine": yasmine.id, "adam": adam.id}


def _log_in(ui, email: str) -> None:
    page = ui.visit("/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()


def test_roll_call_on_a_phone_then_the_parent_sees_the_marks(phone_ui, live_app):
    ui = phone_ui
    ids = _world(live_app)
    _log_in(ui, INSTRUCTOR)
    page = ui.page

    # Today's lessons come first, with the number of children still to mark.
    today = page.locator("#today-lessons").locator("..")
    expect(today.get_by_text("3 enfants à pointer")).to_be_visible()
    ui.screenshot("attendance-instructor-home-fr")
    today.get_by_role("link", name="Robotique LEGO").click()
    ui.audit()
    expect(page).to_have_url(re.compile(rf"/attendance/lessons/{ids['lesson']}$"))
    expect(page.get_by_role("link", name=re.compile("^Allergie"))).to_be_visible()
    ui.screenshot("attendance-roster-empty-fr")

    # Everyone present in one tap (no round trip), then the exceptions.
    page.get_by_role("button", name="Tout le monde est présent").click()
    for name in ("Yasmine", "Adam", "Rania"):
        expect(page.get_by_role("radiogroup", name=name).get_by_label("Présent")).to_be_checked()
    expect(page.locator("[data-count=present]")).to_have_text("3")
    page.get_by_role("radiogroup", name="Adam").get_by_text("Retard").click()
    page.get_by_role("radiogroup", name="Rania").get_by_text("Absent").click()
    expect(page.locator("[data-count=present]")).to_have_text("1")
    ui.screenshot("attendance-roster-marked-fr")
    page.get_by_role("button", name="Enregistrer l'appel").click()
    ui.audit()
    expect(page.get_by_text("Appel enregistré : 3 présences modifiées.")).to_be_visible()
    expect(page.get_by_role("radiogroup", name="Adam").get_by_label("Retard")).to_be_checked()
    expect(page.get_by_role("radiogroup", name="Rania").get_by_label("Absent")).to_be_checked()

    # Check-out: Yasmine leaves with her grandmother; Adam is still there.
    checkout = page.locator("#checkout")
    expect(checkout.get_by_text("2 enfants pas encore récupérés.")).to_be_visible()
    checkout.get_by_label("Yasmine").select_option(label="Latifa Alaoui (Grand-mère)")
    checkout.get_by_role("button", name="Récupéré — Yasmine").click()
    ui.audit()
    expect(page.get_by_text("Départ de Yasmine enregistré.")).to_be_visible()
    expect(checkout.get_by_text("1 enfant pas encore récupéré.")).to_be_visible()
    expect(checkout.locator(".collected-list")).to_contain_text("Latifa Alaoui")
    ui.screenshot("attendance-roster-saved-fr")

    # The history of the roll call, and the cohort's grid.
    page.get_by_role("link", name="Historique de cet appel").click()
    ui.audit()
    expect(page.get_by_role("cell", name="Retard")).to_be_visible()
    page.get_by_role("link", name="Retour à l'appel").click()
    ui.audit()
    page.get_by_role("link", name="Présences du groupe").click()
    ui.audit()
    expect(page.get_by_role("row", name=re.compile("Rania Tazi"))).to_contain_text("A")
    ui.screenshot("attendance-grid-fr")
    page.go_back()

    # The same roster in Arabic, right to left.
    page.get_by_role("button", name="العربية").click()
    ui.audit()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("radiogroup", name="آدم").get_by_label("تأخر")).to_be_checked()
    ui.screenshot("attendance-roster-ar")
    page.get_by_role("button", name="Français").click()
    page.get_by_text("Menu", exact=True).click()  # on a phone the menu is folded
    page.get_by_role("button", name="Se déconnecter").click()
    # An instructor's logout first looks for roll-call changes still on the phone, so the
    # page leaves a moment after the click.
    page.wait_for_url("**/login")
    ui.audit()

    # Rania's father was told the same day.
    mail = ui.wait_for_mail(OTHER_PARENT, "Absence de Rania aujourd'hui")
    assert "Robotique LEGO" in mail

    # The parent sees the marks.
    _log_in(ui, PARENT)
    page.get_by_role("link", name="Présences de Yasmine").click()
    ui.audit()
    expect(page.get_by_role("heading", name="Présences de Yasmine")).to_be_visible()
    expect(page.locator(".lesson-marks .badge.ok").first).to_have_text("Présent")
    ui.screenshot("attendance-parent-fr")
    page.goto(ui.url(f"/attendance/children/{ids['adam']}"))
    ui.audit()
    expect(page.locator(".lesson-marks").get_by_text("Retard")).to_be_visible()
    page.get_by_role("button", name="العربية").click()
    ui.audit()
    expect(page.locator(".lesson-marks").get_by_text("تأخر")).to_be_visible()
    ui.screenshot("attendance-parent-ar")

    # An absence reported ahead for next week's lesson.
    page.get_by_role("button", name="Français").click()
    page.goto(ui.url(f"/attendance/children/{ids['yasmine']}"))
    page.get_by_role("link", name=re.compile("^Signaler une absence")).first.click()
    ui.audit()
    page.get_by_label("Motif (facultatif)").fill("Rendez-vous chez le dentiste")
    page.get_by_role("button", name="Signaler l'absence").click()
    ui.audit()
    expect(page.get_by_text("les formateurs sauront que Yasmine ne viendra pas")).to_be_visible()
    expect(page.get_by_text("Absence signalée", exact=True)).to_be_visible()
