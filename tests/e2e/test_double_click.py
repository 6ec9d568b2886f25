"""A double click on "add the child" adds one child: the page does not send the form twice
while it is on its way, and without JavaScript the server gives a second copy no effect."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from lms.accounts.services import create_user
from lms.clock import local_today
from lms.extensions import db
from lms.families.models import Child
from tests.conftest import PASSWORD

PARENT_EMAIL = "double.click@example.ma"


def _children(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Child))


def _add_child_with_a_double_click(page, base_url: str, born) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Adresse e-mail").fill(PARENT_EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/parent")
    page.goto(base_url + "/children/new")
    page.get_by_label("Prénom", exact=True).fill("Yasmine")
    page.get_by_label("Nom", exact=True).fill("Alaoui")
    page.get_by_label("Date de naissance").fill(born.isoformat())
    page.get_by_label("Lien avec l'enfant").fill("Père")
    page.get_by_role("button", name="Ajouter cet enfant").dblclick()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yasmine Alaoui")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_double_click_on_add_the_child_adds_one_child(browser, live_server, live_app, javascript):
    with live_app.app_context():
        create_user(
            full_name="Karim Alaoui",
            email=PARENT_EMAIL,
            role="parent",
            phone="+212612345601",
            password=PASSWORD,
        )
        db.session.commit()
        today = local_today()
    born = today.replace(year=today.year - 9, day=1)
    context = browser.new_context(locale="fr-FR", java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        posts = []
        page.on(
            "request",
            lambda r: posts.append(r) if r.method == "POST" and "/children/new" in r.url else None,
        )
        _add_child_with_a_double_click(page, live_server.url, born)
        page.wait_for_timeout(500)  # a second copy, if any, has arrived by now
        if javascript:
            assert len(posts) == 1  # the page held the second click back
        else:
            # Without the script, whether the browser lets the second click go depends on
            # timing; send the same submission again from another connection as a retry does.
            first = posts[0]
            again = context.request.post(
                first.url,
                data=first.post_data,
                headers={"Content-Type": first.headers["content-type"]},
                max_redirects=0,
            )
            assert again.status == 303  # "already received", sent where the first one went
            assert again.headers["location"].endswith(page.url.removeprefix(live_server.url))
        assert _children(live_app) == 1
    finally:
        context.close()
        from tests.e2e.conftest import _empty_tables

        _empty_tables(live_app)
