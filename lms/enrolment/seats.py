"""Seats: the locks, the counters, the atomic update that takes a seat, the waiting list order.

Seats (DESIGN.md invariants 1-3)
--------------------------------
``cohorts.seats_taken`` counts the enrolled and offered children, ``cohorts.waitlist_count``
the waiting ones; a CHECK constraint keeps ``seats_taken <= capacity``. Every change to a
cohort's seats or waiting list happens with the cohort's row locked (``lock_seats``: SELECT ...
FOR UPDATE on PostgreSQL; on SQLite every write transaction is already serialised by BEGIN
IMMEDIATE), and a seat is taken by an atomic conditional UPDATE (``seats_taken < capacity``
and nobody waiting), so two requests can never take the last seat twice. An enrolment is
inserted after the lock is taken: its id is its place in the queue (first come, first served).

A seat that frees up in a running group is offered at once, in the same transaction, to the
first child waiting (lowest id): the seat stays counted as taken and is held for that family
until a deadline (``offers.offer_deadline``). Accepting is an atomic conditional UPDATE (still
offered, deadline not passed); declining or letting the deadline pass moves the seat to the
next child. An offer past its deadline reads as lapsed at once (``Enrolment.offer_lapsed``:
pages show it so and accepting it is refused), while its seat stays counted until the periodic
job (``offers.expire_offers``, run by the worker and by ``flask lms run-jobs``) cancels it and
offers the seat to the next child: reading a page never writes.

Lock order, so that two transactions never wait for each other: a family's children rows
first, then cohort rows (by id), then enrolment rows.

``check_consistency`` proves all this against the rows (tests, ``flask lms run-jobs``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, or_, select, update

from lms.clock import lab_zone
from lms.courses.cohorts import lock_seats
from lms.courses.models import Cohort
from lms.database import utcnow
from lms.enrolment.models import ACTIVE_STATUSES, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.families.models import Child, Guardianship


def local_day(instant: datetime) -> date:
    """The lab's calendar day at ``instant``."""
    return instant.astimezone(lab_zone()).date()


def is_running(cohort: Cohort, now: datetime | None = None) -> bool:
    """A group whose seats still matter: open or closed for enrolment, not over yet."""
    return cohort.is_running(now or utcnow())


# ---------------------------------------------------------------------------------------------
# Locks


def _family_of(child: Child):
    """The ids of the child and its brothers and sisters: every child sharing a guardian."""
    guardians = select(Guardianship.user_id).where(Guardianship.child_id == child.id)
    return select(Guardianship.child_id).where(Guardianship.user_id.in_(guardians))


def family_child_ids(child: Child) -> list[int]:
    """The child and its brothers and sisters: every child sharing a guardian with it."""
    return sorted({child.id, *db.session.scalars(_family_of(child).distinct())})


def lock_family(child: Child) -> list[int]:
    """Serialise the changes of one family (a no-op on SQLite, already serialised): one
    statement finds the family and locks its children's rows, in id order."""
    ids = db.session.scalars(
        select(Child.id)
        .where(or_(Child.id == child.id, Child.id.in_(_family_of(child))))
        .order_by(Child.id)
        .with_for_update()
    ).all()
    return list(ids)


def lock_children(child_ids: Iterable[int]) -> None:
    """Lock these children's rows, in id order (the first step of the lock order)."""
    db.session.execute(
        select(Child.id).where(Child.id.in_(set(child_ids))).order_by(Child.id).with_for_update()
    ).all()


def lock_cohorts(cohorts: Iterable[Cohort]) -> None:
    """Lock these cohorts' seats, in id order."""
    for cohort in sorted({c.id: c for c in cohorts}.values(), key=lambda c: c.id):
        lock_seats(cohort)


def reread(enrolment: Enrolment) -> Enrolment:
    """The enrolment's row as committed now (call it with the cohort locked)."""
    return db.session.scalars(
        select(Enrolment)
        .where(Enrolment.id == enrolment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


# ---------------------------------------------------------------------------------------------
# Counters


# The counters are moved on the table itself (Core statements): the rows are not loaded, and
# the ORM's bulk-update machinery is not needed; the cohort's attributes are expired instead.
_cohorts = Cohort.__table__


def move_counters(cohort: Cohort, *, seats: int = 0, waiting: int = 0) -> None:
    """Move the cohort's counters (its row is locked by the caller)."""
    db.session.execute(
        update(_cohorts)
        .where(_cohorts.c.id == cohort.id)
        .values(
            seats_taken=_cohorts.c.seats_taken + seats,
            waitlist_count=_cohorts.c.waitlist_count + waiting,
        )
    )
    db.session.expire(cohort, ["seats_taken", "waitlist_count", "updated_at"])


def take_seat(cohort: Cohort) -> bool:
    """Take a free seat if there is one and nobody is waiting for it: one atomic UPDATE."""
    result = db.session.execute(
        update(_cohorts)
        .where(
            _cohorts.c.id == cohort.id,
            _cohorts.c.seats_taken < _cohorts.c.capacity,
            _cohorts.c.waitlist_count == 0,
        )
        .values(seats_taken=_cohorts.c.seats_taken + 1)
    )
    db.session.expire(cohort, ["seats_taken", "updated_at"])
    return result.rowcount == 1


def empty_cohort(cohort: Cohort) -> None:
    """Every place of the cohort ended at once (it was cancelled): no seat held, nobody waiting."""
    db.session.execute(
        update(Cohort)
        .where(Cohort.id == cohort.id)
        .values(seats_taken=0, waitlist_count=0)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(cohort, ["seats_taken", "waitlist_count"])


# ---------------------------------------------------------------------------------------------
# The waiting list


def first_waiting(cohort: Cohort) -> Enrolment | None:
    """The child first in the cohort's waiting list, its row locked (the cohort is locked)."""
    return db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.WAITLISTED)
        .order_by(Enrolment.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def waiting_positions(enrolments: Iterable[Enrolment]) -> dict[int, int]:
    """{enrolment id: place in its group's waiting list (1 = next)}, in one query."""
    waiting = [e for e in enrolments if e.status == EnrolmentStatus.WAITLISTED]
    if not waiting:
        return {}
    cohort_ids = {e.cohort_id for e in waiting}
    place = (
        func.row_number()
        .over(partition_by=Enrolment.cohort_id, order_by=Enrolment.id)
        .label("place")
    )
    ranked = (
        select(Enrolment.id, place)
        .where(
            Enrolment.cohort_id.in_(cohort_ids),
            Enrolment.status == EnrolmentStatus.WAITLISTED,
        )
        .subquery()
    )
    wanted = {e.id for e in waiting}
    return {
        enrolment_id: position
        for enrolment_id, position in db.session.execute(select(ranked.c.id, ranked.c.place))
        if enrolment_id in wanted
    }


def waiting_position(enrolment: Enrolment) -> int | None:
    """The child's place in the group's waiting list (1 = next), or None if not waiting."""
    return waiting_positions([enrolment]).get(enrolment.id)


# ---------------------------------------------------------------------------------------------
# Consistency (tests, `flask lms run-jobs`)


def check_consistency(cohorts: Iterable[Cohort] | None = None) -> list[str]:
    """Every way the stored seats disagree with the enrolments (empty when all is well):
    counters, capacity, one active place per child and group, and no child left waiting while
    a seat of a running group is free."""
    query = select(Cohort).order_by(Cohort.id)
    if cohorts is not None:
        ids = [c.id for c in cohorts]
        query = query.where(Cohort.id.in_(ids or [-1]))
    problems = []
    counts = defaultdict(lambda: defaultdict(int))
    for cohort_id, status, number in db.session.execute(
        select(Enrolment.cohort_id, Enrolment.status, func.count()).group_by(
            Enrolment.cohort_id, Enrolment.status
        )
    ):
        counts[cohort_id][status] = number
    now = utcnow()
    for cohort in db.session.scalars(query.execution_options(populate_existing=True)):
        number = counts[cohort.id]
        seats = number[EnrolmentStatus.ENROLLED] + number[EnrolmentStatus.OFFERED]
        waiting = number[EnrolmentStatus.WAITLISTED]
        if cohort.seats_taken != seats:
            problems.append(f"cohort {cohort.id}: seats_taken {cohort.seats_taken} != {seats}")
        if cohort.waitlist_count != waiting:
            problems.append(
                f"cohort {cohort.id}: waitlist_count {cohort.waitlist_count} != {waiting}"
            )
        if seats > cohort.capacity:
            problems.append(f"cohort {cohort.id}: {seats} seats held, capacity {cohort.capacity}")
        if waiting and seats < cohort.capacity and is_running(cohort, now):
            problems.append(f"cohort {cohort.id}: {waiting} waiting while a seat is free")
    duplicates = db.session.execute(
        select(Enrolment.child_id, Enrolment.cohort_id, func.count())
        .where(Enrolment.status.in_(ACTIVE_STATUSES))
        .group_by(Enrolment.child_id, Enrolment.cohort_id)
        .having(func.count() > 1)
    ).all()
    for child_id, cohort_id, number in duplicates:
        problems.append(f"child {child_id}: {number} active enrolments in cohort {cohort_id}")
    return problems
