"""Who sees a child's safeguarding data: guardians, coordinators, instructors while teaching."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from lms.extensions import db
from lms.families.children import log_medical_access, medical_access_history
from lms.families.data_rights import erase_child
from lms.families.hooks import TeachingPeriod
from lms.families.models import MedicalAccessLog
from lms.families.permissions import (
    can_manage_child,
    can_view_safeguarding,
    instructor_teaches,
    is_guardian,
)
from lms.roles import Role
from tests.conftest import get

pytestmark = pytest.mark.usefixtures("ctx")

START = date(2026, 10, 3)
END = date(2026, 12, 19)


def test_guardians_see_and_manage_their_child(parent, co_parent, child):
    assert is_guardian(get(parent), child)
    assert can_manage_child(get(parent), child)
    assert can_view_safeguarding(get(parent), child)
    assert not is_guardian(get(co_parent), child)


def test_another_parent_sees_nothing(other_parent, child):
    assert not can_manage_child(get(other_parent), child)
    assert not can_view_safeguarding(get(other_parent), child)


def test_coordinators_see_everything_but_do_not_manage(coordinator, child):
    assert can_view_safeguarding(get(coordinator), child)
    assert not can_manage_child(get(coordinator), child)


def test_instructors_see_nothing_without_an_enrolment_domain(instructor, child):
    """Until cohorts and enrolments exist, no instructor teaches anybody."""
    assert not can_view_safeguarding(get(instructor), child, on=START)


@pytest.mark.parametrize(
    ("day", "visible"),
    [
        (START - timedelta(days=1), False),  # before the enrolment
        (START, True),
        (END, True),
        (END + timedelta(days=30), True),  # 30 days after the cohort ends
        (END + timedelta(days=31), False),
    ],
)
def test_instructors_see_the_children_they_teach_while_they_teach(
    teaching, instructor, child, day, visible
):
    teaching[(instructor.id, child.id)] = [TeachingPeriod(start=START, cohort_end=END)]
    assert can_view_safeguarding(get(instructor), child, on=day) is visible


def test_only_the_child_they_teach(teaching, make_user, instructor, child, make_child, parent):
    sibling = make_child(parent, first_name="Adam")
    colleague = make_user(Role.INSTRUCTOR)
    teaching[(instructor.id, child.id)] = [TeachingPeriod(start=START, cohort_end=END)]
    assert can_view_safeguarding(get(instructor), child, on=START)
    assert not can_view_safeguarding(get(instructor), sibling, on=START)
    assert not can_view_safeguarding(get(colleague), child, on=START)


def test_any_of_several_periods_counts(teaching, instructor, child):
    teaching[(instructor.id, child.id)] = [
        TeachingPeriod(start=date(2026, 1, 10), cohort_end=date(2026, 3, 28)),
        TeachingPeriod(start=START, cohort_end=END),
    ]
    assert instructor_teaches(get(instructor), child, on=date(2026, 4, 27))
    assert not instructor_teaches(get(instructor), child, on=date(2026, 6, 1))
    assert instructor_teaches(get(instructor), child, on=date(2026, 11, 1))


def test_the_grace_period_is_configurable(app, teaching, instructor, child):
    app.config["INSTRUCTOR_ACCESS_DAYS_AFTER_COHORT"] = 7
    teaching[(instructor.id, child.id)] = [TeachingPeriod(start=START, cohort_end=END)]
    assert can_view_safeguarding(get(instructor), child, on=END + timedelta(days=7))
    assert not can_view_safeguarding(get(instructor), child, on=END + timedelta(days=8))


def test_by_default_the_day_is_today_in_tangier(teaching, instructor, child):
    start = date(2026, 1, 10)
    teaching[(instructor.id, child.id)] = [TeachingPeriod(start=start, cohort_end=END)]
    with time_machine.travel("2026-01-09 23:30:00+00:00", tick=False):  # 10 January in Tangier
        assert can_view_safeguarding(get(instructor), child)
    with time_machine.travel("2026-01-09 22:30:00+00:00", tick=False):
        assert not can_view_safeguarding(get(instructor), child)


def test_deactivated_staff_see_nothing(coordinator, child):
    user = get(coordinator)
    user.active = False
    assert not can_view_safeguarding(user, child)


def test_nobody_sees_an_erased_child(parent, coordinator, child):
    erase_child(child, actor=get(parent), password="correct-horse-battery")
    assert not can_view_safeguarding(get(coordinator), child)
    assert not can_manage_child(get(parent), child)


def test_staff_openings_are_logged_and_parents_are_not(parent, coordinator, instructor, child):
    assert log_medical_access(child, staff=get(parent)) is None
    log_medical_access(child, staff=get(coordinator))
    log_medical_access(child, staff=get(instructor))
    db.session.commit()
    entries = medical_access_history(child)
    assert [e.staff_id for e in entries] == [instructor.id, coordinator.id]  # newest first
    assert db.session.scalar(db.select(db.func.count()).select_from(MedicalAccessLog)) == 2
