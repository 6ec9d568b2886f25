"""Demo data for `flask lms seed-demo`: a believable week at the Technopark of Tangier.

Each domain adds its own module here; ``seed_demo`` runs them in dependency order.
"""

from __future__ import annotations

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.demo import (
    accounts,
    attendance,
    certificates,
    courses,
    enrolment,
    families,
    operations,
    regulars,
)
from lms.extensions import db

DEMO_PASSWORD = accounts.DEMO_PASSWORD


def seed_demo(*, if_empty: bool = False) -> dict | None:
    """Create the demo data; None if ``if_empty`` and accounts already exist."""
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        return None
    people = accounts.seed()
    children = families.seed(people)
    catalogue = courses.seed(people)
    enrolments = enrolment.seed(people)
    classes = regulars.seed(people)  # the groups under way get their children
    finished = certificates.enrol(people)  # a group that is over, joined before it started
    operations.prepare(people)  # places in running groups date from before their start
    roll_calls = attendance.seed(people, skip=finished)  # it needs everything above
    issued = certificates.seed(people)  # the finished group's register and certificates
    dashboard = operations.seed(people)  # a child at risk, a message sent
    return {
        "people": people,
        "children": children,
        "catalogue": catalogue,
        "enrolments": enrolments,
        "regulars": classes,
        "attendance": roll_calls,
        "certificates": issued,
        "operations": dashboard,
    }


def demo_logins() -> list[tuple[str, str]]:
    """(role, e-mail) of the demo accounts, for the start-up banner."""
    return [(role, email) for role, email, *_ in accounts.DEMO_USERS]
