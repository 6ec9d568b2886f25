"""The README's phone screenshots, taken from the running demo (`make run`) at 390 px.

    PYTHONPATH=. .venv/bin/python scripts/phone_screenshots.py [--base-url http://127.0.0.1:5000]

Writes docs/screenshots/{parent-catalogue,instructor-roll-call,coordinator-dashboard}.png with
Playwright and Debian's Chromium (LMS_CHROMIUM to use another). Run it again after a change to
the pages it shows so the README stays true.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from lms.demo import DEMO_PASSWORD

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM = os.environ.get("LMS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def log_in(page: Page, base_url: str, email: str, language: str) -> None:
    page.goto(f"{base_url}/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    if page.get_attribute("html", "lang") != language:
        page.locator(f".language-switcher button[value={language}]").click()
        page.wait_for_load_state("load")


def roll_call(page: Page, base_url: str) -> None:
    """The instructor's first lesson with a roll call to take, from the home page."""
    page.goto(f"{base_url}/home")
    page.locator("main a[href^='/attendance/lessons/']").first.click()
    page.wait_for_load_state("load")


SHOTS = [
    ("parent-catalogue", "karim.alaoui@example.ma", "fr", lambda p, b: p.goto(b + "/catalogue")),
    ("instructor-roll-call", "youssef.benali@activelabs.ma", "fr", roll_call),
    ("coordinator-dashboard", "coordination@activelabs.ma", "ar", lambda p, b: p.goto(b + "/home")),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    base_url = parser.parse_args().base_url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, email, language, open_page in SHOTS:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
            )
            page = context.new_page()
            log_in(page, base_url, email, language)
            open_page(page, base_url)
            page.wait_for_load_state("load")
            page.screenshot(path=str(OUT / f"{name}.png"))  # the first screen, as a phone shows it
            print(OUT / f"{name}.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
