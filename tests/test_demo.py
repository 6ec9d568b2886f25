"""The demo data loads on any day of the year and shows every domain's situations: loaded once
for each day, then checked by each domain, then loaded again to add nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from lms.certificates.models import Certificate
from lms.demo import seed_demo
from lms.extensions import db
from tests.certificates.test_demo import check_the_certificates
from tests.courses.demo_checks import check_the_catalogue
from tests.enrolment.demo_checks import check_the_enrolments


@pytest.mark.parametrize(
    "today",
    [
        datetime(2026, 9, 7, 8, 0, tzinfo=UTC),  # the first day of the school year
        datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        datetime(2027, 1, 10, 20, 0, tzinfo=UTC),  # a Sunday evening
        datetime(2027, 6, 28, 8, 0, tzinfo=UTC),  # the last week
        datetime(2027, 8, 31, 23, 30, tzinfo=UTC),  # the summer's last night
    ],
)
def test_the_demo_on_any_day(ctx, today):
    with time_machine.travel(today, tick=False):
        created = seed_demo()
        check_the_catalogue(created, today)
        check_the_enrolments(created)
        check_the_certificates(created, today)

        certificates = db.session.scalar(select(func.count()).select_from(Certificate))
        assert seed_demo(if_empty=True) is None
        seed_demo()  # loading again over the data adds nothing
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == certificates
