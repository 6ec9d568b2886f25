"""WhatsApp and SMS beside e-mail, against a local server that speaks the WhatsApp Cloud API
and the Twilio REST API: consent, fallbacks, webhooks, STOP, replies, a worker killed mid-send."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.contact import consents_in_force, notify, save_contact_choices
from lms.accounts.models import ContactConsent, User
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.notifications import delivery
from lms.notifications.inbound import is_stop
from lms.notifications.models import InboundMessage, OutboxMessage
from lms.notifications.short import SHORT_MESSAGES, sms_segments
from lms.notifications.webhooks import twilio_signature, whatsapp_signature
from tests.notifications.conftest import APP_SECRET, SMS_TOKEN, VERIFY_TOKEN

MOBILE = "+212612345678"
LANDLINE = "+212539941234"  # Tangier


@pytest.fixture
def config_overrides(provider_config) -> dict:
    return provider_config


CLOSURE = {"child": "Yasmine", "group": "Robotique 1 (samedi)", "date": date(2026, 12, 12)}


def opt_in(user_id: int, urgent=("whatsapp", "sms"), routine=("email",)) -> User:
    user = db.session.get(User, user_id)
    save_contact_choices(
        user, phone=MOBILE, chosen={"urgent": urgent, "routine": routine}, actor=user
    )
    db.session.commit()
    return user


class Course:
    def title(self, language: str) -> str:
        return "Robotique 1"


# The e-mail's context, as plain values (the courses domain passes its models).
COHORT = SimpleNamespace(course=Course())
LESSON = SimpleNamespace(number=3, starts_at=datetime(2026, 12, 12, 9, 0, tzinfo=UTC), note=None)


def tell_closure(user: User) -> list[int]:
    rows = notify(
        user,
        "lesson_cancelled",
        short=CLOSURE | {"link": "http://localhost/lessons/1"},
        topic="cohort:1",
        cohort=COHORT,
        lesson=LESSON,
    )
    db.session.commit()
    return [row.id for row in rows]


def row(row_id: int) -> OutboxMessage:
    return db.session.get(OutboxMessage, row_id, populate_existing=True)


def statuses(ids: list[int]) -> list[tuple[str, str]]:
    return [(row(row_id).channel, row(row_id).status) for row_id in ids]


def whatsapp_post(client, payload: dict, *, secret: str | None = APP_SECRET):
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = whatsapp_signature(body, secret)
    return client.post("/webhooks/whatsapp", data=body, headers=headers)


def whatsapp_status(message_id: str, status: str) -> dict:
    value = {"statuses": [{"id": message_id, "status": status, "recipient_id": MOBILE[1:]}]}
    return {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}


def whatsapp_text(message_id: str, text: str, context_id: str | None = None) -> dict:
    message = {"from": MOBILE[1:], "id": message_id, "type": "text", "text": {"body": text}}
    if context_id:
        message["context"] = {"from": "212600000000", "id": context_id}
    value = {"messaging_product": "whatsapp", "messages": [message]}
    return {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}


def sms_post(client, params: dict, *, token: str = SMS_TOKEN):
    signature = twilio_signature("http://localhost/webhooks/sms", params, token)
    return client.post("/webhooks/sms", data=params, headers={"X-Twilio-Signature": signature})


# ---------------------------------------------------------------------------------------------
# Sending


def test_a_closure_reaches_an_opted_in_family_by_whatsapp(app, client, parent, provider):
    with app.app_context():
        rows = tell_closure(opt_in(parent.id))
        assert statuses(rows) == [("whatsapp", "pending"), ("sms", "held"), ("email", "held")]
        report = delivery.deliver_due()
        assert report.sent == 1
        [sent] = provider.whatsapp
        assert sent["to"] == MOBILE[1:]
        assert sent["type"] == "template"
        assert sent["template"]["name"] == "lms_lesson_cancelled"
        assert sent["template"]["language"] == {"code": "fr"}
        values = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
        assert values[:2] == ["Yasmine", "Robotique 1 (samedi)"]
        whatsapp = row(rows[0])
        assert whatsapp.provider_message_id == "wamid.1"
        assert whatsapp.consent_id == consents_in_force(parent)["whatsapp"].id
        db.session.rollback()
    # Meta reports it delivered (twice, as webhooks are retried): the fallbacks are dropped.
    for _ in range(2):
        assert whatsapp_post(client, whatsapp_status("wamid.1", "delivered")).status_code == 200
    with app.app_context():
        assert statuses(rows) == [
            ("whatsapp", "delivered"),
            ("sms", "skipped"),
            ("email", "skipped"),
        ]
        assert delivery.deliver_due().sent == 0
        assert provider.sms == []


def test_a_refused_whatsapp_falls_back_to_sms(app, parent, provider):
    provider.fail_whatsapp = True
    with app.app_context():
        rows = tell_closure(opt_in(parent.id))
        first = delivery.deliver_due()
        assert (first.failed, first.sent) == (1, 0)
        assert statuses(rows) == [("whatsapp", "failed"), ("sms", "pending"), ("email", "held")]
        assert delivery.deliver_due().sent == 1
        [sms] = provider.sms
        assert sms["To"] == MOBILE
        assert sms["From"] == "+212600000000"
        assert "Yasmine" in sms["Body"]
        assert "Robotique 1" in sms["Body"]
        assert sms["StatusCallback"] == "http://localhost/webhooks/sms"
        # The e-mail waits for the SMS's delivery report (or its timeout).
        assert statuses(rows) == [("whatsapp", "failed"), ("sms", "sent"), ("email", "held")]
        assert row(rows[1]).provider_message_id.startswith("SM")


def test_a_whatsapp_not_delivered_in_time_goes_by_sms_once(app, parent, provider):
    with app.app_context():
        rows = tell_closure(opt_in(parent.id))
        delivery.deliver_due()
        late = utcnow() + timedelta(seconds=app.config["WHATSAPP_DELIVERY_TIMEOUT_SECONDS"] + 5)
        with time_machine.travel(late, tick=False):
            assert delivery.deliver_due().sent == 1
            assert delivery.deliver_due().sent == 0  # released once, not the e-mail next
        assert statuses(rows) == [("whatsapp", "sent"), ("sms", "sent"), ("email", "held")]
        assert len(provider.sms) == 1


def test_an_sms_reported_undelivered_releases_the_email(app, client, parent, provider):
    with app.app_context():
        rows = tell_closure(opt_in(parent.id, urgent=("sms",)))
        delivery.deliver_due()
        sid = row(rows[0]).provider_message_id
        db.session.rollback()
    for _ in range(2):
        response = sms_post(client, {"MessageSid": sid, "MessageStatus": "undelivered"})
        assert response.status_code == 200
    with app.app_context():
        assert statuses(rows) == [("sms", "failed"), ("email", "pending")]


def test_nothing_goes_to_a_number_without_consent(app, parent, provider):
    with app.app_context():
        user = db.session.get(User, parent.id)
        rows = tell_closure(user)
        assert statuses(rows) == [("email", "pending")]  # no consent: e-mail alone
        user = opt_in(parent.id, urgent=("whatsapp",))
        rows = tell_closure(user)
        consent = consents_in_force(user)["whatsapp"]
        consent.withdrawn_at = utcnow()  # withdrawn after the message was written
        db.session.commit()
        report = delivery.deliver_due()
        assert provider.whatsapp == []
        assert report.skipped == 1
        delivery.deliver_due()  # the fallback released, on the worker's next round
        # The e-mail of the withdrawn message left; the other message's e-mail too.
        assert statuses(rows) == [("whatsapp", "skipped"), ("email", "sent")]


def test_a_killed_worker_sends_nothing_twice(app, parent, provider):
    with app.app_context():
        rows = tell_closure(opt_in(parent.id))
        other = tell_closure(db.session.get(User, parent.id))
        # A worker claims the batch, starts the first message, and is killed before recording.
        whatsapp = row(rows[0])
        now = utcnow()
        for claimed in (whatsapp, row(other[0])):
            claimed.claimed_until = now + delivery.CLAIM_LEASE
        whatsapp.attempt_started_at = now
        db.session.commit()
        assert delivery.deliver_due().sent == 0  # the lease holds: nobody else sends them
        after_lease = now + delivery.CLAIM_LEASE + timedelta(seconds=1)
        with time_machine.travel(after_lease, tick=False):
            report = delivery.deliver_due()
        # The interrupted one is never sent again (it may have left); its SMS takes over; the
        # message the dead worker had not started goes once.
        assert statuses(rows)[:2] == [("whatsapp", "failed"), ("sms", "sent")]
        assert "interrupted" in row(rows[0]).last_error
        assert statuses(other)[0] == ("whatsapp", "sent")
        assert report.sent == 2
        assert len(provider.whatsapp) == 1


# ---------------------------------------------------------------------------------------------
# Webhooks


def test_whatsapp_verification_handshake(client):
    good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "12345"}
    response = client.get("/webhooks/whatsapp", query_string=good)
    assert (response.status_code, response.text) == (200, "12345")
    wrong = good | {"hub.verify_token": "guess"}
    assert client.get("/webhooks/whatsapp", query_string=wrong).status_code == 403


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_unsigned_or_badly_signed_whatsapp_calls_change_nothing(app, client, secret):
    response = whatsapp_post(client, whatsapp_text("wamid.in1", "Bonjour"), secret=secret)
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0


def test_a_badly_signed_sms_call_changes_nothing(app, client):
    params = {"MessageSid": "SMin1", "From": MOBILE, "Body": "STOP"}
    assert sms_post(client, params, token="wrong").status_code == 403
    assert client.post("/webhooks/sms", data=params).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0


@pytest.mark.parametrize("word", ["STOP", "Arrêt", "توقف", " stop! "])
def test_stop_opts_the_number_out_and_is_confirmed_once(app, client, parent, provider, word):
    with app.app_context():
        rows = tell_closure(opt_in(parent.id))
        delivery.deliver_due()
        db.session.rollback()
    for _ in range(2):  # Meta delivers the same event again
        response = whatsapp_post(client, whatsapp_text("wamid.stop", word, "wamid.1"))
        assert response.status_code == 200
    # Another STOP later: the number is already out; no second confirmation.
    whatsapp_post(client, whatsapp_text("wamid.stop2", word))
    with app.app_context():
        user = db.session.get(User, parent.id)
        assert "whatsapp" not in consents_in_force(user)
        assert "sms" in consents_in_force(user)  # STOP on WhatsApp stops WhatsApp only
        withdrawn = db.session.scalars(
            select(ContactConsent).where(ContactConsent.withdrawn_source == "keyword")
        ).all()
        assert [consent.channel for consent in withdrawn] == ["whatsapp"]
        confirmations = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "opt_out_confirmed")
        ).all()
        assert len(confirmations) == 1
        delivery.deliver_due()
        assert provider.whatsapp[-1]["type"] == "text"  # free-form: the family just wrote
        # A new closure goes by SMS now.
        later = tell_closure(user)
        assert [channel for channel, _ in statuses(later)] == ["sms", "email"]
        assert statuses(rows)[0] == ("whatsapp", "sent")
    # The parent's page shows it.
    client.post("/login", data={"email": parent.email, "password": "correct-horse-battery"})
    page = client.get("/account/contact")
    assert page.status_code == 200
    assert word.strip() in page.text


def test_a_reply_reaches_the_inbox_once(app, client, parent, provider):
    with app.app_context():
        rows = tell_closure(opt_in(parent.id))
        delivery.deliver_due()
        db.session.rollback()
    for _ in range(2):
        payload = whatsapp_text("wamid.reply", "Merci, elle viendra mardi.", "wamid.1")
        assert whatsapp_post(client, payload).status_code == 200
    params = {"MessageSid": "SMreply", "From": MOBILE, "To": "+212600000000", "Body": "OK"}
    assert sms_post(client, params).status_code == 200
    with app.app_context():
        replies = db.session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [(reply.channel, reply.body, reply.opt_out) for reply in replies] == [
            ("whatsapp", "Merci, elle viendra mardi.", False),
            ("sms", "OK", False),
        ]
        assert replies[0].sender_user_id == parent.id
        assert replies[0].in_reply_to_id == rows[0]


# ---------------------------------------------------------------------------------------------
# Choices, numbers, texts


def test_a_landline_is_refused_for_whatsapp_and_sms(app, parent):
    with app.app_context():
        user = db.session.get(User, parent.id)
        with pytest.raises(DomainError) as refused:
            save_contact_choices(
                user, phone=LANDLINE, chosen={"urgent": ["sms"], "routine": []}, actor=user
            )
        assert refused.value.field == "phone"
        assert "fixe" in str(refused.value.message)  # French, the lab's language
        # E-mail alone needs no mobile.
        save_contact_choices(
            user, phone=LANDLINE, chosen={"urgent": ["email"], "routine": []}, actor=user
        )


def test_the_contact_page_refuses_a_landline_and_keeps_what_was_typed(client, login_as, parent):
    login_as(parent)
    response = client.post(
        "/account/contact", data={"phone": "05 39 94 12 34", "urgent_whatsapp": "y"}
    )
    assert response.status_code == 422
    assert "fixe" in response.text  # French: "Ce numéro est un fixe"
    assert "05 39 94 12 34" in response.text  # what was typed is kept
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactConsent)) == 0


def test_the_contact_page_records_the_consent_shown(app, client, login_as, parent):
    login_as(parent)
    response = client.post(
        "/account/contact",
        data={"phone": "06 12 34 56 78", "urgent_whatsapp": "y", "routine_email": "y"},
    )
    assert response.status_code == 302
    with app.app_context():
        [consent] = db.session.scalars(select(ContactConsent)).all()
        assert (consent.user_id, consent.channel, consent.phone) == (parent.id, "whatsapp", MOBILE)
        assert consent.source == "page"
        assert "WhatsApp" in consent.text_shown
        assert "STOP" in consent.text_shown


def test_only_parents_choose_channels(client, login_as, coordinator):
    login_as(coordinator)
    assert client.get("/account/contact").status_code == 403


@pytest.mark.parametrize(
    ("text", "stop"),
    [
        ("STOP", True),
        ("Arret", True),
        ("ARRÊT.", True),
        ("توقف", True),
        ("إلغاء", True),
        ("stop the lesson?", False),
        ("Merci", False),
    ],
)
def test_stop_words(text, stop):
    assert is_stop(text) is stop


def test_segments_gsm7_and_ucs2():
    assert sms_segments("a" * 160).count == 1
    assert sms_segments("a" * 161).count == 2
    assert sms_segments("€" * 80).units == 160  # an extension character takes two septets
    assert sms_segments("é" * 160).encoding == "GSM-7"
    arabic = sms_segments("ت" * 70)
    assert (arabic.encoding, arabic.count) == ("UCS-2", 1)
    assert sms_segments("ت" * 71).count == 2


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_short_texts_fit_an_sms_and_name_the_child(ctx, language):
    values = {
        "child": "Yasmine",
        "group": "Robotique 1",
        "date": date(2026, 12, 12),
        "deadline": date(2026, 12, 12),
        "link": "https://lms.activelabs.ma/c/12",
        "subject": "Sortie au musée",
        "text": "À demain",
        "channel": "WhatsApp",
        "instructor": "Salma Idrissi",
    }
    for message in SHORT_MESSAGES.values():
        text, _ = message.render(language, values)
        limit = 2 if language == "ar" else 1
        assert sms_segments(text).count <= limit, (message.name, text)
        if "child" in message.parameters:
            assert "Yasmine" in text


def test_send_test_message_prints_the_providers_answer(runner, provider):
    result = runner.invoke(
        args=["lms", "send-test-message", "--channel", "sms", "--to", "0612345678"]
    )
    assert result.exit_code == 0, result.output
    assert "HTTP 201" in result.output
    assert provider.sms[-1]["To"] == MOBILE
    result = runner.invoke(
        args=["lms", "send-test-message", "--channel", "whatsapp", "--to", "05 39 94 12 34"]
    )
    assert result.exit_code != 0
    assert "landline" in result.output
    assert provider.whatsapp == []
