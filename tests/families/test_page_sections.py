"""Higher domains add sections to a child's page through ``child_page_sections``."""

from __future__ import annotations

from jinja2 import ChoiceLoader, DictLoader

from lms.families import hooks


def test_a_registered_section_is_shown_to_the_guardian(app, client, login_as, parent, child):
    seen = []

    def section(shown_child, viewer):
        seen.append((shown_child.id, viewer.id))
        return hooks.PageSection("families/_test_section.html", {"label": "Robotique, samedi"})

    app.jinja_loader = ChoiceLoader(
        [
            DictLoader({"families/_test_section.html": "<p>{{ context.label }}</p>"}),
            app.jinja_loader,
        ]
    )
    hooks.child_page_sections.register(section)
    try:
        login_as(parent)
        page = client.get(f"/children/{child.id}").get_data(as_text=True)
    finally:
        hooks.child_page_sections.unregister(section)
    assert "<p>Robotique, samedi</p>" in page
    assert seen == [(child.id, parent.id)]


def test_none_adds_nothing(app, client, login_as, parent, child):
    def nothing(shown_child, viewer):
        return None

    hooks.child_page_sections.register(nothing)
    try:
        login_as(parent)
        assert client.get(f"/children/{child.id}").status_code == 200
    finally:
        hooks.child_page_sections.unregister(nothing)
