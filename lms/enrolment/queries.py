"""Reading enrolments: a family's overview, a group's roster, and what the lower domains ask
(through the hooks answered in lms/enrolment/wiring.py). Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.courses.models import Cohort, CohortInstructor
from lms.courses.terms import Term, term_of
from lms.database import utcnow
from lms.enrolment.models import SEAT_STATUSES, Enrolment, EnrolmentStatus, Payment
from lms.enrolment.seats import local_day, waiting_positions
from lms.enrolment.transfers import transfer_reference
from lms.extensions import db
from lms.families.models import Child, Guardianship

# ---------------------------------------------------------------------------------------------
# A family


@dataclass
class ChildEnrolments:
    child: Child
    enrolments: list[Enrolment] = field(default_factory=list)


@dataclass(frozen=True)
class TermOwed:
    """What a family still owes for a term, and the reference its bank transfers carry."""

    term: Term
    owed_centimes: int
    transfer_reference: str


@dataclass
class FamilyOverview:
    """What a parent's page shows: each child's groups, waiting places, offers, and fees."""

    children: list[ChildEnrolments]
    positions: dict[int, int]
    payments: list[Payment]
    due_centimes: int
    paid_centimes: int
    terms_owed: list[TermOwed]

    @property
    def balance_centimes(self) -> int:
        return self.due_centimes - self.paid_centimes

    @property
    def offers(self) -> list[Enrolment]:
        """The seats offered that the family may still accept (a lapsed one is not)."""
        return [e for c in self.children for e in c.enrolments if e.offer_is_open]


def _enrolment_options():
    return (
        joinedload(Enrolment.cohort).joinedload(Cohort.course),
        joinedload(Enrolment.cohort).joinedload(Cohort.room),
        selectinload(Enrolment.payments),
    )


def family_enrolments(children: Sequence[Child]) -> list[Enrolment]:
    """Every enrolment of these children, newest group first."""
    ids = [child.id for child in children]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(Enrolment.child_id.in_(ids))
            .options(*_enrolment_options())
            .order_by(Cohort.start_date.desc(), Enrolment.id.desc())
        ).unique()
    )


def family_overview(user: User, children: Sequence[Child]) -> FamilyOverview:
    """The enrolments, waiting places, offers and fees of ``user``'s children."""
    enrolments = family_enrolments(children)
    by_child: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in enrolments:
        by_child[enrolment.child_id].append(enrolment)
    payments = sorted(
        (p for e in enrolments for p in e.payments), key=lambda p: (p.paid_on, p.id), reverse=True
    )
    return FamilyOverview(
        children=[ChildEnrolments(child, by_child.get(child.id, [])) for child in children],
        positions=waiting_positions(enrolments),
        payments=payments,
        # A seat offered is owed once accepted.
        due_centimes=sum(
            e.amount_due_centimes for e in enrolments if e.status != EnrolmentStatus.OFFERED
        ),
        paid_centimes=sum(e.paid_centimes for e in enrolments),
        terms_owed=_terms_owed(user, enrolments),
    )


def _terms_owed(user: User, enrolments: Sequence[Enrolment]) -> list[TermOwed]:
    owed: dict[Term, int] = defaultdict(int)
    for enrolment in enrolments:
        if enrolment.status != EnrolmentStatus.OFFERED and enrolment.balance_centimes > 0:
            owed[term_of(enrolment.cohort.start_date)] += enrolment.balance_centimes
    return [
        TermOwed(term, amount, transfer_reference(user.id, term))
        for term, amount in sorted(owed.items(), key=lambda item: item[0].starts_on)
    ]


# ---------------------------------------------------------------------------------------------
# A group


@dataclass
class CohortRoster:
    """A coordinator's view of a group's seats: who is in, who waits, who has an offer."""

    cohort: Cohort
    enrolled: list[Enrolment]
    offered: list[Enrolment]
    waiting: list[Enrolment]
    ended: list[Enrolment]

    @property
    def payments(self) -> list[Payment]:
        everyone = self.enrolled + self.offered + self.ended
        return sorted((p for e in everyone for p in e.payments), key=lambda p: (p.paid_on, p.id))

    @property
    def due_centimes(self) -> int:
        # A seat offered is owed once accepted.
        return sum(e.amount_due_centimes for e in self.enrolled + self.ended)

    @property
    def paid_centimes(self) -> int:
        return sum(p.kept_centimes for p in self.payments)  # less the credit notes


def cohort_roster(cohort: Cohort) -> CohortRoster:
    """The group's enrolments sorted for the coordinator's page (waiting list in order)."""
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id)
        .options(
            selectinload(Enrolment.child)
            .selectinload(Child.guardianships)
            .joinedload(Guardianship.user),
            selectinload(Enrolment.payments),
        )
        .order_by(Enrolment.id)
    ).all()
    by_status: dict[str, list[Enrolment]] = defaultdict(list)
    for enrolment in enrolments:
        by_status[enrolment.status].append(enrolment)
    return CohortRoster(
        cohort=cohort,
        enrolled=by_status[EnrolmentStatus.ENROLLED],
        offered=by_status[EnrolmentStatus.OFFERED],
        waiting=by_status[EnrolmentStatus.WAITLISTED],
        ended=by_status[EnrolmentStatus.WITHDRAWN] + by_status[EnrolmentStatus.CANCELLED],
    )


# ---------------------------------------------------------------------------------------------
# What the lower domains ask (registered in lms/enrolment/wiring.py)


def seat_holders_guardians(cohort: Cohort) -> list[User]:
    """The parents of the children enrolled in the group or offered a seat in it."""
    return list(
        db.session.scalars(
            select(User)
            .join(Guardianship, Guardianship.user_id == User.id)
            .join(Enrolment, Enrolment.child_id == Guardianship.child_id)
            .where(
                Enrolment.cohort_id == cohort.id,
                Enrolment.status.in_(SEAT_STATUSES),
                User.active.is_(True),
            )
            .distinct()
            .order_by(User.id)
        )
    )


def seat_holders_names(cohort: Cohort) -> dict[int, list[str]]:
    """Per guardian (user id), the first names of their children holding a seat in the group."""
    names: dict[int, list[str]] = {}
    for user_id, first_name in db.session.execute(
        select(Guardianship.user_id, Child.first_name)
        .join(Enrolment, Enrolment.child_id == Guardianship.child_id)
        .join(Child, Child.id == Guardianship.child_id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(SEAT_STATUSES))
        .order_by(Guardianship.user_id, Child.date_of_birth, Child.id)
    ):
        names.setdefault(user_id, []).append(first_name)
    return names


def family_cohort_ids(user: User) -> list[int]:
    """The groups in which one of the user's children is enrolled."""
    return list(
        db.session.scalars(
            select(Enrolment.cohort_id)
            .join(Guardianship, Guardianship.child_id == Enrolment.child_id)
            .where(Guardianship.user_id == user.id, Enrolment.status == EnrolmentStatus.ENROLLED)
            .distinct()
        )
    )


def teaching_spans(instructor: User, child: Child) -> list[tuple[date, date]]:
    """(from the enrolment, to the group's end) for each group of ``instructor`` in which
    ``child`` is enrolled."""
    rows = db.session.execute(
        select(Enrolment.enrolled_at, Enrolment.created_at, Cohort.end_date)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .join(CohortInstructor, CohortInstructor.cohort_id == Cohort.id)
        .where(
            Enrolment.child_id == child.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
            CohortInstructor.instructor_id == instructor.id,
        )
    ).all()
    return [(local_day(enrolled_at or created_at), end) for enrolled_at, created_at, end in rows]


def last_cohort_ends(today: date | None = None) -> dict[int, date]:
    """{child id: the day the child's last group ended}, for children who were enrolled
    somewhere and are no longer in any group that is still to end."""
    today = today or local_day(utcnow())
    ends: dict[int, date] = {}
    still_in: set[int] = set()
    rows = db.session.execute(
        select(Enrolment.child_id, Enrolment.status, Enrolment.ended_at, Cohort.end_date)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Enrolment.enrolled_at.is_not(None))
    )
    for child_id, status, ended_at, end_date in rows:
        if status == EnrolmentStatus.ENROLLED:
            if end_date >= today:
                still_in.add(child_id)
                continue
            last = end_date
        else:
            last = min(end_date, local_day(ended_at)) if ended_at else end_date
        ends[child_id] = max(last, ends.get(child_id, last))
    return {child_id: day for child_id, day in ends.items() if child_id not in still_in}
