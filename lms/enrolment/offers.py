"""Seat offers: a freed seat goes to the first child waiting, who accepts or declines it before
a deadline; the periodic job moves lapsed offers on (see lms/enrolment/seats.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.audit.services import record
from lms.courses.cohorts import lock_seats
from lms.courses.models import Cohort, Lesson, LessonStatus
from lms.courses.terms import term_of
from lms.database import utcnow
from lms.enrolment.fees import recompute_sibling_discounts
from lms.enrolment.models import SEAT_STATUSES, EndReason, Enrolment, EnrolmentStatus
from lms.enrolment.notices import tell_enrolled, tell_guardians
from lms.enrolment.rules import require_guardian
from lms.enrolment.seats import first_waiting, is_running, lock_family, move_counters, reread
from lms.errors import DomainError
from lms.extensions import db

OFFER_SALT = "enrolment-offer"
OFFER_ACTIONS = ("accept", "decline")
INVALID_LINK = _l("This link is not valid. Open your page to see your offers.")


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


# ---------------------------------------------------------------------------------------------
# The e-mailed links


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


def offer_link(token: str) -> tuple[Enrolment, str] | None:
    """The enrolment and the action (accept or decline) an offer link stands for, or None."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") not in OFFER_ACTIONS:
        return None
    enrolment = db.session.get(Enrolment, data.get("e")) if isinstance(data.get("e"), int) else None
    if enrolment is None or _offer_stamp(enrolment) != data.get("o"):
        return None
    return enrolment, data["a"]


def offer_from_token(token: str) -> tuple[Enrolment, str]:
    """The enrolment and the action an offer link stands for; refused if the link is not valid."""
    link = offer_link(token)
    if link is None:
        raise DomainError(INVALID_LINK)
    return link


# ---------------------------------------------------------------------------------------------
# A seat frees up


def _make_offer(enrolment: Enrolment, cohort: Cohort, now: datetime) -> Enrolment:
    """Offer a seat to a waiting child (the seat is already counted as taken)."""
    deadline = offer_deadline(cohort, now)  # a query: before the row changes (autoflush)
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
    tell_guardians(
        enrolment.child,
        "seat_offered",
        enrolment=enrolment,
        cohort=cohort,
        tokens={action: offer_token(enrolment, action) for action in OFFER_ACTIONS},
    )
    return enrolment


def _seat_freed(cohort: Cohort, now: datetime) -> Enrolment | None:
    """A seat-holding enrolment ended (the cohort is locked): offer the seat to the first child
    waiting, or give it back."""
    waiting = first_waiting(cohort) if is_running(cohort, now) else None
    if waiting is None:
        move_counters(cohort, seats=-1)
        return None
    move_counters(cohort, waiting=-1)
    return _make_offer(waiting, cohort, now)


def fill_free_seats(cohort: Cohort, *, now: datetime | None = None) -> list[Enrolment]:
    """Offer every free seat to the next child waiting (the cohort is locked by the caller)."""
    now = now or utcnow()
    offers = []
    while is_running(cohort, now) and cohort.waitlist_count > 0:
        if cohort.seats_taken >= cohort.capacity:
            break
        waiting = first_waiting(cohort)
        if waiting is None:
            break
        move_counters(cohort, seats=1, waiting=-1)
        offers.append(_make_offer(waiting, cohort, now))
    return offers


def end(enrolment: Enrolment, status: str, reason: str, now: datetime) -> None:
    """Mark the enrolment ended, without touching the counters (the caller moves them)."""
    enrolment.status = status
    enrolment.end_reason = reason
    enrolment.ended_at = now
    db.session.flush()


def leave(enrolment: Enrolment, status: str, reason: str, now: datetime) -> Enrolment | None:
    """End an active enrolment (its cohort locked): free its seat or its place in the queue.
    Returns the enrolment the freed seat was offered to, if any."""
    previous = enrolment.status
    end(enrolment, status, reason, now)
    if previous in SEAT_STATUSES:
        return _seat_freed(enrolment.cohort, now)
    move_counters(enrolment.cohort, waiting=-1)
    return None


# ---------------------------------------------------------------------------------------------
# Lapsed offers (the periodic job)


def expire_offers(
    cohort: Cohort | Sequence[Cohort] | None = None, *, now: datetime | None = None
) -> list[Enrolment]:
    """Cancel the offers whose deadline has passed and offer each seat to the next child.

    Run by the periodic job (the worker, ``flask lms run-jobs``), never by a page; idempotent
    and safe to run concurrently. ``cohort`` narrows it to one cohort or a list of them.
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
            end(enrolment, EnrolmentStatus.CANCELLED, EndReason.OFFER_EXPIRED, now)
            record("enrolment.offer_expired", actor=None, subject=enrolment, cohort_id=cohort_id)
            tell_guardians(enrolment.child, "offer_expired", enrolment=enrolment, cohort=locked)
            _seat_freed(locked, now)
            lapsed_offers.append(enrolment)
    return lapsed_offers


# ---------------------------------------------------------------------------------------------
# The family answers


def offer_refusal(enrolment: Enrolment, now: datetime | None = None) -> DomainError | None:
    """Why the seat can no longer be accepted, or None while the offer is open."""
    now = now or utcnow()
    if enrolment.status == EnrolmentStatus.OFFERED and not enrolment.offer_lapsed_at(now):
        return None
    return _refusal_of(enrolment, now)


def _refusal_of(enrolment: Enrolment, now: datetime) -> DomainError:
    name = enrolment.child.first_name
    if enrolment.status == EnrolmentStatus.ENROLLED:
        return DomainError(_l("%(name)s already has this seat: nothing more to do.", name=name))
    if enrolment.offer_lapsed_at(now) or enrolment.end_reason == EndReason.OFFER_EXPIRED:
        return DomainError(
            _l("The deadline to accept this seat has passed; it goes to the next child waiting.")
        )
    return DomainError(_l("This seat is no longer offered to %(name)s.", name=name))


def accept_offer(enrolment: Enrolment, *, actor: User, now: datetime | None = None) -> Enrolment:
    """The family takes the seat offered to their child, before the deadline."""
    now = now or utcnow()
    require_guardian(actor, enrolment.child)
    lock_family(enrolment.child)
    # One conditional UPDATE: a lapsed offer (its deadline passed, the job not run yet) is
    # refused here, whatever the page that sent the answer showed.
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
        raise _refusal_of(enrolment, now)
    recompute_sibling_discounts(enrolment.child, term_of(enrolment.cohort.start_date))
    record("enrolment.accepted", actor=actor, subject=enrolment, cohort_id=enrolment.cohort_id)
    tell_enrolled(enrolment, now)
    return enrolment


def decline_offer(enrolment: Enrolment, *, actor: User, now: datetime | None = None) -> Enrolment:
    """The family turns down the seat offered (lapsed or not): it goes to the next child."""
    now = now or utcnow()
    require_guardian(actor, enrolment.child)
    lock_family(enrolment.child)
    lock_seats(enrolment.cohort)
    enrolment = reread(enrolment)
    if enrolment.status != EnrolmentStatus.OFFERED:
        raise _refusal_of(enrolment, now)
    leave(enrolment, EnrolmentStatus.WITHDRAWN, EndReason.OFFER_DECLINED, now)
    record("enrolment.declined", actor=actor, subject=enrolment, cohort_id=enrolment.cohort_id)
    tell_guardians(
        enrolment.child, "enrolment_withdrawn", enrolment=enrolment, cohort=enrolment.cohort
    )
    return enrolment
