"""Real-browser tests: Playwright drives Debian's Chromium against a live server.

Every page a journey visits is checked with axe-core; critical, serious and moderate violations
fail the test (``BLOCKING_IMPACTS``). Skipped,
with the reason, where Chromium or Playwright is not installed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from lms import create_app
from lms.certificates.keys import create_key
from tests.conftest import _empty_tables, make_config

CHROMIUM = os.environ.get("LMS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BLOCKING_IMPACTS = ("critical", "serious", "moderate")
# What differs between two showings of the same page: the CSRF token signed for each one.
_PER_SHOWING = re.compile(
    r'(name="csrf_token"[^>]*value=")[^"]*|(value=")[^"]*("[^>]*name="csrf_token")'
)

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Page, sync_playwright
except ImportError as error:  # pragma: no cover - depends on the machine
    pytestmark = pytest.mark.skip(reason=f"Playwright is not installed ({error})")
    Axe = Page = PlaywrightError = sync_playwright = None

if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
    pytestmark = pytest.mark.skip(
        reason=f"no Chromium at {CHROMIUM}: sudo apt-get install chromium (or set LMS_CHROMIUM)"
    )


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.committed)


class LiveServer:
    def __init__(self, app) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def live_app(_schema, database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("live-instance")
    app = create_app(
        make_config(
            database_url,
            instance,
            TESTING=False,
            WTF_CSRF_ENABLED=True,  # the browser sends real tokens
            SESSION_COOKIE_SECURE=False,  # plain http on localhost
            MAIL_DELIVER_AFTER_COMMIT=True,
        )
    )
    # A signing key, as `make run` creates: certificates' pages offer their signed credentials.
    create_key(app.instance_path)
    return app


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[LiveServer]:
    server = LiveServer(live_app)
    # E-mails are written by the worker outside any request: their links use BASE_URL.
    live_app.config["BASE_URL"] = server.url
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()
    playwright.stop()


_PASSED_AUDITS: set[str] = set()  # fingerprints of documents that passed axe (UI.audit)


def opened_a_page(page: Page, path: str) -> bool:
    """Open ``path`` in the tab; False for what is not a page (a download, a feed, JSON)."""
    try:
        response = page.goto(path)
    except PlaywrightError as error:
        if "Download is starting" in str(error):
            return False
        raise
    return response is not None and response.headers.get("content-type", "").startswith("text/html")


class UI:
    """A browser tab on the live server that audits every page it lands on."""

    def __init__(self, page: Page, base_url: str, app) -> None:
        self.page = page
        self.base_url = base_url
        self.app = app
        # axe-core is put into every document the tab opens, by the browser itself, instead of
        # sent over the wire (half a megabyte) before each audit.
        page.context.add_init_script(Axe().axe_script)
        self.audited: set[str] = set()

    def url(self, path: str) -> str:
        return self.base_url + path

    def visit(self, path: str) -> Page:
        self.page.goto(self.url(path))
        self.audit()
        return self.page

    def audit(self) -> None:
        """axe-core on the current page; a violation of a blocking impact fails the test.

        A document already audited in this session (the same markup, but for its CSRF token, at
        the same width) passed then and is not audited again: journeys come back to the same
        page after each action, and axe's checks depend only on the markup, the app's own
        style sheets and the viewport.
        """
        self.page.wait_for_load_state("load")
        key = f"{self.page.url} dir={self.page.get_attribute('html', 'dir')}"
        self.audited.add(key)
        markup = _PER_SHOWING.sub(r"\1\2\3", self.page.content())
        width = self.page.viewport_size["width"] if self.page.viewport_size else 0
        fingerprint = hashlib.sha256(f"{width}\n{markup}".encode()).hexdigest()
        if fingerprint in _PASSED_AUDITS:
            return
        results = self.page.evaluate("() => axe.run({resultTypes: ['violations']})")
        bad = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
        assert not bad, f"accessibility violations on {key}:\n" + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} -> "
            + ", ".join(n["target"][0] for n in v["nodes"][:5])
            for v in bad
        )
        _PASSED_AUDITS.add(fingerprint)

    def mail_log(self) -> str:
        from lms.notifications.transports import mail_log_path

        with self.app.app_context():
            path = mail_log_path()
            return path.read_text(encoding="utf-8") if path.exists() else ""

    def wait_for_mail(self, recipient: str, contains: str, timeout: float = 20.0) -> str:
        """The newest logged e-mail to ``recipient`` whose text contains ``contains``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for block in reversed(self.mail_log().split("=" * 72)):
                if f"To: {recipient}" in block and contains in block:
                    return block
            time.sleep(0.1)
        raise AssertionError(f"no e-mail to {recipient} containing {contains!r}")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def ui(request, browser, live_server, live_app) -> Iterator[UI]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR", base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield UI(page, live_server.url, live_app)
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
    context.close()
    _empty_tables(live_app)


@pytest.fixture
def phone_ui(request, browser, live_server, live_app) -> Iterator[UI]:
    """A phone-sized tab (portrait) for the instructors' journeys."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
        base_url=live_server.url,
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield UI(page, live_server.url, live_app)
    context.close()
    _empty_tables(live_app)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
