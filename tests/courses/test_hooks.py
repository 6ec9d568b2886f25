"""The hooks through which higher domains take part in courses' pages and changes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from jinja2 import ChoiceLoader, DictLoader

from lms.courses import hooks
from lms.courses.cohorts import CohortPlan, set_cohort_status, update_cohort
from lms.courses.models import CohortStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.families.hooks import PageSection


@pytest.fixture
def registered() -> Iterator:
    """register(hook, function): registered for this test only."""
    done = []

    def register(hook, function):
        hook.register(function)
        done.append((hook, function))
        return function

    yield register
    for hook, function in done:
        hook.unregister(function)


WRITES = ("INSERT", "UPDATE", "DELETE")


def _update(cohort, staff, capacity):
    return update_cohort(
        cohort, replace(CohortPlan.of(cohort), capacity=capacity), actor=staff.coordinator
    )


def test_capacity_changes_are_announced_after_the_change(cohort, staff, registered):
    seen = []
    registered(
        hooks.capacity_changed,
        lambda c, old, new, actor: seen.append((c.id, old, new, actor.id, c.capacity)),
    )
    _update(cohort, staff, 14)
    assert seen == [(cohort.id, 12, 14, staff.coordinator.id, 14)]
    _update(cohort, staff, 14)  # unchanged: nothing announced
    assert len(seen) == 1


def test_the_capacity_is_checked_against_fresh_seat_counts(cohort, staff):
    # Another transaction took seats since the page was loaded: the check reads them again.
    db.session.execute(
        db.update(type(cohort)).where(type(cohort).id == cohort.id).values(seats_taken=10)
    )
    with pytest.raises(DomainError, match="10 places sont déjà prises"):
        _update(cohort, staff, 9)


def test_cancelling_a_cohort_lets_the_domains_above_act_after_the_families_are_told(
    cohort, staff, registered, families
):
    order = []
    families.recipients[cohort.id] = [staff.lead]  # anyone, to see the order
    registered(hooks.cohort_cancelled, lambda c, actor: order.append(("hook", c.status)))
    set_cohort_status(cohort, CohortStatus.CANCELLED, actor=staff.coordinator)
    assert order == [("hook", CohortStatus.OPEN)]
    assert cohort.status == CohortStatus.CANCELLED


def test_pages_that_show_cohorts_write_nothing(
    client, cohort, login_as, coordinator, count_statements
):
    # Lapsed seat offers move on in the worker, not when a page shows the cohort.
    db.session.commit()
    login_as(coordinator)
    with count_statements() as counter:
        for page in (
            "/catalogue",
            f"/catalogue/courses/{cohort.course_id}",
            f"/coordinator/cohorts/{cohort.id}",
        ):
            assert client.get(page).status_code == 200
    writes = [s for s in counter.statements if s.lstrip().upper().startswith(WRITES)]
    assert counter.count > 0
    assert writes == []


def test_cards_and_the_cohort_page_show_what_the_domains_above_add(
    client, cohort, registered, login_as, coordinator, app
):
    db.session.commit()
    registered(
        hooks.cohort_card_actions,
        lambda c, user: [hooks.Action(label="Reserve", url=f"/reserve/{c.id}", primary=True)],
    )
    registered(
        hooks.cohort_page_sections,
        lambda c: PageSection("courses/_test_section.html", {"number": c.id}),
    )
    catalogue = client.get("/catalogue").get_data(as_text=True)
    assert f'href="/reserve/{cohort.id}"' in catalogue
    # A section template of the "domain above", for this test only.
    section = DictLoader({"courses/_test_section.html": "<p>section {{ context.number }}</p>"})
    app.jinja_loader = ChoiceLoader([section, app.jinja_loader])
    login_as(coordinator)
    page = client.get(f"/coordinator/cohorts/{cohort.id}").get_data(as_text=True)
    assert f"<p>section {cohort.id}</p>" in page
