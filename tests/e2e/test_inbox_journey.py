"""Journey: a family answered a closure by WhatsApp; the coordinator sees the unread count in
the menu, opens the inbox, reads the reply in the family's thread, answers it, and sees the
answer queued in the outbox (the mail log, WhatsApp not being live here)."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from lms.accounts.contact import save_contact_choices
from lms.accounts.services import create_user
from lms.database import utcnow
from lms.extensions import db
from lms.notifications.models import InboundMessage
from tests import builders
from tests.conftest import PASSWORD

COORDINATOR = "coordination@activelabs.ma"
MOBILE = "+212612345678"


def _world(app) -> int:
    with app.app_context():
        create_user(
            full_name="Fatima Zahra El Amrani", email=COORDINATOR, role="coordinator",
            password=PASSWORD,
        )  # fmt: skip
        karim = create_user(
            full_name="Karim Alaoui", email="karim.alaoui@example.ma", role="parent",
            password=PASSWORD, locale="fr",
        )  # fmt: skip
        builders.written_child(karim.id, "Yasmine", "Alaoui", date_of_birth=date(2017, 3, 1))
        save_contact_choices(
            karim, phone=MOBILE, chosen={"urgent": ["whatsapp"], "routine": ["email"]}, actor=karim
        )
        # What the signed webhook stores (tests/notifications/test_inbox.py goes through it).
        db.session.add(
            InboundMessage(
                channel="whatsapp",
                provider_message_id="wamid.e2e",
                sender=MOBILE,
                sender_user_id=karim.id,
                body="Yasmine sera absente samedi, elle est malade.",
                received_at=utcnow(),
            )
        )
        db.session.commit()
        return karim.id


def test_the_coordinator_reads_a_reply_and_answers_it(ui, live_app):
    family_id = _world(live_app)
    page = ui.visit("/login")
    page.locator("input[name=email]").fill(COORDINATOR)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    ui.audit()

    inbox_link = page.locator(".site-nav a[href='/inbox/']")
    expect(inbox_link).to_contain_text("1")  # one unread
    inbox_link.click()
    ui.audit()
    expect(page.locator("h1")).to_have_text("Boîte de réception")
    expect(page.locator("tr.unread")).to_contain_text("Yasmine sera absente samedi")
    page.get_by_role("link", name="Karim Alaoui").click()
    ui.audit()
    expect(page).to_have_url(ui.url(f"/inbox/families/{family_id}"))
    expect(page.locator(".thread")).to_contain_text("elle est malade")
    expect(page.locator("main")).to_contain_text("moins de 24 heures")

    page.get_by_label("Votre réponse").fill("Merci, bon rétablissement à Yasmine !")
    page.get_by_role("button", name="Envoyer la réponse").click()
    ui.audit()
    expect(page.locator("main")).to_contain_text("file d'attente")
    expect(page.locator(".thread-out")).to_contain_text("bon rétablissement")
    # Answering read the thread: nothing unread is left.
    expect(page.locator(".site-nav a[href='/inbox/'] .badge")).to_have_count(0)
    block = ui.wait_for_mail(MOBILE, "bon rétablissement")
    assert "Channel: whatsapp" in block
