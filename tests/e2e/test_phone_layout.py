"""Every page each role reaches reads well on a phone (390 px), in French, Arabic and English.

The demo data is loaded into the live server; each demo role logs in on a phone-sized tab,
picks its language in the header, and follows every link it is shown from its home page. On
every page: no sideways scroll (document.documentElement.scrollWidth <= clientWidth) and no
critical, serious or moderate axe-core violation at 390 px, and no sideways scroll either once
the same page is widened to a desktop's 1280 px (axe at that width is the journeys' job: their
tab is 1280 px wide, and tests/e2e/test_accessibility.py sweeps every page without parameters).

To look at the pages rather than only test them, set LMS_CRAWL_SCREENSHOTS to a folder: every
page visited is saved there at both widths.
"""

from __future__ import annotations

import os
import re
import warnings
from collections import deque
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.exc import SAWarning

from lms.demo import DEMO_PASSWORD, seed_demo
from lms.extensions import db
from tests.conftest import _empty_tables
from tests.e2e.conftest import ARTIFACTS, BLOCKING_IMPACTS, opened_a_page

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # pragma: no cover - the e2e conftest skips the module then
    Axe = None

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = os.environ.get("LMS_CRAWL_SCREENSHOTS")
DEMO_LOGINS = {
    "parent": "karim.alaoui@example.ma",
    "instructor": "youssef.benali@activelabs.ma",
    "coordinator": "coordination@activelabs.ma",
}
# Pages of one shape (the same path with other ids) visited per role and language: two show
# what longer names or fuller lists do to the layout without visiting every child's page.
PER_SHAPE = 2


@pytest.fixture(scope="module")
def demo(live_app) -> Iterator[None]:
    """The demo data in the live server's database, for this module's tests."""
    with live_app.app_context(), warnings.catch_warnings():
        # Seeding the demo trips this SQLAlchemy warning on request-shape too
        # (tests/test_demo.py fails on it); it is not what this module tests.
        warnings.filterwarnings("ignore", "Identity map already had an identity", SAWarning)
        seed_demo()
        db.session.commit()
    yield
    _empty_tables(live_app)


@pytest.fixture
def phone(browser, live_server, demo) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
        base_url=live_server.url,
    )
    # axe-core is put into every document by the browser itself (as the journeys' tab does),
    # rather than sent over and compiled again by each check.
    context.add_init_script(Axe().axe_script)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")


def choose_language(page: Page, language: str) -> None:
    """The language buttons stay in the phone's header bar, outside the folded menu; the
    page's own language has no button there."""
    buttons = page.locator(".site-header .language-switcher button")
    if page.get_attribute("html", "lang") != language:
        button = buttons.and_(page.locator(f"[value={language}]"))
        expect(button).to_be_visible()
        button.click()
        page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", language)
    for other in {"fr", "ar", "en"} - {language}:
        expect(buttons.and_(page.locator(f"[value={other}]"))).to_be_visible()


def shape(path: str) -> str:
    return re.sub(r"/\d+", "/N", path)


def reachable_pages(page: Page, base_url: str) -> Iterator[str]:
    """Visit every page reached by following links from the home page, one by one."""
    host = urlsplit(base_url).netloc
    queue, queued, per_shape = deque(["/"]), {"/"}, {}  # queued: paths, without the query
    while queue:
        path = queue.popleft()
        if per_shape.get(shape(urlsplit(path).path), 0) >= PER_SHAPE:
            continue
        if not opened_a_page(page, path):
            continue
        key = shape(urlsplit(path).path)
        per_shape[key] = per_shape.get(key, 0) + 1
        yield path
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            parts = urlsplit(href)
            if parts.netloc != host or parts.path.startswith("/static/"):
                continue
            if parts.path not in queued:
                queued.add(parts.path)
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


def sideways_scroll(page: Page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def layout_faults(page: Page) -> list[str]:
    faults = []
    if overflow := sideways_scroll(page):
        faults.append(f"scrolls sideways by {overflow} px")
    for violation in page.evaluate("() => axe.run({resultTypes: ['violations']})")["violations"]:
        if violation.get("impact") in BLOCKING_IMPACTS:
            targets = ", ".join(node["target"][0] for node in violation["nodes"][:3])
            faults.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return faults


def desktop_faults(page: Page, name: str) -> list[str]:
    """The same page widened to 1280 px, then narrowed back for the next one."""
    page.set_viewport_size(DESKTOP)
    try:
        if SCREENSHOTS:
            page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-1280.png"), full_page=True)
        overflow = sideways_scroll(page)
    finally:
        page.set_viewport_size(PHONE)
    return [f"scrolls sideways by {overflow} px at 1280 px"] if overflow else []


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
@pytest.mark.parametrize("role", list(DEMO_LOGINS))
def test_every_page_a_role_reaches_fits_a_phone(phone, live_server, role, language):
    log_in(phone, DEMO_LOGINS[role])
    choose_language(phone, language)
    expect(phone.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    if SCREENSHOTS:
        os.makedirs(SCREENSHOTS, exist_ok=True)
    visited, faults = [], {}
    for path in reachable_pages(phone, live_server.url):
        visited.append(path)
        name = re.sub(r"\W+", "-", f"{role}-{language}-{path}").strip("-")
        if SCREENSHOTS:
            phone.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-390.png"), full_page=True)
        if found := layout_faults(phone):
            ARTIFACTS.mkdir(exist_ok=True)
            phone.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)
        found += desktop_faults(phone, name)
        if found:
            faults[path] = found
    assert len(visited) >= 8, visited  # the crawl really walked the role's pages
    assert not faults, "\n".join(f"{path}: {'; '.join(found)}" for path, found in faults.items())


@pytest.mark.parametrize("javascript", [True, False])
def test_the_phone_menu_folds_the_navigation_behind_one_button(
    browser, live_server, demo, javascript
):
    context = browser.new_context(
        viewport=PHONE, locale="fr-FR", base_url=live_server.url, java_script_enabled=javascript
    )
    page = context.new_page()
    log_in(page, DEMO_LOGINS["parent"])
    choose_language(page, "fr")  # whatever language the tests before left the account in
    my_children = page.get_by_role("link", name="Mes enfants", exact=True)
    menu = page.locator(".site-menu > summary")
    expect(my_children).to_be_hidden()
    expect(page.locator(".site-header .language-switcher")).to_be_visible()  # outside the menu
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 844 / 8  # a slim bar, not a fifth of the first screen
    menu.click()
    expect(my_children).to_be_visible()
    expect(page.locator(".site-menu > summary")).to_have_text("Menu")
    my_children.click()
    expect(page.locator("h1")).to_have_text("Mes enfants")
    context.close()


def test_from_a_tablet_up_the_navigation_is_always_shown(browser, live_server, demo):
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR", base_url=live_server.url)
    page = context.new_page()
    log_in(page, DEMO_LOGINS["parent"])
    choose_language(page, "fr")
    expect(page.get_by_role("link", name="Mes enfants", exact=True)).to_be_visible()
    expect(page.locator(".site-menu > summary")).to_be_hidden()
    context.close()


def test_only_links_inside_sentences_are_underlined(phone):
    log_in(phone, DEMO_LOGINS["parent"])
    choose_language(phone, "fr")
    phone.goto("/children")

    def underline(locator) -> str:
        return locator.first.evaluate("e => getComputedStyle(e).textDecorationLine")

    phone.locator(".site-menu > summary").click()
    assert underline(phone.locator(".site-nav a")) == "none"
    assert underline(phone.locator(".site-nav button.link")) == "none"
    assert underline(phone.locator("main a.button")) == "none"
    assert underline(phone.locator(".site-footer p a")) == "underline"
