"""Journey: the coordinator issues a finished cohort's certificates; a parent downloads one;
a visitor opens the verification address (the QR code's target) and sees "valid"."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from lms.accounts.services import create_user
from lms.attendance.models import AttendanceMark
from lms.certificates.models import Certificate
from lms.courses.models import Lesson
from lms.courses.scheduling import create_room
from lms.extensions import db
from lms.families.contacts import Person
from tests import builders
from tests.conftest import PASSWORD

COORDINATOR = "coordination@activelabs.ma"
PARENT = "nadia.bennani@example.ma"


def _finished_cohort(app) -> int:
    """A robotics cohort that ended in June, two children who attended every lesson."""
    with app.app_context():
        coordinator = create_user(
            full_name="Fatima Zahra El Amrani",
            email=COORDINATOR,
            role="coordinator",
            password=PASSWORD,
        )
        lead = create_user(
            full_name="Youssef Benali",
            email="youssef.benali@activelabs.ma",
            role="instructor",
            password=PASSWORD,
        )
        nadia = create_user(
            full_name="Nadia Bennani",
            email=PARENT,
            role="parent",
            password=PASSWORD,
            locale="fr",
        )
        room = create_room(actor=coordinator, name="Atelier Al-Jazari", capacity=12)
        course = builders.robotics_course(coordinator)
        contact = Person("Omar Bennani", "Père", "0612345603")
        children = [
            builders.child(
                nadia,
                "Rim",
                "Bennani",
                first_name_ar="ريم",
                last_name_ar="بناني",
                date_of_birth=date(2017, 9, 9),
                emergency_contact=contact,
            ),
            builders.child(
                nadia, "Ilyas", "Bennani", date_of_birth=date(2016, 2, 2), emergency_contact=contact
            ),
        ]
        cohort, _ = builders.finished_group(
            coordinator, course, room=room, lead=lead, children=children
        )
        for lesson in db.session.scalars(select(Lesson).where(Lesson.cohort_id == cohort.id)):
            for child in children:
                db.session.add(
                    AttendanceMark(lesson_id=lesson.id, child_id=child.id, status="present")
                )
        db.session.commit()
        return cohort.id


def _log_in(ui, email: str) -> None:
    page = ui.visit("/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    ui.audit()


def test_issue_download_and_verify(ui, live_app):
    cohort_id = _finished_cohort(live_app)
    page = ui.page

    _log_in(ui, COORDINATOR)
    ui.visit(f"/coordinator/cohorts/{cohort_id}/certificates")
    expect(page.get_by_text("2 enfants remplissent les conditions.")).to_be_visible()
    page.get_by_role("button", name="Délivrer les certificats").click()
    ui.audit()
    expect(page.get_by_text("Certificats délivrés : 2.")).to_be_visible()
    ui.screenshot("certificates-cohort-fr")
    page.get_by_role("button", name="Se déconnecter").click()
    ui.audit()

    mail = ui.wait_for_mail(PARENT, "Rim")
    assert "Félicitations" in mail

    _log_in(ui, PARENT)
    expect(page.get_by_role("heading", name="Certificats")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le PDF").first.click()
    download = download_info.value
    assert re.fullmatch(r"[A-Za-z0-9-]+-AL-[0-9A-Z-]+\.pdf", download.suggested_filename)
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    page.get_by_role("button", name="Se déconnecter").click()
    ui.audit()

    with live_app.app_context():
        url = db.session.scalars(select(Certificate)).first().data["verification_url"]
    path = "/" + url.split("/", 3)[3]  # the QR code's address, on this server
    for language, valid in (("fr", "Ce certificat est valide."), ("ar", "هذه الشهادة صالحة.")):
        ui.page.context.add_cookies([{"name": "lang", "value": language, "url": ui.base_url}])
        ui.visit(path)
        expect(page.get_by_text(valid)).to_be_visible()
        expect(page.get_by_text("Bennani", exact=False)).to_have_count(0)
        ui.screenshot(f"certificates-verify-{language}")
