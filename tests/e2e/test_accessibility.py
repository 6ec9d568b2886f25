"""axe-core on every page without URL parameters, for each role, in French and in Arabic.

The sweep reads the URL map, so each new page is audited in both directions without a new test.
Pages that need an object in the URL are audited by the domain journeys.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.extensions import db
from lms.roles import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import opened_a_page


def parameterless_pages(app, role: str | None) -> list[str]:
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        allowed = getattr(view, "required_roles", None)
        if allowed is not None and role not in allowed:
            continue
        pages.append(rule.rule)
    return sorted(pages)


@pytest.mark.parametrize("role", [None, Role.PARENT, Role.INSTRUCTOR, Role.COORDINATOR])
def test_every_page_passes_axe_in_both_directions(ui, live_app, role):
    if role is not None:
        with live_app.app_context():
            user = create_user(
                full_name="Audit Person",
                email=f"audit-{role}@example.ma",
                role=role,
                password=PASSWORD,
            )
            db.session.commit()
            email = user.email
        page = ui.visit("/login")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        ui.audit()
    pages = parameterless_pages(live_app, role)
    assert "/" in pages
    not_pages: set[str] = set()  # feeds, JSON, downloads
    for language, direction in (("fr", "ltr"), ("ar", "rtl")):
        ui.page.context.add_cookies([{"name": "lang", "value": language, "url": ui.base_url}])
        if role is not None:
            with live_app.app_context():
                db.session.execute(update(User).where(User.email == email).values(locale=language))
                db.session.commit()
        for path in pages:
            if path in not_pages:
                continue
            if not opened_a_page(ui.page, ui.url(path)):
                not_pages.add(path)
                continue
            ui.audit()
            expect(ui.page.locator("html")).to_have_attribute("dir", direction)
