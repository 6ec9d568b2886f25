"""The worker: one long-running process that delivers the outbox and runs the periodic jobs.

`flask lms worker` runs it (`make run` starts it beside the web server; in production run one
or more next to gunicorn). Every job is safe to run twice and from several workers at once:
the outbox claims each message with a lease, offers move on under the cohort lock, and purge
acts only on what is still due. So the schedule is kept in memory, with no lock between
workers: a restart simply runs every job once more.

The jobs are plain functions of the domains; each runs in its own transaction, committed
here, so that a job that fails is rolled back and logged without stopping the others.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from lms.extensions import db

log = logging.getLogger(__name__)


@dataclass
class Job:
    """A function run every ``every`` seconds; ``run`` returns a line for the log, or None."""

    name: str
    every: float
    run: Callable[[], str | None]
    next_at: float = 0.0


def deliver_outbox() -> str | None:
    """Send the e-mails (and other messages) that are due."""
    from lms.notifications.delivery import deliver_due

    report = deliver_due()
    return f"outbox: {report}" if report.sent or report.retried or report.failed else None


def expire_offers() -> str | None:
    """Seat offers past their deadline go to the next child waiting; counters are checked."""
    from lms.enrolment.offers import expire_offers as expire
    from lms.enrolment.seats import check_consistency

    lapsed = expire()
    db.session.commit()
    problems = check_consistency()
    db.session.rollback()
    for problem in problems:
        log.error("seat count problem: %s", problem)
    if lapsed:
        return f"seat offers expired: {len(lapsed)}"
    return None


def purge() -> str | None:
    """The retention rules: old safeguarding data, inactive accounts after notice, old incident
    records."""
    from lms.families.data_rights import purge as purge_families

    report = purge_families()
    db.session.commit()
    if report.did_nothing:
        return None
    deleted = "".join(f", {count} {what} deleted" for what, count in report.deleted.items())
    return (
        f"purge: safeguarding data of {len(report.safeguarding_erased)} child(ren) erased, "
        f"{len(report.notices_sent)} closure notice(s) sent, "
        f"{len(report.accounts_closed)} account(s) closed{deleted}"
    )


def forget_submissions() -> str | None:
    """Keys of form submissions older than two days are no longer needed."""
    from lms.submissions import forget_old_submissions

    count = forget_old_submissions()
    db.session.commit()
    return f"form submissions forgotten: {count}" if count else None


def forget_device_changes() -> str | None:
    """Records of the instructors' offline changes older than a week are no longer needed."""
    from lms.attendance.sync import forget_old_changes

    count = forget_old_changes()
    db.session.commit()
    return f"offline roll-call changes forgotten: {count}" if count else None


def remind_fees() -> str | None:
    """Families whose fees are unpaid are reminded, on the lab's schedule."""
    from lms.enrolment.reminders import send_fee_reminders

    sent = send_fee_reminders()
    db.session.commit()
    return f"fee reminders sent: {len(sent)}" if sent else None


def default_jobs(app: Flask) -> list[Job]:
    config = app.config
    return [
        Job("outbox", config["WORKER_OUTBOX_SECONDS"], deliver_outbox),
        Job("offers", config["WORKER_OFFERS_SECONDS"], expire_offers),
        Job("purge", config["WORKER_PURGE_SECONDS"], purge),
        Job("submissions", config["WORKER_PURGE_SECONDS"], forget_submissions),
        Job("offline changes", config["WORKER_PURGE_SECONDS"], forget_device_changes),
        Job("fee reminders", config["WORKER_REMINDERS_SECONDS"], remind_fees),
    ]


def run_due(app: Flask, jobs: list[Job], now: float) -> list[str]:
    """Run every job whose time has come, each in its own transaction; lines for the log."""
    lines = []
    for job in jobs:
        if job.next_at > now:
            continue
        job.next_at = now + job.every
        with app.app_context():
            try:
                line = job.run()
            except Exception:
                db.session.rollback()
                log.exception("worker job %s failed; it runs again in %ss", job.name, job.every)
                continue
            finally:
                db.session.remove()
        if line:
            lines.append(line)
    return lines


def run_forever(app: Flask, *, jobs: list[Job] | None = None, stop: threading.Event | None = None):
    """Run the jobs on their schedule until SIGINT/SIGTERM (or ``stop`` is set)."""
    jobs = jobs if jobs is not None else default_jobs(app)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    tick = min(job.every for job in jobs)
    log.info("worker started: %s", ", ".join(f"{job.name} every {job.every:g}s" for job in jobs))
    while not stop.is_set():
        for line in run_due(app, jobs, time.monotonic()):
            log.info(line)
        stop.wait(tick)
    log.info("worker stopped")
