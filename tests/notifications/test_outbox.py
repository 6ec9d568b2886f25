"""The outbox: written in the caller's transaction, delivered after commit, retried."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from lms.database import utcnow
from lms.extensions import db
from lms.notifications import delivery, services
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.notifications.transports import build_email, mail_log_path


def queue(**overrides) -> OutboxMessage:
    fields = {
        "to": "karim@example.ma",
        "template": "password_reset",
        "language": "fr",
        "user": type("U", (), {"full_name": "Karim"})(),
        "token": "abc",
        "minutes": 60,
    } | overrides
    return services.queue_email(**fields)


def count(status=None) -> int:
    query = select(func.count()).select_from(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    return db.session.scalar(query)


def test_queued_mail_is_rendered_in_the_recipients_language(ctx):
    french = queue(language="fr")
    arabic = queue(language="ar")
    english = queue(language="en")
    assert french.subject == "Choisissez un nouveau mot de passe pour Active Labs"
    assert arabic.subject == "اختر كلمة مرور جديدة لـ Active Labs"
    assert english.subject == "Choose a new password for Active Labs"
    assert "Bonjour Karim," in french.body
    # Every e-mail ends with the lab's name in the reader's language.
    assert french.body.rstrip().endswith("Active Labs — Technopark de Tanger")
    assert arabic.body.rstrip().endswith("Active Labs — تكنوبارك طنجة")
    assert english.body.rstrip().endswith("Active Labs — Technopark of Tangier")
    # Outside a request (the CLI, a worker), links are built on BASE_URL.
    assert "http://127.0.0.1:5000/password/reset/abc" in french.body


def test_nothing_is_sent_for_a_transaction_that_rolled_back(app):
    with app.app_context():
        queue()
        db.session.rollback()
        assert count() == 0
        assert delivery.deliver_due() == delivery.DeliveryReport()


def test_deliver_writes_the_log_and_marks_sent(app):
    with app.app_context():
        message = queue(to="nadia@example.ma", language="ar")
        db.session.commit()
        report = delivery.deliver_due()
        assert (report.sent, report.failed, report.retried) == (1, 0, 0)
        db.session.refresh(message)
        assert message.status == OutboxStatus.SENT
        assert message.sent_at is not None
        log = mail_log_path().read_text(encoding="utf-8")
        assert "To: nadia@example.ma" in log
        assert "Language: ar" in log
        # Idempotent: a second run sends nothing more.
        assert delivery.deliver_due().sent == 0


class FlakyTransport:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[int] = []

    def send(self, message) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("smtp down")
        self.sent.append(message.id)


def test_failures_are_retried_with_backoff_then_given_up(app, monkeypatch):
    transport = FlakyTransport(failures=100)
    monkeypatch.setattr(delivery, "get_transport", lambda: transport)
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    with app.app_context(), time_machine.travel(utcnow(), tick=False) as traveller:
        message = queue()
        db.session.commit()
        assert delivery.deliver_due().retried == 1
        db.session.refresh(message)
        assert message.attempts == 1
        assert message.last_error == "ConnectionRefusedError: smtp down"
        assert message.next_attempt_at - utcnow() == timedelta(minutes=1)
        # Not due yet: nothing happens.
        assert delivery.deliver_due() == delivery.DeliveryReport()
        traveller.shift(timedelta(minutes=1, seconds=1))
        assert delivery.deliver_due().retried == 1
        db.session.refresh(message)
        assert message.next_attempt_at - utcnow() == timedelta(minutes=2)
        traveller.shift(timedelta(minutes=3))
        assert delivery.deliver_due().failed == 1
        db.session.refresh(message)
        assert message.status == OutboxStatus.FAILED
        assert message.attempts == 3


def test_a_retried_failure_is_delivered_later(app, monkeypatch):
    transport = FlakyTransport(failures=1)
    monkeypatch.setattr(delivery, "get_transport", lambda: transport)
    with app.app_context(), time_machine.travel(utcnow(), tick=False) as traveller:
        message = queue()
        db.session.commit()
        delivery.deliver_due()
        traveller.shift(timedelta(minutes=2))
        assert delivery.deliver_due().sent == 1
        assert transport.sent == [message.id]


def test_backoff_is_capped():
    assert delivery.backoff(1) == timedelta(minutes=1)
    assert delivery.backoff(4) == timedelta(minutes=8)
    assert delivery.backoff(30) == timedelta(hours=6)


@pytest.mark.committed
def test_two_workers_never_send_the_same_message(app, monkeypatch):
    sent: list[int] = []
    lock = threading.Lock()

    class Recording:
        def send(self, message) -> None:
            with lock:
                sent.append(message.id)

    monkeypatch.setattr(delivery, "get_transport", lambda: Recording())
    with app.app_context():
        for n in range(30):
            queue(to=f"p{n}@example.ma")
        db.session.commit()

    barrier = threading.Barrier(3)

    def worker() -> None:
        with app.app_context():
            barrier.wait()
            delivery.deliver_due(limit=30)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(sent) == sorted(set(sent))
    assert len(sent) == 30


@pytest.mark.committed
def test_delivery_right_after_commit(app):
    app.config["MAIL_DELIVER_AFTER_COMMIT"] = True
    with app.app_context():
        message_id = queue(to="fast@example.ma").id
        db.session.commit()
    deadline = utcnow() + timedelta(seconds=10)
    while utcnow() < deadline:
        with app.app_context():
            status = db.session.get(OutboxMessage, message_id).status
            db.session.remove()
        if status == OutboxStatus.SENT:
            break
    assert status == OutboxStatus.SENT


@pytest.mark.committed
def test_savepoints_do_not_send_the_transactions_mail_early_or_lose_it(app, monkeypatch):
    """A service that uses a savepoint (begin_nested) after queuing mail: the mail leaves once,
    after the whole transaction commits, and a rolled-back savepoint loses only its own."""
    app.config["MAIL_DELIVER_AFTER_COMMIT"] = True
    deliveries: list[tuple[list[int], bool]] = []
    deliver = delivery._deliver_in_background

    def observed(app, ids):
        with app.app_context():  # is the outer transaction committed when delivery starts?
            visible = db.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.id.in_(ids))
            )
            db.session.remove()
        deliveries.append((sorted(ids), visible > 0))
        deliver(app, ids)

    monkeypatch.setattr(delivery, "_deliver_in_background", observed)
    with app.app_context():
        before = queue(to="before@example.ma").id
        with db.session.begin_nested():  # released
            inside = queue(to="inside@example.ma").id
        try:
            with db.session.begin_nested():  # rolled back: its message is gone
                queue(to="gone@example.ma")
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        after = queue(to="after@example.ma").id
        assert deliveries == []
        db.session.commit()
    for thread in threading.enumerate():
        if thread.name == "outbox":
            thread.join(10)
    assert len(deliveries) == 1
    ids, visible = deliveries[0]
    assert {before, inside, after} <= set(ids)
    assert visible
    with app.app_context():
        sent = db.session.scalars(
            select(OutboxMessage.recipient).where(OutboxMessage.status == OutboxStatus.SENT)
        ).all()
    assert sorted(sent) == ["after@example.ma", "before@example.ma", "inside@example.ma"]


def test_mime_message_with_attachment(app):
    with app.app_context():
        message = services.queue_email(
            to="karim@example.ma",
            template="password_reset",
            language="fr",
            user=type("U", (), {"full_name": "Karim"})(),
            token="t",
            minutes=60,
            attachments=(services.Attachment("cours.ics", "text/calendar", b"BEGIN:VCALENDAR"),),
        )
        email = build_email(message)
        assert email["To"] == "karim@example.ma"
        assert email["Content-Language"] == "fr"
        parts = list(email.iter_attachments())
        assert [p.get_filename() for p in parts] == ["cours.ics"]


def test_send_mail_cli(app, runner):
    with app.app_context():
        queue()
        db.session.commit()
    result = runner.invoke(args=["lms", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert "still waiting: 0" in result.output


def test_coordinator_sees_and_retries_failed_mail(app, login_as, coordinator, parent):
    with app.app_context():
        message = queue(to="broken@example.ma")
        message.status = OutboxStatus.FAILED
        message.last_error = "SMTPRecipientsRefused"
        db.session.commit()
        message_id = message.id
    client = login_as(coordinator)
    page = client.get("/coordinator/outbox/?status=failed").get_data(as_text=True)
    assert "broken@example.ma" in page
    assert "SMTPRecipientsRefused" in page
    assert client.post(f"/coordinator/outbox/{message_id}/retry").status_code == 302
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.PENDING
    assert client.post("/coordinator/outbox/999999/retry").status_code == 404
    assert client.get("/coordinator/outbox/?page=abc").status_code in (200, 404)


def test_every_email_template_signs_with_the_translated_lab_name():
    """The signature goes through Babel, so an Arabic e-mail does not end in French."""
    folder = Path(__file__).parents[2] / "lms" / "templates" / "notifications" / "email"
    templates = sorted(folder.glob("*.txt"))
    assert len(templates) > 20
    for template in templates:
        last = template.read_text(encoding="utf-8").rstrip().splitlines()[-1]
        assert last == '{{ _("Active Labs — Technopark de Tanger") }}', template.name
