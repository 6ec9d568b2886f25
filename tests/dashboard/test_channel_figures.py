"""The coordinator's dashboard counts the outbox per channel, and lists the families an urgent
message reached on no channel."""

from __future__ import annotations

from datetime import date

import pytest

from lms.extensions import db
from lms.notifications.delivery import channel_figures
from lms.notifications.models import OutboxMessage
from lms.roles import Role
from tests import builders


def _row(key, rank, channel, status, *, urgent=True, user_id=None, subject="") -> OutboxMessage:
    row = OutboxMessage(
        channel=channel,
        recipient="+212612345678" if channel != "email" else "famille@example.ma",
        recipient_user_id=user_id,
        template="lesson_cancelled",
        language="fr",
        subject=subject,
        body="Active Labs : la séance est annulée pour Yasmine.",
        status=status,
        message_key=key,
        fallback_rank=rank,
        urgent=urgent,
    )
    db.session.add(row)
    return row


@pytest.fixture
def outbox(app, parent, make_user):
    """A known outbox: two urgent messages that reached no one (one first tried by WhatsApp,
    one by e-mail alone), one that reached by SMS after WhatsApp failed, one still on its way,
    and routine e-mails."""
    other = make_user(Role.PARENT, full_name="Salma Idrissi")
    with app.app_context():
        builders.written_child(parent.id, "Yasmine", "Alaoui", date_of_birth=date(2017, 3, 1))
        # 1. Reached no one: WhatsApp failed, SMS failed, e-mail failed.
        _row("a", 0, "whatsapp", "failed", user_id=parent.id)
        _row("a", 1, "sms", "failed", user_id=parent.id)
        _row("a", 2, "email", "failed", user_id=parent.id, subject="Séance annulée")
        # 2. Reached by SMS after WhatsApp failed; the e-mail was not needed.
        _row("b", 0, "whatsapp", "failed", user_id=parent.id)
        _row("b", 1, "sms", "delivered", user_id=parent.id)
        _row("b", 2, "email", "skipped", user_id=parent.id)
        # 3. Still on its way: WhatsApp sent, SMS held.
        _row("c", 0, "whatsapp", "sent", user_id=other.id)
        _row("c", 1, "sms", "held", user_id=other.id)
        # 4. E-mail alone, failed: not reached.
        _row("d", 0, "email", "failed", user_id=other.id, subject="Place offerte")
        # Routine e-mails: sent, and one failed (not urgent: never "not reached").
        _row(None, 0, "email", "sent", urgent=False)
        _row(None, 0, "email", "sent", urgent=False)
        _row(None, 0, "email", "failed", urgent=False)
        db.session.commit()
    return other


def test_the_figures_count_the_outbox_per_channel(app, outbox):
    with app.app_context():
        assert channel_figures() == {
            "email": {"sent": 2, "delivered": 0, "failed": 3, "not_reached": 1},
            "whatsapp": {"sent": 1, "delivered": 0, "failed": 2, "not_reached": 1},
            "sms": {"sent": 0, "delivered": 1, "failed": 1, "not_reached": 0},
        }


def test_the_dashboard_shows_the_table_and_the_list_behind_it(
    client, login_as, coordinator, parent, outbox
):
    login_as(coordinator)
    page = client.get("/coordinator")
    assert page.status_code == 200
    assert 'id="channel-whatsapp"' in page.text
    assert "/coordinator/not-reached?channel=whatsapp" in page.text
    listing = client.get("/coordinator/not-reached")
    assert listing.status_code == 200
    assert listing.text.count("<tr>") == 1 + 2  # the head, two families
    assert "Karim Alaoui" in listing.text
    assert "Yasmine" in listing.text
    assert "Salma Idrissi" in listing.text
    assert "Place offerte" in listing.text
    only_whatsapp = client.get("/coordinator/not-reached?channel=whatsapp")
    assert "Karim Alaoui" in only_whatsapp.text
    assert "Salma Idrissi" not in only_whatsapp.text
    assert client.get("/coordinator/not-reached?channel=pigeon").status_code == 200


@pytest.mark.parametrize("role", [Role.PARENT, Role.INSTRUCTOR])
def test_only_coordinators_see_who_was_not_reached(client, login_as, make_user, role):
    login_as(make_user(role))
    assert client.get("/coordinator/not-reached").status_code == 403


def test_an_empty_outbox_shows_zeros(client, login_as, coordinator):
    login_as(coordinator)
    listing = client.get("/coordinator/not-reached")
    assert listing.status_code == 200
    assert '<td colspan="5">' in listing.text
    assert ">0</td>" in client.get("/coordinator").text
