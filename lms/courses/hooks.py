"""What the courses domain needs to know from the domains above it, as hooks they fill.

Courses sits below enrolment, so it never imports it. Instead a higher domain registers a
provider here at import time, for example in ``lms/enrolment/__init__.py``::

    from lms.courses import hooks

    @hooks.cohort_recipients.provide
    def parents_of_enrolled_children(cohort): ...

Until something is registered each hook answers its default: nobody, no children, no lessons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from lms.hooks import Hook, PageSection, Provider


@dataclass(frozen=True)
class ChildSummary:
    """What the catalogue needs to know about a child: who, and born when."""

    id: int
    name: str
    birth_date: date


# (cohort) -> the users (parents) to tell when a lesson of the cohort is moved, cancelled or
# added, or the cohort is cancelled. The enrolment domain answers: the parents of the children
# enrolled in the cohort.
cohort_recipients: Provider[Iterable[Any]] = Provider("cohort_recipients", lambda cohort: ())

# (cohort) -> {user id: first names of that user's children holding a seat in the cohort}: the
# short WhatsApp and SMS texts name the child.
cohort_children_names: Provider[dict] = Provider("cohort_children_names", lambda cohort: {})


def _children_from_families(user) -> list[ChildSummary]:
    # Families is below courses: asked directly, in one query. Tests may provide another answer.
    from sqlalchemy import select

    from lms.extensions import db
    from lms.families.models import Child, Guardianship

    rows = db.session.execute(
        select(Child.id, Child.first_name, Child.date_of_birth)
        .join(Guardianship, Guardianship.child_id == Child.id)
        .where(
            Guardianship.user_id == user.id,
            Child.erased_at.is_(None),
            Child.date_of_birth.is_not(None),
        )
        .order_by(Child.date_of_birth, Child.id)
    )
    return [ChildSummary(id=id_, name=name, birth_date=born) for id_, name, born in rows]


# (user) -> the children this user may search the catalogue for.
family_children: Provider[Iterable[ChildSummary]] = Provider(
    "family_children", _children_from_families
)

# (user) -> ids of the cohorts whose lessons go in the user's private family calendar
# (enrolment domain: the cohorts their children are enrolled in).
family_cohort_ids: Provider[Iterable[int]] = Provider("family_cohort_ids", lambda user: ())

# The providers above, which the courses tests reset after each test.
ALL_HOOKS = (cohort_recipients, cohort_children_names, family_children, family_cohort_ids)


# ---------------------------------------------------------------------------------------------
# Higher domains taking part in what courses does (lists of functions; none by default)


@dataclass(frozen=True)
class Action:
    """A link a higher domain adds to a cohort's card in the catalogue (e.g. "Enrol")."""

    label: Any
    url: str
    primary: bool = False


# (cohort, user) -> actions on the cohort's card for this visitor.
cohort_card_actions: Hook[Callable[[Any, Any], Sequence[Action]]] = Hook("cohort_card_actions")

# (cohort) -> a section of the coordinators' cohort page, or None.
cohort_page_sections: Hook[Callable[[Any], PageSection | None]] = Hook("cohort_page_sections")

# (cohort, old capacity, new capacity, actor), after the change is flushed; the cohort row is
# locked (update_cohort locks it before checking the seats taken).
capacity_changed: Hook[Callable[[Any, int, int, Any], None]] = Hook("capacity_changed")

# (cohort, actor), when a coordinator cancels a cohort, after the families named by
# ``cohort_recipients`` were told and before the status changes.
cohort_cancelled: Hook[Callable[[Any, Any], None]] = Hook("cohort_cancelled")
