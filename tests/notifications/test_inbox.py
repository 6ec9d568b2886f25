"""The staff's inbox, through the real webhooks (signed payloads) and the local provider server:
a family's WhatsApp or SMS reply reaches the inbox attached to the family and to the message it
answers; staff answer it free-form inside 24 hours, with the template after; instructors see
their groups' families only; parents never reach it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select

from lms.database import utcnow
from lms.extensions import db
from lms.families.data_rights import account_erasure_preview, erase_account
from lms.messaging.models import REPLY_MAX, InboxReply
from lms.notifications import delivery
from lms.notifications.models import InboundMessage, OutboxMessage
from lms.roles import Role
from tests import builders
from tests.conftest import PASSWORD, get, login
from tests.notifications.test_channels import (
    MOBILE,
    opt_in,
    sms_post,
    tell_closure,
    whatsapp_post,
    whatsapp_text,
)


@pytest.fixture
def config_overrides(provider_config) -> dict:
    return provider_config


@dataclass
class World:
    family_id: int
    stranger_id: int
    lead_id: int
    outsider_id: int


@pytest.fixture
def world(app, coordinator, instructor, parent, make_user) -> World:
    """Karim's Yasmine is enrolled in the group Youssef leads; Salma's Adam is in another
    group, led by another instructor."""
    stranger = make_user(Role.PARENT, full_name="Salma Idrissi")
    outsider = make_user(Role.INSTRUCTOR, full_name="Omar Tazi")
    with app.app_context():
        from lms.courses.scheduling import create_room

        boss = get(coordinator)
        room = create_room(actor=boss, name="Salle Ada Lovelace", capacity=30)
        ours, _ = builders.group_with_a_lesson_under_way(boss, room=room, lead=get(instructor))
        kid = builders.written_child(parent.id, "Yasmine", "Alaoui", date_of_birth=date(2017, 3, 1))
        other = builders.written_child(
            stranger.id, "Adam", "Idrissi", date_of_birth=date(2017, 1, 9)
        )
        builders.enrol(kid.id, ours.id, at=utcnow())
        builders.finished_group(boss, ours.course, room=room, lead=get(outsider), children=[other])
        db.session.commit()
    return World(parent.id, stranger.id, instructor.id, outsider.id)


def browser(app, user):
    client = app.test_client()
    assert login(client, user).status_code == 302
    return client


def whatsapp_reply(app, client, parent, text="Merci, elle viendra mardi.") -> list[int]:
    """A closure went by WhatsApp (wamid.1); the parent answers it, quoting it."""
    with app.app_context():
        rows = tell_closure(opt_in(parent.id))
        delivery.deliver_due()
        db.session.rollback()
    assert whatsapp_post(client, whatsapp_text("wamid.reply", text, "wamid.1")).status_code == 200
    return rows


def outbox_replies(app) -> list[OutboxMessage]:
    with app.app_context():
        return db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "staff_reply")
            .order_by(OutboxMessage.id)
        ).all()


def test_a_whatsapp_reply_reaches_the_inbox_attached_to_the_family(
    app, client, world, parent, coordinator, provider
):
    rows = whatsapp_reply(app, client, parent)
    staff = browser(app, coordinator)
    listing = staff.get("/inbox/")
    assert listing.status_code == 200
    assert "Merci, elle viendra mardi." in listing.text
    assert "Karim Alaoui" in listing.text
    assert "Yasmine" in listing.text  # the child's name
    assert 'class="unread"' in listing.text
    assert f"/inbox/families/{parent.id}" in listing.text
    # The menu counts it.
    assert 'class="badge warn">1<' in staff.get("/coordinator").text
    with app.app_context():
        [reply] = db.session.scalars(select(InboundMessage)).all()
        assert reply.sender_user_id == parent.id
        assert reply.in_reply_to_id == rows[0]  # the closure it answers
    thread = staff.get(f"/inbox/families/{parent.id}")
    assert thread.status_code == 200
    assert "Merci, elle viendra mardi." in thread.text
    assert "Yasmine" in thread.text
    # Reading the thread writes nothing (GET); the button marks it read.
    assert staff.post(f"/inbox/families/{parent.id}/read").status_code == 303
    with app.app_context():
        read = db.session.scalars(select(InboundMessage)).one()
        assert read.read_at is not None
        assert read.read_by_id == coordinator.id
    assert 'class="unread"' not in staff.get("/inbox/").text


def test_an_sms_reply_reaches_the_inbox_attached_to_the_family(
    app, client, world, parent, coordinator, provider
):
    with app.app_context():
        rows = tell_closure(opt_in(parent.id, urgent=("sms",)))
        delivery.deliver_due()
        db.session.rollback()
    params = {"MessageSid": "SMreply1", "From": MOBILE, "To": "+212600000000", "Body": "Bien reçu"}
    assert sms_post(client, params).status_code == 200
    with app.app_context():
        reply = db.session.scalars(select(InboundMessage)).one()
        assert (reply.channel, reply.sender_user_id, reply.in_reply_to_id) == (
            "sms",
            parent.id,
            rows[0],
        )
    listing = browser(app, coordinator).get("/inbox/")
    assert "Bien reçu" in listing.text
    assert "Karim Alaoui" in listing.text


def test_a_reply_within_24_hours_goes_free_form_and_after_as_the_template(
    app, client, world, parent, coordinator, provider
):
    whatsapp_reply(app, client, parent)
    staff = browser(app, coordinator)
    page = staff.get(f"/inbox/families/{parent.id}")
    assert "24" in page.text
    response = staff.post(
        f"/inbox/families/{parent.id}", data={"body": "Très bien,\nà mardi !", "send": "1"}
    )
    assert response.status_code == 302
    [first] = outbox_replies(app)
    assert (first.channel, first.status, first.provider_template) == ("whatsapp", "pending", None)
    with app.app_context():
        delivery.deliver_due()
    sent = provider.whatsapp[-1]
    assert sent["type"] == "text"
    assert sent["text"]["body"] == "Très bien,\nà mardi !"
    with app.app_context():
        [answer] = db.session.scalars(select(InboxReply)).all()
        assert (answer.free_form, answer.author_id, answer.outbox_message_id) == (
            True,
            coordinator.id,
            first.id,
        )
        assert db.session.scalars(select(InboundMessage)).one().answered_at is not None
    # A day and an hour later the window has closed: the reply template, with the text.
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        page = staff.get(f"/inbox/families/{parent.id}")
        assert "template" in page.text or "modèle" in page.text
        response = staff.post(
            f"/inbox/families/{parent.id}", data={"body": "Le cours reprend lundi.", "send": "1"}
        )
        assert response.status_code == 302
        with app.app_context():
            delivery.deliver_due()
    second = outbox_replies(app)[-1]
    assert second.provider_template == "lms_staff_reply"
    sent = provider.whatsapp[-1]
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "lms_staff_reply"
    assert sent["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Le cours reprend lundi."}
    ]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("", "required"),
        ("   \n ", "required"),
        ("x" * (REPLY_MAX + 1), "long"),
        ("x" * 5000, "long"),
    ],
)
def test_an_empty_or_too_long_reply_is_refused_clearly(
    app, client, world, parent, coordinator, provider, body, why
):
    whatsapp_reply(app, client, parent)
    staff = browser(app, coordinator)
    response = staff.post(f"/inbox/families/{parent.id}", data={"body": body, "send": "1"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    if why == "long":
        assert str(REPLY_MAX) in response.text
    assert outbox_replies(app) == []


def test_instructors_see_their_groups_families_only(
    app, client, world, parent, instructor, make_user, provider
):
    whatsapp_reply(app, client, parent)
    lead = browser(app, instructor)
    assert "Merci, elle viendra mardi." in lead.get("/inbox/").text
    assert lead.get(f"/inbox/families/{parent.id}").status_code == 200
    response = lead.post(f"/inbox/families/{parent.id}", data={"body": "À mardi.", "send": "1"})
    assert response.status_code == 302
    assert len(outbox_replies(app)) == 1

    with app.app_context():
        outsider = db.session.get(type(get(instructor)), world.outsider_id)
        db.session.expunge(outsider)
    other = browser(app, outsider)
    listing = other.get("/inbox/")
    assert listing.status_code == 200
    assert "Merci, elle viendra mardi." not in listing.text
    assert other.get(f"/inbox/families/{parent.id}").status_code == 404
    assert (
        other.post(f"/inbox/families/{parent.id}", data={"body": "Hop", "send": "1"}).status_code
        == 404
    )
    assert other.post(f"/inbox/families/{parent.id}/read").status_code == 404
    assert len(outbox_replies(app)) == 1


def test_parents_never_reach_the_inbox(app, client, world, parent):
    family = browser(app, parent)
    assert family.get("/inbox/").status_code == 403
    assert family.get(f"/inbox/families/{parent.id}").status_code == 403
    assert family.post(f"/inbox/families/{parent.id}", data={"body": "x"}).status_code == 403


def test_a_family_that_said_stop_cannot_be_answered_on_that_channel(
    app, client, world, parent, coordinator, provider
):
    whatsapp_reply(app, client, parent)
    whatsapp_post(client, whatsapp_text("wamid.stop", "STOP"))
    staff = browser(app, coordinator)
    response = staff.post(f"/inbox/families/{parent.id}", data={"body": "Bonjour", "send": "1"})
    assert response.status_code == 422
    assert outbox_replies(app) == []


def test_a_family_writing_first_is_recognised_by_its_consent(
    app, client, world, parent, coordinator, provider
):
    with app.app_context():
        opt_in(parent.id, urgent=("sms",))  # nothing was ever sent to the number
    params = {"MessageSid": "SMfirst", "From": MOBILE, "To": "+212600000000", "Body": "Bonjour"}
    assert sms_post(client, params).status_code == 200
    unknown = {"MessageSid": "SMunknown", "From": "+212699999999", "Body": "Qui êtes-vous ?"}
    assert sms_post(client, unknown).status_code == 200
    with app.app_context():
        first, stranger = db.session.scalars(
            select(InboundMessage).order_by(InboundMessage.id)
        ).all()
        assert (first.sender_user_id, first.in_reply_to_id) == (parent.id, None)
        assert stranger.sender_user_id is None
    staff = browser(app, coordinator)
    listing = staff.get("/inbox/")
    assert "Karim Alaoui" in listing.text
    assert "Qui êtes-vous ?" in listing.text  # listed, though it belongs to no family
    response = staff.post(f"/inbox/families/{parent.id}", data={"body": "Bonjour !", "send": "1"})
    assert response.status_code == 302
    [answer] = outbox_replies(app)
    assert (answer.channel, answer.recipient) == ("sms", MOBILE)
    with app.app_context():
        delivery.deliver_due()
    assert provider.sms[-1]["Body"] == "Bonjour !"


def test_an_erased_account_takes_its_messages_and_their_answers_but_not_its_stop(
    app, client, world, parent, coordinator, provider
):
    whatsapp_reply(app, client, parent)
    staff = browser(app, coordinator)
    staff.post(f"/inbox/families/{parent.id}", data={"body": "Très bien !", "send": "1"})
    whatsapp_post(client, whatsapp_text("wamid.stop", "STOP"))
    with app.app_context():
        assert db.session.scalars(select(InboxReply)).all()
        told = [str(line) for line in account_erasure_preview(get(parent)).from_other_domains]
        assert "Vos messages WhatsApp et SMS au lab, et ses réponses, sont effacés." in told
        erase_account(get(parent), password=PASSWORD)
        db.session.commit()
        assert db.session.scalars(select(InboxReply)).all() == []
        [kept] = db.session.scalars(select(InboundMessage)).all()
        assert kept.opt_out  # the proof that the number said stop
    assert "Merci, elle viendra mardi." not in staff.get("/inbox/").text
