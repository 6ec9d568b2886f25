"""Journey: the coordinator opens the dashboard, follows the at-risk link, writes to the
families of the cohort; the message leaves through the outbox (the mail log) and shows on the
parent's dashboard. The dashboard in French and in Arabic (its charts mirrored)."""

from __future__ import annotations

from datetime import time, timedelta

from playwright.sync_api import expect

from lms.accounts.services import create_user
from lms.attendance.models import AttendanceMark
from lms.clock import local_instant, local_today
from lms.courses.cohorts import CohortPlan, create_cohort
from lms.courses.scheduling import create_room
from lms.courses.terms import term_of
from lms.database import utcnow
from lms.extensions import db
from tests import builders
from tests.conftest import PASSWORD

COORDINATOR = "coordination@activelabs.ma"
PARENT = "karim.alaoui@example.ma"
OTHER_PARENT = "nadia.bennani@example.ma"
SUBJECT = "Sortie au salon de la robotique"


def _world(app) -> int:
    """A robotics cohort under way this term: Yasmine attends, Adam keeps missing lessons."""
    with app.app_context():
        coordinator = create_user(
            full_name="Fatima Zahra El Amrani", email=COORDINATOR, role="coordinator",
            password=PASSWORD,
        )  # fmt: skip
        lead = create_user(
            full_name="Youssef Benali", email="youssef.benali@activelabs.ma", role="instructor",
            password=PASSWORD,
        )  # fmt: skip
        karim = create_user(
            full_name="Karim Alaoui", email=PARENT, role="parent", password=PASSWORD, locale="fr"
        )
        nadia = create_user(
            full_name="Nadia Bennani", email=OTHER_PARENT, role="parent", password=PASSWORD,
            locale="ar",
        )  # fmt: skip
        today = local_today()
        start = max(term_of(today).starts_on, today - timedelta(weeks=5))
        room = create_room(actor=coordinator, name="Atelier Al-Jazari", capacity=12)
        course = builders.robotics_course(coordinator, price_centimes=80000)
        cohort = create_cohort(
            CohortPlan(
                course=course,
                room=room,
                lead=lead,
                start_date=start,
                end_date=start + timedelta(weeks=9),
                weekdays=[start.weekday()],
                start_time=time(0, 30),  # over by the time the tests run, whatever the hour
            ),
            actor=coordinator,
            status="open",
            allow_past=True,
        )
        born = start.replace(year=start.year - 9, day=1)
        children = {}
        for guardian, first, first_ar in ((nadia, "Yasmine", "ياسمين"), (karim, "Adam", "آدم")):
            children[first] = builders.child(
                guardian, first, "Alaoui", first_name_ar=first_ar, date_of_birth=born
            )
        joined = local_instant(start, time(0)) - timedelta(days=7)
        for child in children.values():
            builders.enrol(child.id, cohort.id, at=joined, fee_centimes=80000)
        now = utcnow()
        for lesson in cohort.lessons:
            if lesson.ends_at < now:
                for first, status in (("Yasmine", "present"), ("Adam", "absent")):
                    db.session.add(
                        AttendanceMark(
                            lesson_id=lesson.id, child_id=children[first].id, status=status
                        )
                    )
        db.session.commit()
        return cohort.id


def _log_in(ui, email: str) -> None:
    page = ui.visit("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    ui.audit()


def test_dashboard_at_risk_message_and_parent(ui, live_app):
    cohort_id = _world(live_app)
    page = ui.page

    _log_in(ui, COORDINATOR)
    ui.visit("/coordinator")
    expect(page.locator("svg.chart")).to_have_count(4)
    ui.screenshot("operations-dashboard-fr")

    page.locator('.figures a[href*="/coordinator/reports/at-risk"]').click()
    ui.audit()
    expect(page.locator("main table").get_by_text("Adam Alaoui")).to_be_visible()
    expect(page.locator("main table").get_by_text("Yasmine Alaoui")).to_have_count(0)

    page.locator(f'main table a[href="/coordinator/cohorts/{cohort_id}"]').click()
    ui.audit()
    page.locator(f'a[href*="/messages/new?cohort_id={cohort_id}"]').click()
    ui.audit()
    page.locator("input[name=subject]").fill(SUBJECT)
    page.locator("textarea[name=body]").fill(
        "Samedi, le groupe visite le salon : https://www.technopark.ma/salon\n"
        "<script>alert('non')</script>"
    )
    page.locator("input[name=preview]").click()
    ui.audit()
    expect(page.locator(".email-preview")).to_contain_text("Bonjour")
    expect(page.locator(".message-preview")).to_contain_text("2")
    page.locator("input[name=send]").click()
    ui.audit()
    expect(page.locator(".message-body a[rel='noopener nofollow']")).to_have_attribute(
        "href", "https://www.technopark.ma/salon"
    )
    expect(page.locator(".message-body")).to_contain_text("<script>")

    mail = ui.wait_for_mail(PARENT, SUBJECT)
    assert "Bonjour Karim Alaoui" in mail
    assert "https://www.technopark.ma/salon" in mail
    assert "Nadia Bennani" in ui.wait_for_mail(OTHER_PARENT, SUBJECT)

    page.locator("button[name=language][value=ar]").first.click()
    ui.visit("/coordinator")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator('svg.chart[direction="rtl"]')).to_have_count(4)
    ui.screenshot("operations-dashboard-ar")
    page.locator("form[action='/logout'] button").click()
    ui.audit()

    _log_in(ui, PARENT)
    ui.visit("/parent")
    expect(page.get_by_text(SUBJECT)).to_be_visible()
    expect(page.locator(".message-body a")).to_have_attribute(
        "href", "https://www.technopark.ma/salon"
    )
    ui.screenshot("operations-parent-message-fr")
