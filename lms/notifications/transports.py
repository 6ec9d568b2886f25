"""How an e-mail leaves the building: appended to a log file, or sent over SMTP."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

from lms.notifications.models import OutboxMessage


def build_email(message: OutboxMessage) -> EmailMessage:
    """The MIME message for an outbox row."""
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = make_msgid(domain="activelabs.ma")
    email.set_content(message.body)
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # Last: set_content and add_attachment move or clear the Content-* headers.
    email["Content-Language"] = message.language
    return email


class LogTransport:
    """Development: every message is appended, readable, to instance/mail.log."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: OutboxMessage) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        attachments = "".join(
            f"[attachment: {a.filename} ({a.content_type}, {len(a.content)} bytes)]\n"
            for a in message.attachments
        )
        with self.path.open("a", encoding="utf-8") as log:
            log.write(
                f"{'=' * 72}\n"
                f"To: {message.recipient}\n"
                f"Subject: {message.subject}\n"
                f"Language: {message.language}\n"
                f"Date: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
                f"Outbox-Id: {message.id}\n\n"
                f"{message.body.rstrip()}\n{attachments}\n"
            )


class SMTPTransport:
    """Production: SMTP with STARTTLS (or implicit TLS) and optional login."""

    def send(self, message: OutboxMessage) -> None:
        config = current_app.config
        smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
        with smtp_class(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]
        ) as smtp:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(build_email(message))


def mail_log_path() -> Path:
    configured = current_app.config.get("MAIL_LOG_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / "mail.log"


def get_transport():
    """The transport named by MAIL_BACKEND."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "log":
        return LogTransport(mail_log_path())
    if backend == "smtp":
        return SMTPTransport()
    raise RuntimeError(f"Unknown MAIL_BACKEND {backend!r}: use 'log' or 'smtp'.")
