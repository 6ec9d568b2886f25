"""The figures of a term, computed in a fixed number of queries whatever its size.

A term's cohorts are those that start in it (lms/courses/terms.py) and are open, closed or
completed (drafts and cancelled groups have no families). The definitions, once:

- **fill rate**: seats taken (enrolled children and seats offered) / capacity;
- **attendance rate**: attended / counted lessons of every enrolment of the cohorts, by the
  one rate computation (lms/attendance/rates.py), pooled over a cohort, a course, a track;
- **at risk**: a child still enrolled whose certificate threshold is out of reach even if
  every unmarked lesson turns out attended ("can no longer reach"), or who has lessons left
  and is below the threshold now ("below the threshold");
- **fees**: billed is what the enrolled places owe, plus any place with a payment on it (a
  seat offered is owed once accepted); fee - sibling discount - waiver. Paid is the payments
  on those places, less the credit notes (refunds) on them. Outstanding is what each place
  still owes, added up (an overpayment on one place does not pay another);
- **new families**: parent accounts created during the term;
- **children**: children enrolled in a cohort of the term, each counted once; their age on the
  start date of their first cohort of the term; a child in two tracks counts in both.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from lms.accounts.models import User
from lms.attendance.rates import AttendanceSummary, WeekAttendance, attendance_report
from lms.certificates.models import Certificate, CertificateStatus
from lms.clock import age_in_years, lab_zone, local_today
from lms.courses.models import PUBLIC_COHORT_STATUSES, Cohort, Course, Track
from lms.courses.terms import Term, term_by_key, term_of
from lms.database import utcnow
from lms.enrolment.models import CreditNote, Enrolment, EnrolmentStatus, Payment
from lms.extensions import db
from lms.families.models import Child
from lms.messaging.services import messages_sent_between
from lms.roles import Role

AT_RISK_UNREACHABLE = "unreachable"
AT_RISK_BELOW = "below"


# ---------------------------------------------------------------------------------------------
# Terms


def current_term(today: date | None = None) -> Term:
    """The term containing the lab's today."""
    return term_of(today or local_today())


def resolve_term(key: str | None, *, today: date | None = None) -> Term | None:
    """The term named ``key``, the current one when no key is given, None for a bad key."""
    if not key:
        return current_term(today)
    return term_by_key(key)


def selectable_terms(around: Term, *, back: int = 4, ahead: int = 2) -> list[Term]:
    """Terms to choose from: some before ``around``, it, and some after."""
    terms = [around]
    for _ in range(back):
        terms.insert(0, terms[0].previous())
    for _ in range(ahead):
        terms.append(terms[-1].next())
    return terms


def term_bounds(term: Term) -> tuple[datetime, datetime]:
    """The term as UTC instants: local midnight of its first day to that of the next term."""
    zone = lab_zone()
    starts = datetime.combine(term.starts_on, time(), tzinfo=zone)
    ends = datetime.combine(term.ends_on + timedelta(days=1), time(), tzinfo=zone)
    return starts, ends


# ---------------------------------------------------------------------------------------------
# The figures


@dataclass
class Tally:
    """Seats, waiting, attendance and money, added up over some enrolments."""

    capacity: int = 0
    seats_taken: int = 0
    enrolled: int = 0
    offered: int = 0
    waiting: int = 0
    attended: int = 0
    counted: int = 0
    at_risk: int = 0
    certificates: int = 0
    billed: int = 0
    paid: int = 0
    outstanding: int = 0

    @property
    def fill_rate(self) -> float | None:
        return 100 * self.seats_taken / self.capacity if self.capacity else None

    @property
    def attendance_rate(self) -> float | None:
        return 100 * self.attended / self.counted if self.counted else None

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class CohortFigures:
    cohort: Cohort
    tally: Tally = field(default_factory=Tally)


@dataclass
class GroupFigures:
    """A course's or a track's cohorts, added up."""

    key: str | int
    course: Course | None = None  # for a course
    cohorts: int = 0
    tally: Tally = field(default_factory=Tally)


@dataclass
class AtRisk:
    enrolment_id: int
    child_id: int
    child_name: str
    cohort: Cohort
    summary: AttendanceSummary
    reason: str  # AT_RISK_UNREACHABLE or AT_RISK_BELOW


@dataclass
class FeeLine:
    enrolment_id: int
    child_id: int
    child_name: str
    cohort: Cohort
    status: str
    due: int
    paid: int

    @property
    def balance(self) -> int:
        return self.due - self.paid

    @property
    def outstanding(self) -> int:
        return max(self.balance, 0)


@dataclass
class ChildLine:
    child_id: int
    name: str
    age: int | None
    tracks: set[str] = field(default_factory=set)
    cohort_ids: list[int] = field(default_factory=list)


@dataclass
class TermReport:
    term: Term
    now: datetime
    cohorts: list[CohortFigures]
    courses: list[GroupFigures]
    tracks: list[GroupFigures]
    total: Tally
    weeks: list[WeekAttendance]
    at_risk: list[AtRisk]
    fees: list[FeeLine]
    children: list[ChildLine]
    certificates_revoked: int
    new_families: int
    messages_sent: int

    @property
    def unreachable(self) -> list[AtRisk]:
        return [line for line in self.at_risk if line.reason == AT_RISK_UNREACHABLE]

    @property
    def ages(self) -> list[tuple[int, int]]:
        """(age, number of children), every age from the youngest to the oldest."""
        counts = Counter(line.age for line in self.children if line.age is not None)
        if not counts:
            return []
        return [(age, counts.get(age, 0)) for age in range(min(counts), max(counts) + 1)]

    @property
    def track_children(self) -> list[tuple[str, int]]:
        """(track, number of children enrolled in it), every track."""
        counts = Counter(track for line in self.children for track in line.tracks)
        return [(track.value, counts.get(track.value, 0)) for track in Track]

    def fee_lines(self, status: str = "all") -> list[FeeLine]:
        """All fee lines, or those still owing ("outstanding") or settled ("paid")."""
        if status == "outstanding":
            return [line for line in self.fees if line.outstanding > 0]
        if status == "paid":
            return [line for line in self.fees if line.outstanding == 0]
        return self.fees


def _term_cohorts(term: Term) -> list[Cohort]:
    return list(
        db.session.scalars(
            select(Cohort)
            .join(Course, Course.id == Cohort.course_id)
            .where(
                Cohort.starting_in(term),
                Cohort.status.in_(PUBLIC_COHORT_STATUSES),
            )
            .options(contains_eager(Cohort.course))
            .order_by(Course.title_fr, Cohort.start_date, Cohort.id)
        ).unique()
    )


def _enrolment_rows(cohort_ids: list[int]):
    """Every enrolment of the cohorts with its child and the sum of its payments less their
    credit notes (one query)."""
    refunded = (
        select(Payment.enrolment_id, func.sum(CreditNote.amount_centimes).label("refunded"))
        .join(CreditNote, CreditNote.payment_id == Payment.id)
        .group_by(Payment.enrolment_id)
        .subquery()
    )
    payments = (
        select(
            Payment.enrolment_id,
            func.sum(Payment.amount_centimes).label("paid"),
            func.count(Payment.id).label("payments"),
        )
        .group_by(Payment.enrolment_id)
        .subquery()
    )
    return db.session.execute(
        select(
            Enrolment.id,
            Enrolment.cohort_id,
            Enrolment.status,
            Enrolment.child_id,
            Enrolment.fee_centimes - Enrolment.discount_centimes - Enrolment.waiver_centimes,
            func.coalesce(payments.c.paid, 0) - func.coalesce(refunded.c.refunded, 0),
            func.coalesce(payments.c.payments, 0),
            Child.first_name,
            Child.last_name,
            Child.date_of_birth,
        )
        .join(Child, Child.id == Enrolment.child_id)
        .outerjoin(payments, payments.c.enrolment_id == Enrolment.id)
        .outerjoin(refunded, refunded.c.enrolment_id == Enrolment.id)
        .where(Enrolment.cohort_id.in_(cohort_ids))
        .order_by(Enrolment.id)
    ).all()


def _certificate_counts(cohort_ids: list[int]) -> dict[tuple[int, str], int]:
    return {
        (cohort_id, status): number
        for cohort_id, status, number in db.session.execute(
            select(Certificate.cohort_id, Certificate.status, func.count(Certificate.id))
            .where(Certificate.cohort_id.in_(cohort_ids))
            .group_by(Certificate.cohort_id, Certificate.status)
        )
    }


def new_family_query(term: Term):
    """Parent accounts created during the term (active ones), newest first."""
    starts, ends = term_bounds(term)
    return (
        select(User)
        .where(
            User.role == Role.PARENT,
            User.active.is_(True),
            User.created_at >= starts,
            User.created_at < ends,
        )
        .order_by(User.created_at.desc(), User.id.desc())
    )


def is_at_risk(summary: AttendanceSummary) -> str | None:
    """Why an enrolled child may miss the certificate (see the module's definitions)."""
    if not summary.reachable_if_unmarked_attended:
        return AT_RISK_UNREACHABLE
    if summary.remaining > 0 and summary.counted > 0 and not summary.meets_threshold:
        return AT_RISK_BELOW
    return None


def term_report(term: Term, *, now: datetime | None = None) -> TermReport:
    """Every figure of the term's dashboard (at most nine queries, whatever the term's size)."""
    now = now or utcnow()
    cohorts = _term_cohorts(term)
    ids = [cohort.id for cohort in cohorts]
    by_id = {cohort.id: CohortFigures(cohort) for cohort in cohorts}
    for figures in by_id.values():
        figures.tally.capacity = figures.cohort.capacity
        figures.tally.seats_taken = figures.cohort.seats_taken
    fees: list[FeeLine] = []
    children: dict[int, ChildLine] = {}
    names: dict[int, str] = {}
    at_risk: list[AtRisk] = []
    weeks: list[WeekAttendance] = []
    revoked = 0
    if ids:
        starts = {cohort.id: cohort.start_date for cohort in cohorts}
        tracks = {cohort.id: cohort.course.track for cohort in cohorts}
        enrolled_ids = set()
        for (
            enrolment_id,
            cohort_id,
            status,
            child_id,
            due,
            paid,
            payments,
            first_name,
            last_name,
            born,
        ) in _enrolment_rows(ids):
            tally = by_id[cohort_id].tally
            names[child_id] = f"{first_name} {last_name}"
            if status == EnrolmentStatus.ENROLLED:
                tally.enrolled += 1
                enrolled_ids.add(enrolment_id)
                line = children.get(child_id)
                if line is None:
                    age = age_in_years(born, starts[cohort_id]) if born else None
                    line = children[child_id] = ChildLine(child_id, names[child_id], age)
                elif born and starts[cohort_id] < min(starts[c] for c in line.cohort_ids):
                    line.age = age_in_years(born, starts[cohort_id])
                line.tracks.add(tracks[cohort_id])
                line.cohort_ids.append(cohort_id)
            elif status == EnrolmentStatus.OFFERED:
                tally.offered += 1
            elif status == EnrolmentStatus.WAITLISTED:
                tally.waiting += 1
            if status == EnrolmentStatus.ENROLLED or payments:
                fee = FeeLine(
                    enrolment_id, child_id, names[child_id], by_id[cohort_id].cohort, status,
                    due, paid,
                )  # fmt: skip
                fees.append(fee)
                tally.billed += fee.due
                tally.paid += fee.paid
                tally.outstanding += fee.outstanding
        report = attendance_report(cohort_ids=ids, now=now)
        weeks = report.weeks
        for summary in report.summaries.values():
            tally = by_id[summary.cohort_id].tally
            tally.attended += summary.attended
            tally.counted += summary.counted
            if summary.enrolment_id not in enrolled_ids:
                continue
            reason = is_at_risk(summary)
            if reason:
                tally.at_risk += 1
                at_risk.append(
                    AtRisk(
                        summary.enrolment_id,
                        summary.child_id,
                        names.get(summary.child_id, "—"),
                        by_id[summary.cohort_id].cohort,
                        summary,
                        reason,
                    )
                )
        for (cohort_id, status), number in _certificate_counts(ids).items():
            if status == CertificateStatus.VALID:
                by_id[cohort_id].tally.certificates += number
            elif status == CertificateStatus.REVOKED:
                revoked += number
    at_risk.sort(
        key=lambda line: (
            line.reason != AT_RISK_UNREACHABLE,
            line.summary.rate if line.summary.rate is not None else 0,
            line.child_name,
        )
    )
    figures = list(by_id.values())
    total = Tally()
    courses: dict[int, GroupFigures] = {}
    tracks_: dict[str, GroupFigures] = {track.value: GroupFigures(track.value) for track in Track}
    for item in figures:
        total.add(item.tally)
        course = item.cohort.course
        group = courses.get(course.id) or courses.setdefault(
            course.id, GroupFigures(course.id, course)
        )
        for target in (group, tracks_[course.track]):
            target.cohorts += 1
            target.tally.add(item.tally)
    starts_at, ends_at = term_bounds(term)
    return TermReport(
        term=term,
        now=now,
        cohorts=figures,
        courses=list(courses.values()),
        tracks=list(tracks_.values()),
        total=total,
        weeks=weeks,
        at_risk=at_risk,
        fees=sorted(fees, key=lambda line: (-line.outstanding, line.child_name)),
        children=sorted(children.values(), key=lambda line: line.name),
        certificates_revoked=revoked,
        new_families=db.session.scalar(
            select(func.count()).select_from(new_family_query(term).order_by(None).subquery())
        ),
        messages_sent=messages_sent_between(starts_at, ends_at),
    )


# ---------------------------------------------------------------------------------------------
# The lists behind some figures (names are only read here)


def waiting_lists(cohorts: Iterable[Cohort]) -> dict[int, list[Enrolment]]:
    """Each cohort's waiting children (in order) and seats offered, by cohort id."""
    ids = [cohort.id for cohort in cohorts]
    lines: dict[int, list[Enrolment]] = defaultdict(list)
    if not ids:
        return lines
    for enrolment in db.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.cohort_id.in_(ids),
            Enrolment.status.in_((EnrolmentStatus.OFFERED, EnrolmentStatus.WAITLISTED)),
        )
        .options(contains_eager(Enrolment.child))
        .join(Child, Child.id == Enrolment.child_id)
        .order_by(Enrolment.cohort_id, Enrolment.status, Enrolment.id)
    ):
        lines[enrolment.cohort_id].append(enrolment)
    return lines


def term_certificates(term: Term) -> list[Certificate]:
    """Certificates of the term's cohorts (valid and revoked), newest first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .join(Cohort, Cohort.id == Certificate.cohort_id)
            .join(Course, Course.id == Cohort.course_id)
            .where(
                Cohort.starting_in(term),
                Certificate.status.in_((CertificateStatus.VALID, CertificateStatus.REVOKED)),
            )
            .options(contains_eager(Certificate.cohort).contains_eager(Cohort.course))
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )
