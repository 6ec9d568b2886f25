"""Enrolment rules: who may join which group, the waiting list, seat offers, fees, payments.

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
until a deadline (``offer_deadline``). Accepting is an atomic conditional UPDATE (still offered,
deadline not passed); declining or letting the deadline pass moves the seat to the next child.
Lapsed offers are processed by ``expire_offers``: from cron (``flask lms run-jobs``) and
whenever a cohort is shown.

Lock order, so that two transactions never wait for each other: a family's children rows
first, then cohort rows (by id), then enrolment rows.

Fees
----
The course's price is copied onto the enrolment when the child joins. The sibling discount
(``SIBLING_DISCOUNT_PERCENT``) applies per family and term (the term the group starts in):
among the children of a family (children who share a guardian) with an enrolled place in
groups of that term, the child who enrolled first (lowest enrolment id) pays full price for
all their groups; every group of every other child gets the discount. It is recomputed
whenever one of the family's enrolled places in that term starts or ends for a reason of the
family's (enrolment, accepted offer, withdrawal, cancellation, move, erasure); a group the lab
cancels never makes a family pay more elsewhere, so a cohort's cancellation leaves the other
discounts as they are. A coordinator may waive part or all of a fee (scholarship) with a
reason; payments are recorded against an enrolment and each has a numbered receipt.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from babel.lists import format_list
from flask import current_app
from flask_babel import format_date, format_time, get_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from lms.accounts.models import User
from lms.audit.services import record
from lms.courses.calendar import build_calendar
from lms.courses.cohorts import lock_seats
from lms.courses.models import (
    Cohort,
    CohortInstructor,
    CohortStatus,
    Course,
    Lesson,
    LessonStatus,
    lab_zone,
)
from lms.courses.terms import Term, term_of
from lms.database import utcnow
from lms.enrolment import hooks
from lms.enrolment.models import (
    ACTIVE_STATUSES,
    SEAT_STATUSES,
    EndReason,
    Enrolment,
    EnrolmentStatus,
    Payment,
    PaymentMethod,
    PrerequisiteWaiver,
)
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child, Guardianship, age_in_years
from lms.families.permissions import can_manage_child
from lms.i18n import current_language
from lms.money import format_money
from lms.notifications.services import Attachment, queue_email_to_user

REASON_MAX = 500
REFERENCE_MAX = 80
OFFER_SALT = "enrolment-offer"
OFFER_ACTIONS = ("accept", "decline")


# ---------------------------------------------------------------------------------------------
# Small helpers


def local_day(instant: datetime) -> date:
    """The lab's calendar day at ``instant``."""
    return instant.astimezone(lab_zone()).date()


def is_running(cohort: Cohort, now: datetime | None = None) -> bool:
    """A group whose seats still matter: open or closed for enrolment, not over yet."""
    return cohort.is_running(now or utcnow())


def _clean(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def _child_name(child: Child) -> str:
    return child.first_name


def _course_title(course: Course) -> str:
    return course.title(current_language())


def guardians_of(child: Child) -> list[User]:
    """The child's guardians whose accounts are active (each is told about the child)."""
    return [g.user for g in child.guardianships if g.user is not None and g.user.active]


def _tell_guardians(
    child: Child,
    template: str,
    *,
    attachments_for: Callable[[User], tuple[Attachment, ...]] | None = None,
    **context,
) -> int:
    """Queue ``template`` to each guardian of ``child``, in their own language."""
    sent = 0
    for user in guardians_of(child):
        attachments = attachments_for(user) if attachments_for else ()
        queue_email_to_user(user, template, child=child, attachments=attachments, **context)
        sent += 1
    return sent


def _require_guardian(actor: User, child: Child) -> None:
    if actor is None or not can_manage_child(actor, child):
        raise DomainError(
            _l("You can only enrol and withdraw your own children."), field="children"
        )


def _require_coordinator(actor: User) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_coordinator:
        raise DomainError(_l("Only coordinators can do this."))


# ---------------------------------------------------------------------------------------------
# Locks and counters


def family_child_ids(child: Child) -> list[int]:
    """The child and its brothers and sisters: every child sharing a guardian with it."""
    guardians = select(Guardianship.user_id).where(Guardianship.child_id == child.id)
    ids = set(
        db.session.scalars(
            select(Guardianship.child_id).where(Guardianship.user_id.in_(guardians)).distinct()
        )
    )
    ids.add(child.id)
    return sorted(ids)


def _lock_family(child: Child) -> list[int]:
    """Serialise fee changes of one family (a no-op on SQLite, already serialised)."""
    ids = family_child_ids(child)
    db.session.execute(
        select(Child.id).where(Child.id.in_(ids)).order_by(Child.id).with_for_update()
    ).all()
    return ids


def _lock_cohorts(cohorts: Iterable[Cohort]) -> None:
    for cohort in sorted({c.id: c for c in cohorts}.values(), key=lambda c: c.id):
        lock_seats(cohort)


def _reread(enrolment: Enrolment) -> Enrolment:
    """The enrolment's row as committed now (call it with the cohort locked)."""
    return db.session.scalars(
        select(Enrolment)
        .where(Enrolment.id == enrolment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _count(cohort: Cohort, *, seats: int = 0, waiting: int = 0) -> None:
    """Move the cohort's counters (its row is locked by the caller)."""
    db.session.execute(
        update(Cohort)
        .where(Cohort.id == cohort.id)
        .values(
            seats_taken=Cohort.seats_taken + seats,
            waitlist_count=Cohort.waitlist_count + waiting,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(cohort, ["seats_taken", "waitlist_count"])


def _take_seat(cohort: Cohort) -> bool:
    """Take a free seat if there is one and nobody is waiting for it: one atomic UPDATE."""
    result = db.session.execute(
        update(Cohort)
        .where(
            Cohort.id == cohort.id,
            Cohort.seats_taken < Cohort.capacity,
            Cohort.waitlist_count == 0,
        )
        .values(seats_taken=Cohort.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(cohort, ["seats_taken"])
    return result.rowcount == 1


def _first_waiting(cohort: Cohort) -> Enrolment | None:
    return db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.WAITLISTED)
        .order_by(Enrolment.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


# ---------------------------------------------------------------------------------------------
# Eligibility


def children_for_enrolment(user: User) -> list[Child]:
    """The children a parent may enrol, oldest first, with their guardians loaded."""
    return list(
        db.session.scalars(
            select(Child)
            .join(Guardianship, Guardianship.child_id == Child.id)
            .where(Guardianship.user_id == user.id, Child.erased_at.is_(None))
            .options(selectinload(Child.guardianships).joinedload(Guardianship.user))
            .order_by(Child.date_of_birth, Child.id)
        )
    )


def _check_open_to_families(cohort: Cohort, now: datetime) -> None:
    if cohort.status != CohortStatus.OPEN:
        raise DomainError(_l("This group is not open for enrolment."), field="children")
    if cohort.enrolment_opens_at and now < cohort.enrolment_opens_at:
        raise DomainError(
            _l(
                "Enrolment for this group opens on %(date)s.",
                date=format_date(local_day(cohort.enrolment_opens_at), "long"),
            ),
            field="children",
        )
    if cohort.enrolment_closes_at and now >= cohort.enrolment_closes_at:
        raise DomainError(
            _l(
                "Enrolment for this group closed on %(date)s.",
                date=format_date(cohort.enrolment_last_day, "long"),
            ),
            field="children",
        )
    if cohort.end_date < local_day(now):
        raise DomainError(_l("This group is over."), field="children")


def _check_running(cohort: Cohort, now: datetime) -> None:
    if not is_running(cohort, now):
        raise DomainError(
            _l("This group is not running: it is a draft, cancelled or over."), field="children"
        )


def _check_child(child: Child) -> None:
    if child.is_erased:
        raise DomainError(_l("This child's data was erased."), field="children")


def _active_enrolment(child: Child, cohort: Cohort) -> Enrolment | None:
    return db.session.scalars(
        select(Enrolment).where(
            Enrolment.child_id == child.id,
            Enrolment.cohort_id == cohort.id,
            Enrolment.status.in_(ACTIVE_STATUSES),
        )
    ).first()


def _check_not_already(child: Child, cohort: Cohort) -> None:
    existing = _active_enrolment(child, cohort)
    if existing is None:
        return
    name = _child_name(child)
    messages = {
        EnrolmentStatus.ENROLLED: _l("%(name)s is already enrolled in this group.", name=name),
        EnrolmentStatus.WAITLISTED: _l(
            "%(name)s is already on this group's waiting list.", name=name
        ),
        EnrolmentStatus.OFFERED: _l(
            "A seat in this group is already offered to %(name)s: accept it from your page.",
            name=name,
        ),
    }
    raise DomainError(messages[existing.status], field="children")


def _check_age(child: Child, cohort: Cohort) -> None:
    course = cohort.course
    if cohort.accepts_age(child.date_of_birth):
        return
    raise DomainError(
        _l(
            "On the group's first day (%(date)s) %(name)s will be %(age)d; this course is for "
            "children aged %(min)d to %(max)d.",
            date=format_date(cohort.start_date, "long"),
            name=_child_name(child),
            age=age_in_years(child.date_of_birth, cohort.start_date),
            min=course.min_age,
            max=course.max_age,
        ),
        field="children",
    )


def missing_prerequisites(child: Child, course: Course) -> list[Course]:
    """The prerequisite courses for which the child has neither a certificate nor a waiver."""
    if not course.prerequisites:
        return []
    waived = set(
        db.session.scalars(
            select(PrerequisiteWaiver.course_id).where(PrerequisiteWaiver.child_id == child.id)
        )
    )
    return [
        prerequisite
        for prerequisite in course.prerequisites
        if prerequisite.id not in waived and not hooks.holds_valid_certificate(child, prerequisite)
    ]


def _check_prerequisites(child: Child, cohort: Cohort) -> None:
    missing = missing_prerequisites(child, cohort.course)
    if not missing:
        return
    raise DomainError(
        _l(
            "%(name)s first needs the certificate of %(courses)s, or a coordinator's waiver.",
            name=_child_name(child),
            courses=format_list([_course_title(c) for c in missing], locale=get_locale()),
        ),
        field="children",
    )


def overlapping_lesson(
    child: Child, cohort: Cohort, *, now: datetime, ignore_cohort_id: int | None = None
) -> Lesson | None:
    """A lesson of the child's other active groups at the same time as one of ``cohort``'s
    lessons still to come (scheduled lessons of groups that are not cancelled)."""
    other_groups = [
        cohort_id
        for cohort_id in db.session.scalars(
            select(Enrolment.cohort_id).where(
                Enrolment.child_id == child.id, Enrolment.status.in_(ACTIVE_STATUSES)
            )
        )
        if cohort_id not in (cohort.id, ignore_cohort_id)
    ]
    if not other_groups:
        return None
    mine = aliased(Lesson)
    theirs = aliased(Lesson)
    return db.session.scalars(
        select(theirs)
        .join(mine, and_(mine.starts_at < theirs.ends_at, theirs.starts_at < mine.ends_at))
        .join(Cohort, Cohort.id == theirs.cohort_id)
        .where(
            mine.cohort_id == cohort.id,
            mine.status == LessonStatus.SCHEDULED,
            mine.ends_at > now,
            theirs.status == LessonStatus.SCHEDULED,
            theirs.cohort_id.in_(other_groups),
            Cohort.status != CohortStatus.CANCELLED,
        )
        .options(joinedload(theirs.cohort).joinedload(Cohort.course))
        .order_by(theirs.starts_at)
        .limit(1)
    ).first()


def _check_overlap(
    child: Child, cohort: Cohort, now: datetime, *, ignore_cohort_id: int | None = None
) -> None:
    clash = overlapping_lesson(child, cohort, now=now, ignore_cohort_id=ignore_cohort_id)
    if clash is None:
        return
    raise DomainError(
        _l(
            "%(name)s already has a lesson at that time: %(course)s on %(date)s at %(time)s.",
            name=_child_name(child),
            course=_course_title(clash.cohort.course),
            date=format_date(clash.starts_at, "full"),
            time=format_time(clash.starts_at, "short"),
        ),
        field="children",
    )


def check_rules(
    child: Child,
    cohort: Cohort,
    *,
    now: datetime,
    check_age: bool = True,
    check_prerequisites: bool = True,
    ignore_cohort_id: int | None = None,
) -> None:
    """The rules every enrolment obeys, most specific refusal first: not already there, age on
    the start date, prerequisites, no lesson at the same time as another group's."""
    _check_child(child)
    _check_not_already(child, cohort)
    if check_age:
        _check_age(child, cohort)
    if check_prerequisites:
        _check_prerequisites(child, cohort)
    _check_overlap(child, cohort, now, ignore_cohort_id=ignore_cohort_id)


def enrolment_problem(
    child: Child, cohort: Cohort, *, actor: User, now: datetime | None = None
) -> str | None:
    """Why ``actor`` could not enrol ``child`` in ``cohort`` now, or None (a dry run)."""
    now = now or utcnow()
    try:
        _require_guardian(actor, child)
        _check_open_to_families(cohort, now)
        check_rules(child, cohort, now=now)
    except DomainError as error:
        return str(error.message)
    return None


# ---------------------------------------------------------------------------------------------
# Offers


def offer_deadline(cohort: Cohort, now: datetime) -> datetime:
    """When a seat offered now stops being held: OFFER_HOURS, but at most half the time left
    before the group's next lesson, and at least OFFER_MIN_HOURS."""
    config = current_app.config
    longest = timedelta(hours=config["OFFER_HOURS"])
    shortest = timedelta(hours=min(config["OFFER_MIN_HOURS"], config["OFFER_HOURS"]))
    next_lesson = db.session.scalar(
        select(func.min(Lesson.starts_at)).where(
            Lesson.cohort_id == cohort.id,
            Lesson.status == LessonStatus.SCHEDULED,
            Lesson.starts_at > now,
        )
    )
    if next_lesson is None:
        return now + shortest
    return now + min(longest, max(shortest, (next_lesson - now) / 2))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=OFFER_SALT)


def _offer_stamp(enrolment: Enrolment) -> int:
    return int(enrolment.offered_at.timestamp()) if enrolment.offered_at else 0


def offer_token(enrolment: Enrolment, action: str) -> str:
    """The signed token of an e-mailed accept or decline link: tied to this enrolment and to
    this offer, so that it works once (the offer then stops being an offer)."""
    if action not in OFFER_ACTIONS:
        raise ValueError(action)
    return _serializer().dumps({"e": enrolment.id, "o": _offer_stamp(enrolment), "a": action})


def offer_from_token(token: str) -> tuple[Enrolment, str]:
    """The enrolment and the action (accept or decline) an offer link stands for."""
    invalid = DomainError(_l("This link is not valid. Open your page to see your offers."))
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise invalid from None
    if not isinstance(data, dict) or data.get("a") not in OFFER_ACTIONS:
        raise invalid
    enrolment = db.session.get(Enrolment, data.get("e")) if isinstance(data.get("e"), int) else None
    if enrolment is None or _offer_stamp(enrolment) != data.get("o"):
        raise invalid
    return enrolment, data["a"]


def _offer_tokens(enrolment: Enrolment) -> dict[str, str]:
    return {action: offer_token(enrolment, action) for action in OFFER_ACTIONS}


def _make_offer(enrolment: Enrolment, cohort: Cohort, now: datetime) -> Enrolment:
    """Offer a seat to a waiting child (the seat is already counted as taken)."""
    deadline = offer_deadline(cohort, now)
    enrolment.status = EnrolmentStatus.OFFERED
    enrolment.offered_at = now
    enrolment.offer_expires_at = deadline
    db.session.flush()
    record(
        "enrolment.offered",
        actor=None,
        subject=enrolment,
        cohort_id=cohort.id,
        expires_at=enrolment.offer_expires_at,
    )
    _tell_guardians(
        enrolment.child,
        "seat_offered",
        enrolment=enrolment,
        cohort=cohort,
        tokens=_offer_tokens(enrolment),
    )
    return enrolment


def _seat_freed(cohort: Cohort, now: datetime) -> Enrolment | None:
    """A seat-holding enrolment ended (the cohort is locked): offer the seat to the first child
    waiting, or give it back."""
    waiting = _first_waiting(cohort) if is_running(cohort, now) else None
    if waiting is None:
        _count(cohort, seats=-1)
        return None
    _count(cohort, waiting=-1)
    return _make_offer(waiting, cohort, now)


def fill_free_seats(cohort: Cohort, *, now: datetime | None = None) -> list[Enrolment]:
    """Offer every free seat to the next child waiting (the cohort is locked by the caller)."""
    now = now or utcnow()
    offers = []
    while is_running(cohort, now) and cohort.waitlist_count > 0:
        if cohort.seats_taken >= cohort.capacity:
            break
        waiting = _first_waiting(cohort)
        if waiting is None:
            break
        _count(cohort, seats=1, waiting=-1)
        offers.append(_make_offer(waiting, cohort, now))
    return offers


def _end(enrolment: Enrolment, status: str, reason: str, now: datetime) -> None:
    enrolment.status = status
    enrolment.end_reason = reason
    enrolment.ended_at = now
    db.session.flush()


def _leave(enrolment: Enrolment, status: str, reason: str, now: datetime) -> Enrolment | None:
    """End an active enrolment (its cohort locked): free its seat or its place in the queue.
    Returns the enrolment the freed seat was offered to, if any."""
    previous = enrolment.status
    _end(enrolment, status, reason, now)
    if previous in SEAT_STATUSES:
        return _seat_freed(enrolment.cohort, now)
    _count(enrolment.cohort, waiting=-1)
    return None


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


def expire_offers(
    cohort: Cohort | Sequence[Cohort] | None = None, *, now: datetime | None = None
) -> list[Enrolment]:
    """Cancel the offers whose deadline has passed and offer each seat to the next child.

    Idempotent and safe to run concurrently (cron, and every page that shows a cohort).
    ``cohort`` narrows it to one cohort or a list of them.
    """
    now = now or utcnow()
    query = select(Enrolment.cohort_id).where(
        Enrolment.status == EnrolmentStatus.OFFERED, Enrolment.offer_expires_at <= now
    )
    if isinstance(cohort, Cohort):
        query = query.where(Enrolment.cohort_id == cohort.id)
    elif cohort is not None:
        ids = [c.id for c in cohort]
        if not ids:
            return []
        query = query.where(Enrolment.cohort_id.in_(ids))
    cohort_ids = sorted(set(db.session.scalars(query.distinct())))
    lapsed_offers = []
    for cohort_id in cohort_ids:
        locked = lock_seats(db.session.get(Cohort, cohort_id))
        lapsed = db.session.scalars(
            select(Enrolment)
            .where(
                Enrolment.cohort_id == cohort_id,
                Enrolment.status == EnrolmentStatus.OFFERED,
                Enrolment.offer_expires_at <= now,
            )
            .order_by(Enrolment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for enrolment in lapsed:
            _end(enrolment, EnrolmentStatus.CANCELLED, EndReason.OFFER_EXPIRED, now)
            record("enrolment.offer_expired", actor=None, subject=enrolment, cohort_id=cohort_id)
            _tell_guardians(enrolment.child, "offer_expired", enrolment=enrolment, cohort=locked)
            _seat_freed(locked, now)
            lapsed_offers.append(enrolment)
    return lapsed_offers


# ---------------------------------------------------------------------------------------------
# Joining a group


@dataclass
class EnrolResult:
    """What happened to one child of a multi-child enrolment."""

    child: Child
    enrolment: Enrolment | None = None
    error: DomainError | None = None
    position: int | None = None

    @property
    def ok(self) -> bool:
        return self.enrolment is not None


def _upcoming_lessons(cohort: Cohort, now: datetime) -> list[Lesson]:
    return list(
        db.session.scalars(
            select(Lesson)
            .where(
                Lesson.cohort_id == cohort.id,
                Lesson.status == LessonStatus.SCHEDULED,
                Lesson.ends_at > now,
            )
            .order_by(Lesson.starts_at)
        )
    )


# Calendar files already built, by (group, language, what they show): on registration day a
# worker builds each group's file once instead of once per family (the time zone's rules are
# the costly part).
_calendars: OrderedDict[tuple, bytes] = OrderedDict()
_CALENDARS_KEPT = 64


def _calendar_for(cohort: Cohort):
    """A function giving each guardian the group's calendar file in their language."""
    lessons = db.session.scalars(
        select(Lesson)
        .where(Lesson.cohort_id == cohort.id)
        .options(joinedload(Lesson.room_override), joinedload(Lesson.cohort))
        .order_by(Lesson.starts_at, Lesson.id)
    ).all()
    room = cohort.room
    shown = tuple(
        (
            lesson.id,
            lesson.revision,
            lesson.status,
            lesson.starts_at,
            lesson.ends_at,
            lesson.updated_at,
            lesson.note,
            lesson.room.id,
        )
        for lesson in lessons
    )

    def attachments(user: User) -> tuple[Attachment, ...]:
        name = f"Active Labs — {cohort.course.title(user.locale)}"
        key = (cohort.id, user.locale, name, cohort.course.track, room.name, room.site, shown)
        body = _calendars.get(key)
        if body is None:
            body = build_calendar(lessons, name=name, language=user.locale)
            _calendars[key] = body
            while len(_calendars) > _CALENDARS_KEPT:
                _calendars.popitem(last=False)
        return (Attachment(f"active-labs-group-{cohort.id}.ics", "text/calendar", body),)

    return attachments


def _tell_enrolled(enrolment: Enrolment, now: datetime, template: str = "enrolment_confirmed"):
    cohort = enrolment.cohort
    _tell_guardians(
        enrolment.child,
        template,
        enrolment=enrolment,
        cohort=cohort,
        lessons=_upcoming_lessons(cohort, now),
        attachments_for=_calendar_for(cohort),
    )


def _join(
    child: Child,
    cohort: Cohort,
    *,
    actor: User,
    now: datetime,
    override_reason: str | None = None,
    family_ids: Sequence[int] | None = None,
) -> Enrolment:
    """Insert the enrolment (the cohort is locked): a seat if one is free and nobody waits,
    else the end of the waiting list."""
    # The cohort's counters were read under the lock: a child who waits is last in line.
    position = None if cohort.waitlist_count is None else cohort.waitlist_count + 1
    seated = _take_seat(cohort)
    enrolment = Enrolment(
        child=child,
        cohort=cohort,
        status=EnrolmentStatus.ENROLLED if seated else EnrolmentStatus.WAITLISTED,
        created_at=now,
        created_by_id=actor.id if actor is not None else None,
        enrolled_at=now if seated else None,
        override_reason=override_reason,
        fee_centimes=cohort.course.price_centimes,
    )
    db.session.add(enrolment)
    if not seated:
        _count(cohort, waiting=1)
    db.session.flush()
    if seated:
        recompute_sibling_discounts(child, term_of(cohort.start_date), family_ids=family_ids)
    else:
        enrolment.discount_centimes = _expected_discount(enrolment, family_ids)
        db.session.flush()
    record(
        "enrolment.enrolled" if seated else "enrolment.waitlisted",
        actor=actor,
        subject=enrolment,
        child_id=child.id,
        cohort_id=cohort.id,
    )
    if seated:
        _tell_enrolled(enrolment, now)
    else:
        _tell_guardians(
            child,
            "enrolment_waitlisted",
            enrolment=enrolment,
            cohort=cohort,
            position=position,
        )
    return enrolment


def enrol(child: Child, cohort: Cohort, *, actor: User, now: datetime | None = None) -> Enrolment:
    """A parent enrols their child in a group: a seat if one is free, else the waiting list."""
    now = now or utcnow()
    if actor is None or not actor.is_authenticated or not actor.is_parent:
        raise DomainError(_l("Only a child's parents can enrol the child."), field="children")
    _require_guardian(actor, child)
    _check_open_to_families(cohort, now)
    check_rules(child, cohort, now=now)
    family_ids = _lock_family(child)
    lock_seats(cohort)
    # Under the lock: the group may have closed, or the same form been sent twice.
    _check_open_to_families(cohort, now)
    _check_not_already(child, cohort)
    return _join(child, cohort, actor=actor, now=now, family_ids=family_ids)


def enrol_children(
    children: Sequence[Child], cohort: Cohort, *, actor: User, now: datetime | None = None
) -> list[EnrolResult]:
    """Enrol several children of a family at once; each is checked on its own (one refusal
    does not stop the others)."""
    now = now or utcnow()
    results = []
    for child in children:
        result = EnrolResult(child=child)
        try:
            with db.session.begin_nested():
                result.enrolment = enrol(child, cohort, actor=actor, now=now)
        except DomainError as error:
            result.error = error
        results.append(result)
    positions = waiting_positions(r.enrolment for r in results if r.ok)
    for result in results:
        if result.ok:
            result.position = positions.get(result.enrolment.id)
    return results


def enrol_by_coordinator(
    child: Child,
    cohort: Cohort,
    *,
    actor: User,
    override_age: bool = False,
    override_prerequisites: bool = False,
    reason: str | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """A coordinator enrols a child by hand, in or out of the enrolment window, with the age or
    prerequisite rule set aside if need be (the reason is logged). Never above capacity: a
    full group puts the child on its waiting list."""
    now = now or utcnow()
    _require_coordinator(actor)
    reason = _clean(reason, REASON_MAX)
    overriding = override_age or override_prerequisites
    if overriding and not reason:
        raise DomainError(_l("Say why the rules are set aside."), field="reason")
    _check_running(cohort, now)
    check_rules(
        child,
        cohort,
        now=now,
        check_age=not override_age,
        check_prerequisites=not override_prerequisites,
    )
    _lock_family(child)
    lock_seats(cohort)
    _check_running(cohort, now)
    _check_not_already(child, cohort)
    enrolment = _join(child, cohort, actor=actor, now=now, override_reason=reason or None)
    if overriding:
        record(
            "enrolment.override",
            actor=actor,
            subject=enrolment,
            reason=reason,
            age=override_age,
            prerequisites=override_prerequisites,
        )
    return enrolment


# ---------------------------------------------------------------------------------------------
# Offers: accept, decline; leaving a group


def offer_refusal(enrolment: Enrolment, now: datetime | None = None) -> DomainError | None:
    """Why the seat can no longer be accepted or declined, or None while it is offered."""
    now = now or utcnow()
    if enrolment.status == EnrolmentStatus.OFFERED and enrolment.offer_expires_at > now:
        return None
    return offer_refusal_at(enrolment, now)


def offer_refusal_at(enrolment: Enrolment, now: datetime) -> DomainError:
    name = _child_name(enrolment.child)
    if enrolment.status == EnrolmentStatus.ENROLLED:
        return DomainError(_l("%(name)s already has this seat: nothing more to do.", name=name))
    if enrolment.status == EnrolmentStatus.OFFERED and enrolment.offer_expires_at <= now:
        return DomainError(
            _l("The deadline to accept this seat has passed; it goes to the next child waiting.")
        )
    if enrolment.end_reason == EndReason.OFFER_EXPIRED:
        return DomainError(
            _l("The deadline to accept this seat has passed; it goes to the next child waiting.")
        )
    return DomainError(_l("This seat is no longer offered to %(name)s.", name=name))


def accept_offer(enrolment: Enrolment, *, actor: User, now: datetime | None = None) -> Enrolment:
    """The family takes the seat offered to their child, before the deadline."""
    now = now or utcnow()
    _require_guardian(actor, enrolment.child)
    _lock_family(enrolment.child)
    accepted = db.session.execute(
        update(Enrolment)
        .where(
            Enrolment.id == enrolment.id,
            Enrolment.status == EnrolmentStatus.OFFERED,
            Enrolment.offer_expires_at > now,
        )
        .values(status=EnrolmentStatus.ENROLLED, enrolled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(enrolment)
    if accepted != 1:
        raise offer_refusal_at(enrolment, now)
    recompute_sibling_discounts(enrolment.child, term_of(enrolment.cohort.start_date))
    record("enrolment.accepted", actor=actor, subject=enrolment, cohort_id=enrolment.cohort_id)
    _tell_enrolled(enrolment, now)
    return enrolment


def decline_offer(enrolment: Enrolment, *, actor: User, now: datetime | None = None) -> Enrolment:
    """The family turns down the seat offered: it goes to the next child waiting."""
    now = now or utcnow()
    _require_guardian(actor, enrolment.child)
    _lock_family(enrolment.child)
    lock_seats(enrolment.cohort)
    enrolment = _reread(enrolment)
    if enrolment.status != EnrolmentStatus.OFFERED:
        raise offer_refusal_at(enrolment, now)
    _leave(enrolment, EnrolmentStatus.WITHDRAWN, EndReason.OFFER_DECLINED, now)
    record("enrolment.declined", actor=actor, subject=enrolment, cohort_id=enrolment.cohort_id)
    _tell_guardians(
        enrolment.child, "enrolment_withdrawn", enrolment=enrolment, cohort=enrolment.cohort
    )
    return enrolment


def withdraw(enrolment: Enrolment, *, actor: User, now: datetime | None = None) -> Enrolment:
    """A parent takes their child out of a group or its waiting list (before or during the
    group); a freed seat is offered to the next child waiting."""
    now = now or utcnow()
    _require_guardian(actor, enrolment.child)
    if enrolment.status == EnrolmentStatus.OFFERED:
        return decline_offer(enrolment, actor=actor, now=now)
    _lock_family(enrolment.child)
    lock_seats(enrolment.cohort)
    enrolment = _reread(enrolment)
    if enrolment.status == EnrolmentStatus.OFFERED:
        return decline_offer(enrolment, actor=actor, now=now)
    if not enrolment.is_active:
        raise DomainError(
            _l("%(name)s is no longer in this group.", name=_child_name(enrolment.child))
        )
    if enrolment.cohort.end_date < local_day(now):
        raise DomainError(_l("This group is over."))
    was_enrolled = enrolment.status == EnrolmentStatus.ENROLLED
    _leave(enrolment, EnrolmentStatus.WITHDRAWN, EndReason.WITHDRAWN_BY_PARENT, now)
    if was_enrolled:
        recompute_sibling_discounts(enrolment.child, term_of(enrolment.cohort.start_date))
    record("enrolment.withdrawn", actor=actor, subject=enrolment, cohort_id=enrolment.cohort_id)
    _tell_guardians(
        enrolment.child, "enrolment_withdrawn", enrolment=enrolment, cohort=enrolment.cohort
    )
    return enrolment


def cancel_enrolment(
    enrolment: Enrolment, *, actor: User, reason: str, now: datetime | None = None
) -> Enrolment:
    """A coordinator ends a child's place (or waiting) in a group, with a reason; the family
    is told and a freed seat is offered to the next child waiting."""
    now = now or utcnow()
    _require_coordinator(actor)
    reason = _clean(reason, REASON_MAX)
    if not reason:
        raise DomainError(_l("Say why the enrolment is cancelled."), field="reason")
    _lock_family(enrolment.child)
    lock_seats(enrolment.cohort)
    enrolment = _reread(enrolment)
    if not enrolment.is_active:
        raise DomainError(_l("This enrolment has already ended."))
    was_enrolled = enrolment.status == EnrolmentStatus.ENROLLED
    _leave(enrolment, EnrolmentStatus.CANCELLED, EndReason.CANCELLED_BY_COORDINATOR, now)
    if was_enrolled:
        recompute_sibling_discounts(enrolment.child, term_of(enrolment.cohort.start_date))
    record(
        "enrolment.cancelled",
        actor=actor,
        subject=enrolment,
        reason=reason,
        cohort_id=enrolment.cohort_id,
    )
    _tell_guardians(
        enrolment.child, "enrolment_cancelled", enrolment=enrolment, cohort=enrolment.cohort
    )
    return enrolment


def move_enrolment(
    enrolment: Enrolment,
    target: Cohort,
    *,
    actor: User,
    override_rules: bool = False,
    reason: str | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """A coordinator moves an enrolled child to another group, in one transaction: the new
    place first (it needs a free seat), then the old one ends (``moved``) and its seat goes to
    the next child waiting. Payments follow the child."""
    now = now or utcnow()
    _require_coordinator(actor)
    reason = _clean(reason, REASON_MAX)
    if override_rules and not reason:
        raise DomainError(_l("Say why the rules are set aside."), field="reason")
    if target.id == enrolment.cohort_id:
        raise DomainError(_l("Choose another group."), field="cohort_id")
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise DomainError(_l("Only an enrolled child can be moved."), field="cohort_id")
    child = enrolment.child
    _check_running(target, now)
    check_rules(
        child,
        target,
        now=now,
        check_age=not override_rules,
        check_prerequisites=not override_rules,
        ignore_cohort_id=enrolment.cohort_id,
    )
    _lock_family(child)
    _lock_cohorts([enrolment.cohort, target])
    enrolment = _reread(enrolment)
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise DomainError(_l("Only an enrolled child can be moved."), field="cohort_id")
    _check_running(target, now)
    _check_not_already(child, target)
    if not _take_seat(target):
        raise DomainError(
            _l("The other group has no free seat (or children are waiting for one)."),
            field="cohort_id",
        )
    moved = Enrolment(
        child=child,
        cohort=target,
        status=EnrolmentStatus.ENROLLED,
        created_at=now,
        created_by_id=actor.id,
        enrolled_at=now,
        override_reason=(reason or None) if override_rules else enrolment.override_reason,
        fee_centimes=target.course.price_centimes,
        moved_from_id=enrolment.id,
    )
    moved.waiver_centimes = min(enrolment.waiver_centimes, moved.fee_centimes)
    moved.waiver_reason = enrolment.waiver_reason if moved.waiver_centimes else None
    db.session.add(moved)
    db.session.flush()
    for payment in list(enrolment.payments):
        payment.enrolment = moved
    _leave(enrolment, EnrolmentStatus.WITHDRAWN, EndReason.MOVED, now)
    for term in {term_of(enrolment.cohort.start_date), term_of(target.start_date)}:
        recompute_sibling_discounts(child, term)
    record(
        "enrolment.moved",
        actor=actor,
        subject=moved,
        reason=reason or None,
        from_enrolment_id=enrolment.id,
        from_cohort_id=enrolment.cohort_id,
        to_cohort_id=target.id,
        override=override_rules,
    )
    _tell_enrolled(moved, now, template="enrolment_moved")
    return moved


# ---------------------------------------------------------------------------------------------
# Cohort-wide changes (called through the courses hooks)


def capacity_changed(cohort: Cohort, old: int, new: int, actor: User | None = None) -> None:
    """More seats: offer each new free seat to the next child waiting (cohort locked)."""
    if new > old:
        offers = fill_free_seats(cohort)
        if offers:
            record(
                "cohort.seats_offered",
                actor=actor,
                subject=cohort,
                capacity=new,
                enrolment_ids=[e.id for e in offers],
            )


def cohort_cancelled(cohort: Cohort, actor: User | None = None, *, now=None) -> list[Enrolment]:
    """The lab cancels a group: every active enrolment is cancelled; the families on the
    waiting list are told too (courses already told those holding a seat)."""
    now = now or utcnow()
    # The children's rows first, as every family's change does (an acceptance at the same
    # instant then finishes before their places end), then the cohort's.
    child_ids = db.session.scalars(
        select(Enrolment.child_id).where(
            Enrolment.cohort_id == cohort.id, Enrolment.status.in_(ACTIVE_STATUSES)
        )
    ).all()
    if child_ids:
        db.session.execute(
            select(Child.id)
            .where(Child.id.in_(set(child_ids)))
            .order_by(Child.id)
            .with_for_update()
        ).all()
    lock_seats(cohort)
    active = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(ACTIVE_STATUSES))
        .options(
            selectinload(Enrolment.child)
            .selectinload(Child.guardianships)
            .joinedload(Guardianship.user)
        )
        .order_by(Enrolment.id)
    ).all()
    told = {user.id for e in active if e.status in SEAT_STATUSES for user in guardians_of(e.child)}
    for enrolment in active:
        if enrolment.status == EnrolmentStatus.WAITLISTED:
            for user in guardians_of(enrolment.child):
                if user.id not in told:
                    told.add(user.id)
                    queue_email_to_user(user, "cohort_cancelled", cohort=cohort)
        _end(enrolment, EnrolmentStatus.CANCELLED, EndReason.COHORT_CANCELLED, now)
        record("enrolment.cancelled", actor=actor, subject=enrolment, cohort_cancelled=True)
    db.session.execute(
        update(Cohort)
        .where(Cohort.id == cohort.id)
        .values(seats_taken=0, waitlist_count=0)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(cohort, ["seats_taken", "waitlist_count"])
    return list(active)


# ---------------------------------------------------------------------------------------------
# Fees


def sibling_discount(fee_centimes: int) -> int:
    """The sibling discount on a fee, rounded to the nearest centime."""
    percent = current_app.config["SIBLING_DISCOUNT_PERCENT"]
    return (fee_centimes * percent + 50) // 100


def _enrolled_in_term(child_ids: Sequence[int], term: Term) -> list[Enrolment]:
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(
                Enrolment.child_id.in_(child_ids),
                Enrolment.status == EnrolmentStatus.ENROLLED,
                Cohort.starting_in(term),
            )
            .order_by(Enrolment.id)
        )
    )


def _discount_for(enrolment: Enrolment, first_child_id: int | None) -> int:
    if first_child_id is None or enrolment.child_id == first_child_id:
        wanted = 0
    else:
        wanted = sibling_discount(enrolment.fee_centimes)
    return max(0, min(wanted, enrolment.fee_centimes - enrolment.waiver_centimes))


def recompute_sibling_discounts(
    child: Child, term: Term, *, family_ids: Sequence[int] | None = None
) -> list[Enrolment]:
    """Give the sibling discount to the family's enrolled places of ``term``, except those of
    the child who enrolled first. Returns the enrolments whose discount changed."""
    enrolled = _enrolled_in_term(family_ids or family_child_ids(child), term)
    first_child_id = enrolled[0].child_id if enrolled else None
    changed = []
    for enrolment in enrolled:
        wanted = _discount_for(enrolment, first_child_id)
        if enrolment.discount_centimes != wanted:
            enrolment.discount_centimes = wanted
            changed.append(enrolment)
    db.session.flush()
    return changed


def _expected_discount(enrolment: Enrolment, family_ids: Sequence[int] | None = None) -> int:
    """The discount a waiting child would get if enrolled now (shown, not yet owed)."""
    enrolled = _enrolled_in_term(
        family_ids or family_child_ids(enrolment.child), term_of(enrolment.cohort.start_date)
    )
    first = enrolled[0].child_id if enrolled else enrolment.child_id
    return _discount_for(enrolment, first)


def set_fee_waiver(
    enrolment: Enrolment, *, actor: User, amount_centimes: int, reason: str | None
) -> Enrolment:
    """A coordinator waives part or all of a fee (scholarship); 0 removes the waiver."""
    _require_coordinator(actor)
    reason = _clean(reason, REASON_MAX)
    if amount_centimes < 0:
        raise DomainError(_l("The amount cannot be negative."), field="amount")
    most = enrolment.fee_centimes - enrolment.discount_centimes
    if amount_centimes > most:
        raise DomainError(
            _l(
                "The waiver cannot be more than the fee after the discount (%(amount)s).",
                amount=format_money(most),
            ),
            field="amount",
        )
    if amount_centimes and not reason:
        raise DomainError(_l("Say why the fee is waived."), field="reason")
    previous = enrolment.waiver_centimes
    enrolment.waiver_centimes = amount_centimes
    enrolment.waiver_reason = reason if amount_centimes else None
    db.session.flush()
    record(
        "enrolment.fee_waiver",
        actor=actor,
        subject=enrolment,
        reason=reason or None,
        before_centimes=previous,
        after_centimes=amount_centimes,
    )
    return enrolment


def _receipt_number(payment: Payment) -> str:
    return f"AL-{payment.paid_on.year}-{payment.id:06d}"


def record_payment(
    enrolment: Enrolment,
    *,
    actor: User,
    amount_centimes: int,
    method: str,
    paid_on: date,
    reference: str | None = None,
    today: date | None = None,
) -> Payment:
    """A coordinator records money received for an enrolment; the family is e-mailed a
    receipt number. Refused above what is still owed."""
    _require_coordinator(actor)
    today = today or local_day(utcnow())
    if method not in PaymentMethod.__members__.values():
        raise DomainError(_l("Choose how the family paid."), field="method")
    if amount_centimes <= 0:
        raise DomainError(_l("The amount must be more than zero."), field="amount")
    if paid_on > today:
        raise DomainError(_l("The payment date cannot be in the future."), field="paid_on")
    if paid_on < today - timedelta(days=366):
        raise DomainError(_l("The payment date is more than a year ago."), field="paid_on")
    balance = enrolment.balance_centimes
    if balance <= 0:
        raise DomainError(_l("Nothing is owed for this enrolment."), field="amount")
    if amount_centimes > balance:
        raise DomainError(
            _l("This is more than what is still owed (%(amount)s).", amount=format_money(balance)),
            field="amount",
        )
    payment = Payment(
        enrolment=enrolment,
        amount_centimes=amount_centimes,
        method=method,
        reference=_clean(reference, REFERENCE_MAX) or None,
        paid_on=paid_on,
        recorded_by_id=actor.id,
        # A placeholder until the id, which numbers the receipt, is known.
        receipt_number=f"tmp-{secrets.token_hex(8)}",
    )
    db.session.add(payment)
    db.session.flush()
    payment.receipt_number = _receipt_number(payment)
    db.session.flush()
    record(
        "payment.recorded",
        actor=actor,
        subject=payment,
        enrolment_id=enrolment.id,
        amount_centimes=amount_centimes,
        method=method,
    )
    _tell_guardians(
        enrolment.child,
        "payment_recorded",
        enrolment=enrolment,
        cohort=enrolment.cohort,
        payment=payment,
        balance=enrolment.balance_centimes,
    )
    return payment


# ---------------------------------------------------------------------------------------------
# Prerequisite waivers


def grant_prerequisite_waiver(
    child: Child, course: Course, *, actor: User, reason: str
) -> PrerequisiteWaiver:
    """A coordinator lets a child join courses that require ``course`` without its certificate."""
    _require_coordinator(actor)
    reason = _clean(reason, REASON_MAX)
    if not reason:
        raise DomainError(_l("Say why the prerequisite is waived."), field="reason")
    if child.is_erased:
        raise DomainError(_l("This child's data was erased."), field="child_id")
    existing = db.session.scalar(
        select(PrerequisiteWaiver).where(
            PrerequisiteWaiver.child_id == child.id, PrerequisiteWaiver.course_id == course.id
        )
    )
    if existing is not None:
        raise DomainError(
            _l("%(name)s already has a waiver for this course.", name=_child_name(child)),
            field="course_id",
        )
    waiver = PrerequisiteWaiver(child=child, course=course, reason=reason, granted_by_id=actor.id)
    db.session.add(waiver)
    db.session.flush()
    record(
        "enrolment.prerequisite_waived",
        actor=actor,
        subject=waiver,
        reason=reason,
        child_id=child.id,
        course_id=course.id,
    )
    return waiver


def revoke_prerequisite_waiver(waiver: PrerequisiteWaiver, *, actor: User) -> None:
    """A coordinator withdraws a waiver (groups already joined are kept)."""
    _require_coordinator(actor)
    record(
        "enrolment.prerequisite_waiver_revoked",
        actor=actor,
        subject=waiver,
        child_id=waiver.child_id,
        course_id=waiver.course_id,
    )
    db.session.delete(waiver)
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class ChildEnrolments:
    child: Child
    enrolments: list[Enrolment] = field(default_factory=list)


@dataclass
class FamilyOverview:
    """What a parent's page shows: each child's groups, waiting places, offers, and fees."""

    children: list[ChildEnrolments]
    positions: dict[int, int]
    payments: list[Payment]
    due_centimes: int
    paid_centimes: int

    @property
    def balance_centimes(self) -> int:
        return self.due_centimes - self.paid_centimes

    @property
    def offers(self) -> list[Enrolment]:
        return [
            e for c in self.children for e in c.enrolments if e.status == EnrolmentStatus.OFFERED
        ]

    @property
    def cohorts(self) -> list[Cohort]:
        return list({e.cohort_id: e.cohort for c in self.children for e in c.enrolments}.values())


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
    )


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
        return sum(p.amount_centimes for p in self.payments)


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


def erase_child_enrolments(child: Child, *, now: datetime | None = None) -> None:
    """A child's data is erased: their active places end (seats go to the next child), the
    free texts coordinators wrote about them go; the rows stay, the child row is anonymous."""
    now = now or utcnow()
    active = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.child_id == child.id, Enrolment.status.in_(ACTIVE_STATUSES))
        .order_by(Enrolment.cohort_id)
    ).all()
    if active:
        _lock_family(child)
        _lock_cohorts(e.cohort for e in active)
    terms = set()
    for enrolment in active:
        enrolment = _reread(enrolment)
        if not enrolment.is_active:
            continue
        if enrolment.status == EnrolmentStatus.ENROLLED:
            terms.add(term_of(enrolment.cohort.start_date))
        _leave(enrolment, EnrolmentStatus.WITHDRAWN, EndReason.CHILD_ERASED, now)
        record("enrolment.withdrawn", actor=None, subject=enrolment, child_erased=True)
    for enrolment in db.session.scalars(select(Enrolment).where(Enrolment.child_id == child.id)):
        if enrolment.override_reason:
            enrolment.override_reason = "—"
        if enrolment.waiver_reason:
            enrolment.waiver_reason = "—"
    for waiver in db.session.scalars(
        select(PrerequisiteWaiver).where(PrerequisiteWaiver.child_id == child.id)
    ):
        db.session.delete(waiver)
    db.session.flush()
    for term in terms:
        recompute_sibling_discounts(child, term)
