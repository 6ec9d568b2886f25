"""The providers' webhooks: WhatsApp Cloud API (/webhooks/whatsapp) and a Twilio-compatible
SMS gateway (/webhooks/sms). Each call is signed; a call that is not gets 403 and changes
nothing. Providers deliver an event again until it is acknowledged: every event has one effect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

from flask import Blueprint, abort, current_app, request

from lms.extensions import csrf, limiter
from lms.notifications.delivery import record_status
from lms.notifications.inbound import receive
from lms.notifications.models import Channel

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
# Signed by the provider instead of carrying a CSRF token; providers send bursts.
csrf.exempt(bp)
limiter.exempt(bp)


def whatsapp_signature(body: bytes, secret: str) -> str:
    """``X-Hub-Signature-256``: HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    """``X-Twilio-Signature``: HMAC-SHA1 of the URL and the sorted POST parameters, base64."""
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@bp.get("/whatsapp")
def whatsapp_verify():
    # Meta's handshake when the webhook is set up: echo the challenge for our verify token.
    token = current_app.config["WHATSAPP_VERIFY_TOKEN"]
    sent = request.args.get("hub.verify_token", "")
    if (
        request.args.get("hub.mode") != "subscribe"
        or not token
        or not hmac.compare_digest(sent.encode(), token.encode())
    ):
        abort(403)
    return request.args.get("hub.challenge", ""), 200, {"Content-Type": "text/plain"}


@bp.post("/whatsapp")
def whatsapp_event():
    secret = current_app.config["WHATSAPP_APP_SECRET"]
    body = request.get_data(cache=True)
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not secret or not hmac.compare_digest(
        signature.encode(), whatsapp_signature(body, secret).encode()
    ):
        log.warning("WhatsApp webhook call with a bad or missing signature refused")
        abort(403)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400)
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            for status in value.get("statuses") or []:
                errors = status.get("errors") or [{}]
                record_status(
                    Channel.WHATSAPP,
                    str(status.get("id", "")),
                    str(status.get("status", "")),
                    str(errors[0].get("title") or errors[0].get("message") or ""),
                )
            for message in value.get("messages") or []:
                text = _whatsapp_text(message)
                if not message.get("id") or not message.get("from") or text is None:
                    continue
                receive(
                    channel=Channel.WHATSAPP,
                    provider_message_id=str(message["id"]),
                    sender="+" + str(message["from"]).lstrip("+"),
                    body=text,
                    answers_provider_id=(message.get("context") or {}).get("id"),
                )
    return {"ok": True}


def _whatsapp_text(message: dict) -> str | None:
    """The words of an incoming message: a text, a quick-reply button, an interactive answer."""
    kind = message.get("type")
    if kind == "text":
        return (message.get("text") or {}).get("body")
    if kind == "button":
        return (message.get("button") or {}).get("text")
    if kind == "interactive":
        answer = message.get("interactive") or {}
        reply = answer.get("button_reply") or answer.get("list_reply") or {}
        return reply.get("title")
    return None


@bp.post("/sms")
def sms_event():
    token = current_app.config["SMS_AUTH_TOKEN"]
    params = {key: request.form[key] for key in request.form}
    signature = request.headers.get("X-Twilio-Signature", "")
    # Behind a proxy the URL the gateway signed is the public one (BASE_URL).
    public = current_app.config["BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    if not token or not any(
        hmac.compare_digest(signature.encode(), twilio_signature(url, params, token).encode())
        for url in {request.url, public}
    ):
        log.warning("SMS webhook call with a bad or missing signature refused")
        abort(403)
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid:
        abort(400)
    if "Body" in params and params.get("From"):
        receive(
            channel=Channel.SMS,
            provider_message_id=sid,
            sender=params["From"],
            body=params["Body"],
        )
    else:
        record_status(
            Channel.SMS,
            sid,
            params.get("MessageStatus") or params.get("SmsStatus", ""),
            params.get("ErrorCode", ""),
        )
    # An empty TwiML answer: nothing is sent back from here (a STOP is confirmed by the outbox).
    return '<?xml version="1.0" encoding="UTF-8"?><Response/>', 200, {"Content-Type": "text/xml"}
