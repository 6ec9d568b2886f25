"""Fixtures of the payment tests: the enrolment tests' world (reused, not copied) and a
family that owes a term's fee."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lms.enrolment.joining import enrol
from lms.extensions import db
from tests.conftest import get
from tests.enrolment.conftest import (  # noqa: F401 - fixtures shared with the enrolment tests
    _real_wiring,
    config_overrides,
    frozen_now,
    make_cohort,
    make_family,
    user_locale,
    world,
)


@pytest.fixture
def owing(make_family, make_cohort) -> SimpleNamespace:  # noqa: F811
    """A parent whose child is enrolled in an 800 MAD group of autumn 2026, nothing paid."""
    user, child = make_family(first_name="Yasmine")
    user.full_name = "Karim Alaoui"
    cohort = make_cohort(capacity=5)
    enrolment = enrol(child, cohort, actor=get(user))
    db.session.commit()
    return SimpleNamespace(parent=get(user), child=child, cohort=cohort, enrolment=enrolment)
