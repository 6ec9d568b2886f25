"""The providers' side, for the channel tests: a local server that speaks the WhatsApp Cloud API
(/{phone-number-id}/messages) and the Twilio REST API (Messages.json), and records what it got."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
SMS_TOKEN = "test-sms-token"
SID = "AC0123456789"


class Provider(ThreadingHTTPServer):
    """The Graph API's /{phone-number-id}/messages and Twilio's Messages.json, recorded."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProviderHandler)
        self.whatsapp: list[dict] = []
        self.sms: list[dict] = []
        self.fail_whatsapp = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProviderHandler(BaseHTTPRequestHandler):
    server: Provider

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v21.0/PHONE-ID/messages":
            if self.headers.get("Authorization") != "Bearer wa-token":
                return self._answer(401, {"error": {"message": "Invalid OAuth access token"}})
            payload = json.loads(raw)
            self.server.whatsapp.append(payload)
            if self.server.fail_whatsapp:
                return self._answer(
                    400,
                    {"error": {"message": "(#131026) Message undeliverable", "code": 131026}},
                )
            number = payload["to"]
            return self._answer(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": number, "wa_id": number}],
                    "messages": [{"id": f"wamid.{len(self.server.whatsapp)}"}],
                },
            )
        if self.path == f"/2010-04-01/Accounts/{SID}/Messages.json":
            expected = "Basic " + base64.b64encode(f"{SID}:{SMS_TOKEN}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._answer(401, {"code": 20003, "message": "Authenticate"})
            form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            self.server.sms.append(form)
            return self._answer(
                201, {"sid": f"SM{len(self.server.sms):032d}", "status": "queued", **form}
            )
        self._answer(404, {"error": {"message": "unknown path"}})


@pytest.fixture(scope="module")
def provider():
    server = Provider()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def provider_config(provider) -> dict:
    """Settings that make WhatsApp and SMS live, against ``provider``."""
    provider.whatsapp.clear()
    provider.sms.clear()
    provider.fail_whatsapp = False
    return {
        "WHATSAPP_API_URL": f"{provider.url}/v21.0",
        "WHATSAPP_PHONE_NUMBER_ID": "PHONE-ID",
        "WHATSAPP_TOKEN": "wa-token",
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "SMS_API_URL": provider.url,
        "SMS_ACCOUNT_SID": SID,
        "SMS_AUTH_TOKEN": SMS_TOKEN,
        "SMS_FROM": "+212600000000",
        "WHATSAPP_RATE_PER_SECOND": 0,
        "SMS_RATE_PER_SECOND": 0,
        "BASE_URL": "http://localhost",
    }
