"""The worker: jobs on a schedule, each in its own transaction; `flask lms worker --once`."""

from __future__ import annotations

import threading

from sqlalchemy import select

from lms import worker
from lms.extensions import db
from lms.notifications.models import OutboxMessage, OutboxStatus
from lms.notifications.services import queue_email
from tests.conftest import mail_log


def _reset_mail(to: str):
    user = type("U", (), {"full_name": "Karim"})()
    return queue_email(
        to=to, template="password_reset", language="fr", user=user, token="abc", minutes=60
    )


def _queue(app, to: str) -> int:
    with app.app_context():
        message = _reset_mail(to)
        db.session.commit()
        return message.id


def test_worker_once_delivers_the_outbox(app, runner):
    message_id = _queue(app, "famille@example.ma")
    result = runner.invoke(args=["lms", "worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "outbox: sent 1" in result.output
    assert "Worker: every job ran once." in result.output
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.SENT
    assert "famille@example.ma" in mail_log(app)


def test_a_failing_job_is_rolled_back_and_the_others_still_run(app, caplog):
    calls = []

    def failing():
        _reset_mail("lost@example.ma")
        db.session.flush()
        raise RuntimeError("boom")

    def fine():
        calls.append("fine")
        return "fine ran"

    jobs = [worker.Job("failing", 60, failing), worker.Job("fine", 60, fine)]
    assert worker.run_due(app, jobs, now=1000.0) == ["fine ran"]
    assert calls == ["fine"]
    assert "worker job failing failed" in caplog.text
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.id)) is None  # its write rolled back


def test_jobs_run_again_only_when_their_time_has_come(app):
    calls = []
    jobs = [
        worker.Job("often", 2, lambda: calls.append("often")),
        worker.Job("rarely", 60, lambda: calls.append("rarely")),
    ]
    worker.run_due(app, jobs, now=100.0)
    worker.run_due(app, jobs, now=101.0)
    worker.run_due(app, jobs, now=102.0)
    worker.run_due(app, jobs, now=159.0)
    worker.run_due(app, jobs, now=160.0)
    assert calls == ["often", "rarely", "often", "often", "rarely"]


def test_run_forever_stops_when_asked(app):
    stop = threading.Event()
    ran = threading.Event()

    def job():
        ran.set()
        stop.set()

    thread = threading.Thread(
        target=worker.run_forever,
        args=(app,),
        kwargs={"jobs": [worker.Job("j", 0.05, job)], "stop": stop},
    )
    thread.start()
    thread.join(10)
    assert ran.is_set()
    assert not thread.is_alive()


def test_the_default_schedule_comes_from_the_settings(app):
    jobs = {job.name: job.every for job in worker.default_jobs(app)}
    assert jobs == {
        "outbox": app.config["WORKER_OUTBOX_SECONDS"],
        "offers": app.config["WORKER_OFFERS_SECONDS"],
        "purge": app.config["WORKER_PURGE_SECONDS"],
        "submissions": app.config["WORKER_PURGE_SECONDS"],
        "offline changes": app.config["WORKER_PURGE_SECONDS"],
        "fee reminders": app.config["WORKER_REMINDERS_SECONDS"],
    }
