"""How a message leaves the building: appended to a log file (the development default of every
channel), or sent over SMTP, the WhatsApp Business Cloud API, or a Twilio-compatible SMS API.

A transport's ``send`` returns what the provider answered (``Sent``), raises ``Refused`` when
the provider refuses the message for good (no retry helps: a bad number, an unknown template),
and raises anything else for a failure worth retrying (network, 5xx, 429).
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import httpx
from flask import current_app

from lms.notifications.models import Channel, OutboxMessage


@dataclass(frozen=True)
class Sent:
    """The provider took the message: its id for the message, and its answer (for setup)."""

    provider_message_id: str | None = None
    answer: str = ""


class Refused(Exception):
    """The provider refused the message for good: it is not retried."""


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
                f"Channel: {message.channel}\n"
                f"To: {message.recipient}\n"
                f"Subject: {message.subject or message.provider_template or '-'}\n"
                f"Language: {message.language}\n"
                f"Date: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
                f"Outbox-Id: {message.id}\n\n"
                f"{message.body.rstrip()}\n{attachments}\n"
            )
        return Sent(None, f"appended to {self.path}")


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
            email = build_email(message)
            smtp.send_message(email)
        return Sent(email["Message-ID"], "accepted by the SMTP server")


def _answer(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.text[:400]}"


def _check(response: httpx.Response) -> dict:
    """The provider's JSON answer; Refused on a 4xx but 429, an error to retry on the rest."""
    if response.status_code == 429 or response.status_code >= 500:
        raise RuntimeError(_answer(response))
    if response.status_code >= 400:
        raise Refused(_answer(response))
    try:
        return response.json()
    except json.JSONDecodeError:
        raise RuntimeError(f"not JSON: {_answer(response)}") from None


class WhatsAppTransport:
    """The WhatsApp Business Cloud API: POST {API_URL}/{PHONE_NUMBER_ID}/messages."""

    def send(self, message: OutboxMessage) -> Sent:
        config = current_app.config
        payload: dict = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient.removeprefix("+"),
        }
        if message.provider_template:
            payload["type"] = "template"
            payload["template"] = {
                "name": message.provider_template,
                "language": {"code": message.language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": value} for value in message.parameters or []
                        ],
                    }
                ]
                if message.parameters
                else [],
            }
        else:
            payload["type"] = "text"
            payload["text"] = {"body": message.body, "preview_url": True}
        response = httpx.post(
            f"{config['WHATSAPP_API_URL'].rstrip('/')}/{config['WHATSAPP_PHONE_NUMBER_ID']}/messages",
            json=payload,
            headers={"Authorization": f"Bearer {config['WHATSAPP_TOKEN']}"},
            timeout=config["MESSAGE_TIMEOUT"],
        )
        answer = _check(response)
        try:
            return Sent(answer["messages"][0]["id"], _answer(response))
        except (KeyError, IndexError, TypeError):
            raise RuntimeError(f"no message id in {_answer(response)}") from None


class SMSTransport:
    """A Twilio-compatible REST API: POST {API_URL}/2010-04-01/Accounts/{SID}/Messages.json."""

    def __init__(self, status_callback: str | None = None) -> None:
        self.status_callback = status_callback

    def send(self, message: OutboxMessage) -> Sent:
        config = current_app.config
        sid = config["SMS_ACCOUNT_SID"]
        form = {"To": message.recipient, "From": config["SMS_FROM"], "Body": message.body}
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        response = httpx.post(
            f"{config['SMS_API_URL'].rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json",
            data=form,
            auth=(sid, config["SMS_AUTH_TOKEN"]),
            timeout=config["MESSAGE_TIMEOUT"],
        )
        answer = _check(response)
        if not answer.get("sid"):
            raise RuntimeError(f"no message sid in {_answer(response)}")
        return Sent(answer["sid"], _answer(response))


def mail_log_path() -> Path:
    configured = current_app.config.get("MAIL_LOG_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / "mail.log"


def channel_is_live(channel: str) -> bool:
    """WhatsApp and SMS are live once their token is set; e-mail follows MAIL_BACKEND."""
    config = current_app.config
    if channel == Channel.WHATSAPP:
        return bool(config["WHATSAPP_TOKEN"])
    if channel == Channel.SMS:
        return bool(config["SMS_AUTH_TOKEN"])
    return config["MAIL_BACKEND"] == "smtp"


def transport_for(channel: str, *, sms_status_callback: str | None = None):
    """The transport of ``channel``: the log until the channel is live."""
    if channel == Channel.EMAIL:
        return get_transport()
    if not channel_is_live(channel):
        return LogTransport(mail_log_path())
    if channel == Channel.WHATSAPP:
        return WhatsAppTransport()
    return SMSTransport(sms_status_callback)


def get_transport():
    """The e-mail transport named by MAIL_BACKEND."""
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "log":
        return LogTransport(mail_log_path())
    if backend == "smtp":
        return SMTPTransport()
    raise RuntimeError(f"Unknown MAIL_BACKEND {backend!r}: use 'log' or 'smtp'.")
