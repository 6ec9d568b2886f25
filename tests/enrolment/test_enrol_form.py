"""The enrolment form: a child who cannot take the group is shown disabled, its reason once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.enrolment.models import Enrolment
from lms.extensions import db

REASON = "On the group&#39;s first day (7 October 2026) Adam will be 12"


@pytest.fixture
def family(make_family, add_child):
    """Karim's family: Yasmine (9) and Adam (12, too old for the course)."""
    user, yasmine = make_family(first_name="Yasmine")
    adam = add_child(user, first_name="Adam", age=12)
    return user, yasmine, adam


def test_a_child_who_cannot_take_the_group_is_disabled_with_its_reason(
    client, login_as, cohort, family
):
    user, yasmine, adam = family
    login_as(user)
    page = client.get(f"/cohorts/{cohort.id}/enrol").get_data(as_text=True)
    adam_box = re.search(rf'<input[^>]*aria-describedby="child-{adam.id}-reason"[^>]*>', page)
    assert adam_box
    assert "disabled" in adam_box.group(0)
    assert 'name="children"' not in adam_box.group(0)  # nothing of Adam's is sent
    assert page.count(REASON) == 1
    assert re.search(rf'<p class="reason" id="child-{adam.id}-reason">{re.escape(REASON)}', page)
    yasmine_box = re.search(rf'<input[^>]*value="{yasmine.id}"[^>]*>', page).group(0)
    assert "disabled" not in yasmine_box
    assert "checked" in yasmine_box


def test_a_refused_child_says_why_once_without_a_generic_please_correct(
    client, login_as, cohort, family
):
    user, _, adam = family
    login_as(user)
    response = client.post(f"/cohorts/{cohort.id}/enrol", data={"children": adam.id})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count(REASON) == 1
    assert "Please correct the highlighted fields." not in page
    assert "No child could be enrolled: the reason is beside each name." in page
    assert db.session.scalars(select(Enrolment)).all() == []
