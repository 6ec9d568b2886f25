"""Attendance rules: who is on a roster, the roll call and its history, absence notices,
check-out, final projects, the attendance rate, and what families are told."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, delete, distinct, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.models import User
from lms.attendance.models import (
    ATTENDED_STATUSES,
    AbsenceEmailOptOut,
    AbsenceNotice,
    AttendanceChange,
    AttendanceMark,
    AttendanceStatus,
    ChangeSource,
    Checkout,
    CollectorKind,
    FinalProjectMark,
    ThresholdNotice,
)
from lms.attendance.permissions import (
    can_report_absence,
    can_view_cohort_attendance,
    is_correction,
    marking_opens_at,
    marking_refusal,
)
from lms.audit import services as audit
from lms.courses.models import (
    Cohort,
    CohortInstructor,
    Course,
    Lesson,
    LessonStatus,
    lab_zone,
    local_instant,
)
from lms.database import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child, ConsentKind, Guardianship
from lms.notifications.services import queue_email_to_user
from lms.roles import Role

REASON_MAX = 300

# Statuses an enrolment can have once it has been `enrolled` (enrolled_at is then set).
_ONCE_ENROLLED = (EnrolmentStatus.ENROLLED, EnrolmentStatus.WITHDRAWN, EnrolmentStatus.CANCELLED)


# ---------------------------------------------------------------------------------------------
# Who is on a lesson's roster


def enrolled_at_instant(instant) -> ColumnElement[bool]:
    """Enrolments during which the child was enrolled at ``instant`` (a value or a column,
    e.g. ``Lesson.starts_at``).

    The one definition of "enrolled on the lesson's date": the enrolment reached `enrolled`
    (it is enrolled now, or was withdrawn or cancelled after having been enrolled) no later
    than the lesson's start, and had not ended by then.
    """
    return and_(
        Enrolment.status.in_(_ONCE_ENROLLED),
        Enrolment.enrolled_at.is_not(None),
        Enrolment.enrolled_at <= instant,
        or_(Enrolment.ended_at.is_(None), Enrolment.ended_at > instant),
    )


def roster_enrolments(lesson: Lesson) -> dict[int, int]:
    """{child id: enrolment id} of the children enrolled in the lesson's cohort when it starts."""
    rows = db.session.execute(
        select(Enrolment.child_id, Enrolment.id)
        .where(Enrolment.cohort_id == lesson.cohort_id, enrolled_at_instant(lesson.starts_at))
        .order_by(Enrolment.id)
    )
    enrolments: dict[int, int] = {}
    for child_id, enrolment_id in rows:
        enrolments.setdefault(child_id, enrolment_id)
    return enrolments


def _require_on_roster(lesson: Lesson, child_ids: Iterable[int]) -> dict[int, int]:
    enrolments = roster_enrolments(lesson)
    if any(child_id not in enrolments for child_id in child_ids):
        raise DomainError(_l("This child is not enrolled in the cohort on the lesson's date."))
    return enrolments


# ---------------------------------------------------------------------------------------------
# The attendance rate: one computation for the roster, the grid, the parents and certificates


class Outcome(enum.StrEnum):
    """What one lesson means for one enrolment's attendance rate."""

    ATTENDED = "attended"  # held, marked present or late: counts, attended
    ABSENT = "absent"  # held, marked absent: counts, not attended
    UNMARKED = "unmarked"  # held and over, nobody marked it: counts, not attended
    EXCUSED = "excused"  # marked excused (held or not): left out
    UPCOMING = "upcoming"  # not started yet, or under way and not marked yet: remaining
    CANCELLED = "cancelled"  # cancelled lesson: does not count
    OUTSIDE = "outside"  # before the child joined or after the enrolment ended


COUNTED_OUTCOMES = (Outcome.ATTENDED, Outcome.ABSENT, Outcome.UNMARKED)


@dataclass(frozen=True)
class EnrolmentSpan:
    """The part of an enrolment the rate needs."""

    enrolment_id: int
    child_id: int
    cohort_id: int
    status: str
    enrolled_at: datetime
    ended_at: datetime | None
    threshold: int

    def covers(self, instant: datetime) -> bool:
        """Same rule as ``enrolled_at_instant``, in Python."""
        return self.enrolled_at <= instant and (self.ended_at is None or self.ended_at > instant)


@dataclass(frozen=True)
class LessonSlot:
    """The part of a lesson the rate needs."""

    id: int
    cohort_id: int
    number: int
    starts_at: datetime
    ends_at: datetime
    cancelled: bool


def lesson_outcome(
    lesson: LessonSlot, span: EnrolmentSpan, status: str | None, *, now: datetime
) -> Outcome:
    """Classify one lesson for one enrolment (see ``attendance_summaries`` for the rules)."""
    if lesson.cancelled:
        return Outcome.CANCELLED
    if not span.covers(lesson.starts_at):
        return Outcome.OUTSIDE
    if status == AttendanceStatus.EXCUSED:
        return Outcome.EXCUSED
    if lesson.starts_at > now:
        return Outcome.UPCOMING
    if status is None:
        return Outcome.UPCOMING if lesson.ends_at > now else Outcome.UNMARKED
    if status in ATTENDED_STATUSES:
        return Outcome.ATTENDED
    return Outcome.ABSENT


@dataclass(frozen=True)
class AttendanceSummary:
    """One enrolment's attendance, as the rate rules count it.

    ``attended`` / ``counted`` is the rate; ``counted`` = attended + absent + unmarked.
    ``remaining`` are the scheduled lessons of the enrolment not held yet (pre-excused ones
    excluded). ``needed`` is how many of them the child must still attend to reach the
    threshold; ``reachable`` is False once even attending all of them would not be enough.
    """

    enrolment_id: int
    child_id: int
    cohort_id: int
    threshold: int  # percent, from the course
    attended: int
    absent: int
    unmarked: int
    excused: int
    remaining: int
    needed: int
    reachable: bool

    @property
    def counted(self) -> int:
        return self.attended + self.absent + self.unmarked

    @property
    def rate(self) -> float | None:
        """The attendance rate in percent (None until a lesson counts)."""
        if not self.counted:
            return None
        return 100 * self.attended / self.counted

    @property
    def meets_threshold(self) -> bool:
        """The rate is at or above the threshold now (exact integer comparison)."""
        return self.counted > 0 and 100 * self.attended >= self.threshold * self.counted

    @property
    def gap(self) -> float | None:
        """Percentage points above (positive) or below (negative) the threshold."""
        return None if self.rate is None else self.rate - self.threshold

    @property
    def can_miss(self) -> int | None:
        """How many of the remaining lessons the child may still miss; None if unreachable."""
        return self.remaining - self.needed if self.reachable else None

    @property
    def reachable_if_unmarked_attended(self) -> bool:
        """Reachability if every unmarked lesson turns out attended: a roll not taken yet
        must not tell a family their child has lost the certificate."""
        best = self.attended + self.unmarked + self.remaining
        total = self.counted + self.remaining
        return total == 0 or 100 * best >= self.threshold * total


def summarise(
    span: EnrolmentSpan,
    lessons: Sequence[LessonSlot],
    statuses: Mapping[tuple[int, int], str],
    *,
    now: datetime,
    each: Callable[[LessonSlot, Outcome], None] | None = None,
) -> AttendanceSummary:
    """The rate computation itself, over data already loaded (``statuses`` is keyed by
    (lesson id, child id)). ``each``, if given, is told every lesson's outcome."""
    counts = dict.fromkeys(Outcome, 0)
    for lesson in lessons:
        outcome = lesson_outcome(lesson, span, statuses.get((lesson.id, span.child_id)), now=now)
        counts[outcome] += 1
        if each is not None:
            each(lesson, outcome)
    attended, remaining = counts[Outcome.ATTENDED], counts[Outcome.UPCOMING]
    total = counts[Outcome.ATTENDED] + counts[Outcome.ABSENT] + counts[Outcome.UNMARKED]
    total += remaining
    # The least k with 100 * (attended + k) >= threshold * total.
    needed = max(0, -(-(span.threshold * total - 100 * attended) // 100))
    return AttendanceSummary(
        enrolment_id=span.enrolment_id,
        child_id=span.child_id,
        cohort_id=span.cohort_id,
        threshold=span.threshold,
        attended=attended,
        absent=counts[Outcome.ABSENT],
        unmarked=counts[Outcome.UNMARKED],
        excused=counts[Outcome.EXCUSED],
        remaining=remaining,
        needed=needed,
        reachable=needed <= remaining,
    )


@dataclass
class _RateData:
    spans: list[EnrolmentSpan]
    lessons: dict[int, list[LessonSlot]]  # by cohort id
    statuses: dict[tuple[int, int], str]  # (lesson id, child id) -> status


def _load_rate_data(
    *, cohort_ids: Iterable[int] | None = None, enrolment_ids: Iterable[int] | None = None
) -> _RateData:
    """Three queries, whatever the number of enrolments, lessons and marks."""
    query = (
        select(
            Enrolment.id,
            Enrolment.child_id,
            Enrolment.cohort_id,
            Enrolment.status,
            Enrolment.enrolled_at,
            Enrolment.ended_at,
            Course.attendance_threshold,
        )
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .join(Course, Course.id == Cohort.course_id)
        .where(Enrolment.status.in_(_ONCE_ENROLLED), Enrolment.enrolled_at.is_not(None))
        .order_by(Enrolment.id)
    )
    if cohort_ids is not None:
        query = query.where(Enrolment.cohort_id.in_(list(cohort_ids)))
    if enrolment_ids is not None:
        query = query.where(Enrolment.id.in_(list(enrolment_ids)))
    spans = [EnrolmentSpan(*row) for row in db.session.execute(query)]
    if not spans:
        return _RateData([], {}, {})
    cohorts = sorted({span.cohort_id for span in spans})
    lessons: dict[int, list[LessonSlot]] = defaultdict(list)
    for row in db.session.execute(
        select(
            Lesson.id,
            Lesson.cohort_id,
            Lesson.number,
            Lesson.starts_at,
            Lesson.ends_at,
            Lesson.status == LessonStatus.CANCELLED,
        )
        .where(Lesson.cohort_id.in_(cohorts))
        .order_by(Lesson.starts_at, Lesson.id)
    ):
        lessons[row[1]].append(LessonSlot(*row))
    marks = (
        select(AttendanceMark.lesson_id, AttendanceMark.child_id, AttendanceMark.status)
        .join(Lesson, Lesson.id == AttendanceMark.lesson_id)
        .where(Lesson.cohort_id.in_(cohorts))
    )
    if enrolment_ids is not None:
        marks = marks.where(AttendanceMark.child_id.in_({span.child_id for span in spans}))
    statuses = {
        (lesson_id, child_id): status for lesson_id, child_id, status in db.session.execute(marks)
    }
    return _RateData(spans, lessons, statuses)


def attendance_summaries(
    *,
    cohort_ids: Iterable[int] | None = None,
    enrolment_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> dict[int, AttendanceSummary]:
    """The attendance of many enrolments at once, in three queries: {enrolment id: summary}.

    Give ``cohort_ids`` (every enrolment of those cohorts that ever reached `enrolled`), or
    ``enrolment_ids``, or both (their intersection). ``now`` defaults to the current instant.

    The rules, written once here and used by the roster, the grid, the parents' pages and
    certificate eligibility. For each lesson of the enrolment's cohort:

    - a cancelled lesson does not count at all;
    - a lesson before the child was enrolled, or after the enrolment ended, does not count
      (the same rule as the roster's: ``enrolled_at <= starts_at < ended_at``);
    - a lesson marked `excused` is left out of the rate (neither attended nor missed), even
      when the excuse was reported before the lesson;
    - a lesson that has not started yet (``starts_at > now``) does not count; it is one of the
      ``remaining`` lessons;
    - a started lesson marked `present` or `late` counts as attended, one marked `absent`
      counts as missed;
    - a lesson that is over with no mark counts as missed: the roll was not taken, and a
      certificate must not rest on lessons nobody saw the child at. Staff see such lessons
      as "not marked" on the grid and on their home page, and can still mark them. While an
      unmarked lesson is under way it is still one of the ``remaining`` ones.

    The rate is attended / (attended + absent + unmarked), in percent; it is None while no
    lesson counts. ``meets_threshold`` compares exactly (in integers) with the course's
    ``attendance_threshold``. The threshold is ``reachable`` while attending every remaining
    lesson would still bring the rate to the threshold; ``needed`` says how many of the
    remaining lessons the child must attend, ``can_miss`` how many they may still miss.
    """
    if cohort_ids is None and enrolment_ids is None:
        raise ValueError("give cohort_ids or enrolment_ids")
    now = now or utcnow()
    data = _load_rate_data(cohort_ids=cohort_ids, enrolment_ids=enrolment_ids)
    return {
        span.enrolment_id: summarise(
            span, data.lessons.get(span.cohort_id, []), data.statuses, now=now
        )
        for span in data.spans
    }


@dataclass
class WeekAttendance:
    """Lessons held in one week (Monday, local): how many counted, how many were attended."""

    monday: date
    attended: int = 0
    counted: int = 0

    @property
    def rate(self) -> float | None:
        return 100 * self.attended / self.counted if self.counted else None


@dataclass
class AttendanceReport:
    """Many enrolments' summaries and the same lessons counted week by week."""

    summaries: dict[int, AttendanceSummary]
    weeks: list[WeekAttendance]


def attendance_report(
    *, cohort_ids: Iterable[int], now: datetime | None = None
) -> AttendanceReport:
    """``attendance_summaries`` of the cohorts, and their attended / counted lessons per week
    of the lab's calendar (by the same rules, in the same pass over the same three queries)."""
    now = now or utcnow()
    data = _load_rate_data(cohort_ids=cohort_ids)
    attended: dict[int, int] = defaultdict(int)  # by lesson id
    counted: dict[int, int] = defaultdict(int)

    def tally(lesson: LessonSlot, outcome: Outcome) -> None:
        if outcome in COUNTED_OUTCOMES:
            counted[lesson.id] += 1
            if outcome == Outcome.ATTENDED:
                attended[lesson.id] += 1

    summaries = {
        span.enrolment_id: summarise(
            span, data.lessons.get(span.cohort_id, []), data.statuses, now=now, each=tally
        )
        for span in data.spans
    }
    zone = lab_zone()
    weeks: dict[date, WeekAttendance] = {}
    for lessons in data.lessons.values():
        for lesson in lessons:
            if lesson.id not in counted:
                continue
            day = lesson.starts_at.astimezone(zone).date()
            monday = day - timedelta(days=day.weekday())
            week = weeks.get(monday) or weeks.setdefault(monday, WeekAttendance(monday))
            week.counted += counted[lesson.id]
            week.attended += attended[lesson.id]
    return AttendanceReport(summaries, [weeks[monday] for monday in sorted(weeks)])


# ---------------------------------------------------------------------------------------------
# The roster of one lesson


@dataclass(frozen=True)
class Collector:
    """Someone who may take the child home, as the check-out offers them."""

    key: str  # "guardian-12", "pickup-5" or "alone"
    kind: str
    id: int | None
    name: str | None
    relationship: str | None = None
    phone: str | None = None


@dataclass
class RosterRow:
    child: Child
    enrolment_id: int
    mark: AttendanceMark | None
    notice: AbsenceNotice | None
    checkout: Checkout | None
    photo_allowed: bool
    collectors: list[Collector]

    @property
    def status(self) -> str | None:
        return self.mark.status if self.mark else None

    @property
    def version(self) -> int:
        return self.mark.version if self.mark else 0

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED_STATUSES

    @property
    def waiting_for_pickup(self) -> bool:
        return self.attended and self.checkout is None


@dataclass
class Roster:
    lesson: Lesson
    rows: list[RosterRow]
    last_change: AttendanceChange | None = None

    def count(self, status: str | None) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def unmarked(self) -> int:
        return self.count(None)

    @property
    def waiting_for_pickup(self) -> list[RosterRow]:
        return [row for row in self.rows if row.waiting_for_pickup]

    @property
    def collected(self) -> list[RosterRow]:
        return [row for row in self.rows if row.checkout is not None]


def collectors_for(child: Child) -> list[Collector]:
    """Who may take ``child`` home: the active guardians, the authorised people, and "leaves
    alone" if the parents allowed it."""
    people = [
        Collector(
            key=f"guardian-{g.user_id}",
            kind=CollectorKind.GUARDIAN,
            id=g.user_id,
            name=g.user.full_name,
            phone=g.user.phone,
        )
        for g in child.guardianships
        if g.user.active
    ]
    people += [
        Collector(
            key=f"pickup-{p.id}",
            kind=CollectorKind.PICKUP,
            id=p.id,
            name=p.name,
            relationship=p.relationship_to_child,
            phone=p.phone,
        )
        for p in child.authorised_pickups
    ]
    if child.may_leave_alone:
        people.append(Collector(key="alone", kind=CollectorKind.ALONE, id=None, name=None))
    return people


def _photo_allowed(child: Child) -> bool:
    record = child.current_consent(ConsentKind.PHOTO)
    return record is not None and record.granted


def lesson_roster(lesson: Lesson) -> Roster:
    """Everyone enrolled on the lesson's date with their mark, notice and check-out, in a fixed
    number of queries whatever the number of children."""
    enrolments = roster_enrolments(lesson)
    children = list(
        db.session.scalars(
            select(Child)
            .where(Child.id.in_(list(enrolments)))
            .options(
                selectinload(Child.consent_records),
                selectinload(Child.contact_people),
                selectinload(Child.guardianships).joinedload(Guardianship.user),
            )
        )
    )
    marks = {
        mark.child_id: mark
        for mark in db.session.scalars(
            select(AttendanceMark).where(AttendanceMark.lesson_id == lesson.id)
        )
    }
    notices = {
        notice.child_id: notice
        for notice in db.session.scalars(
            select(AbsenceNotice).where(AbsenceNotice.lesson_id == lesson.id)
        )
    }
    checkouts = {
        checkout.child_id: checkout
        for checkout in db.session.scalars(select(Checkout).where(Checkout.lesson_id == lesson.id))
    }
    last_change = db.session.scalar(
        select(AttendanceChange)
        .join(AttendanceMark)
        .where(AttendanceMark.lesson_id == lesson.id)
        .options(joinedload(AttendanceChange.changed_by))
        .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())
        .limit(1)
    )
    rows = [
        RosterRow(
            child=child,
            enrolment_id=enrolments[child.id],
            mark=marks.get(child.id),
            notice=notices.get(child.id),
            checkout=checkouts.get(child.id),
            photo_allowed=_photo_allowed(child),
            collectors=collectors_for(child),
        )
        for child in children
    ]
    rows.sort(key=lambda row: (row.child.first_name.casefold(), row.child.last_name.casefold()))
    return Roster(lesson=lesson, rows=rows, last_change=last_change)


# ---------------------------------------------------------------------------------------------
# The roll call


@dataclass(frozen=True)
class MarkEntry:
    """One child's line of a submitted roster: the status chosen (None: left blank), and the
    status and version the form showed."""

    status: str | None
    seen_status: str | None = None
    seen_version: int = 0

    @property
    def changed(self) -> bool:
        return self.status is not None and self.status != self.seen_status


@dataclass(frozen=True)
class OtherSave:
    """Someone else saved the roster after this form was shown."""

    name: str
    at: datetime


@dataclass
class RollCallResult:
    written: int = 0  # marks this save changed
    applied_on_top: int = 0  # of those, marks someone else had changed since the form was shown
    others: list[OtherSave] = field(default_factory=list)
    emails: int = 0


def _lock_lesson(lesson: Lesson) -> None:
    """Serialise saves of one roster (PostgreSQL; SQLite's BEGIN IMMEDIATE already does)."""
    db.session.execute(select(Lesson.id).where(Lesson.id == lesson.id).with_for_update())


def _set_mark(
    mark: AttendanceMark | None,
    *,
    lesson: Lesson,
    child_id: int,
    status: str,
    actor: User,
    source: str,
    now: datetime,
    reason: str | None = None,
) -> AttendanceMark:
    """Create or change a mark, with its history line."""
    before = mark.status if mark else None
    if mark is None:
        mark = AttendanceMark(lesson_id=lesson.id, child_id=child_id, status=status, version=1)
        db.session.add(mark)
    else:
        mark.status = status
        mark.version += 1
    mark.marked_by_id = actor.id
    mark.marked_at = now
    db.session.flush()
    db.session.add(
        AttendanceChange(
            mark_id=mark.id,
            changed_by_id=actor.id,
            changed_at=now,
            before=before,
            after=status,
            version=mark.version,
            source=source,
            reason=reason,
        )
    )
    return mark


def _clean_reason(reason: str | None) -> str | None:
    reason = " ".join((reason or "").split())
    return reason[:REASON_MAX] or None


def save_roll_call(
    lesson: Lesson,
    *,
    actor: User,
    entries: Mapping[int, MarkEntry],
    reason: str | None = None,
    now: datetime | None = None,
) -> RollCallResult:
    """Save a roster: write only the marks the form changed, on top of whatever others saved
    meanwhile (the later save wins for the marks it changed), keep every change in the history,
    and tell the families what they must know."""
    now = now or utcnow()
    refusal = marking_refusal(actor, lesson, now=now)
    if refusal is not None:
        raise DomainError(refusal)
    for entry in entries.values():
        if entry.status is not None and entry.status not in AttendanceStatus.__members__.values():
            raise DomainError(_l("Choose present, late, absent or excused."))
    correction = is_correction(lesson, now=now)
    reason = _clean_reason(reason)
    if correction and not reason:
        raise DomainError(
            _l("Say why you correct the attendance of a lesson held more than 7 days ago."),
            field="reason",
        )
    source = ChangeSource.CORRECTION if correction else ChangeSource.ROLL_CALL
    _lock_lesson(lesson)
    enrolments = _require_on_roster(lesson, entries)
    marks = {
        mark.child_id: mark
        for mark in db.session.scalars(
            select(AttendanceMark).where(AttendanceMark.lesson_id == lesson.id)
        )
    }

    result = RollCallResult()
    # Marks someone else changed since the form was shown (whether or not this save changes
    # them): mark id -> the version the form showed.
    moved = {
        mark.id: entries[child_id].seen_version
        for child_id, mark in marks.items()
        if child_id in entries and mark.version != entries[child_id].seen_version
    }
    if moved:
        result.others = _saves_since(moved)
    changes = []
    newly_absent: list[AttendanceMark] = []
    for child_id, entry in sorted(entries.items()):
        if not entry.changed:
            continue
        mark = marks.get(child_id)
        if mark is not None and mark.status == entry.status:
            continue  # someone else already made the same change
        if mark is not None and mark.version != entry.seen_version:
            result.applied_on_top += 1
        before = mark.status if mark else None
        mark = _set_mark(
            mark,
            lesson=lesson,
            child_id=child_id,
            status=entry.status,
            actor=actor,
            source=source,
            now=now,
            reason=reason if correction else None,
        )
        result.written += 1
        changes.append({"child_id": child_id, "before": before, "after": entry.status})
        if entry.status == AttendanceStatus.ABSENT:
            newly_absent.append(mark)
    if changes:
        audit.record(
            "attendance.roll_call",
            actor=actor,
            subject=lesson,
            reason=reason if correction else None,
            source=source,
            changes=changes,
        )
        db.session.flush()
        result.emails = _tell_about_absences(lesson, newly_absent, now=now)
        result.emails += _tell_about_unreachable_thresholds(
            [enrolments[change["child_id"]] for change in changes], now=now
        )
    return result


def _saves_since(seen_versions: Mapping[int, int]) -> list[OtherSave]:
    """Who changed these marks after the versions a form showed ({mark id: version}), each
    person once with their latest change."""
    latest: dict[int, OtherSave] = {}
    rows = db.session.execute(
        select(
            AttendanceChange.mark_id,
            AttendanceChange.version,
            AttendanceChange.changed_by_id,
            User.full_name,
            AttendanceChange.changed_at,
        )
        .outerjoin(User, User.id == AttendanceChange.changed_by_id)
        .where(AttendanceChange.mark_id.in_(list(seen_versions)))
        .order_by(AttendanceChange.changed_at, AttendanceChange.id)
    )
    for mark_id, version, user_id, name, at in rows:
        if version > seen_versions[mark_id]:
            latest[user_id or 0] = OtherSave(name=name or "—", at=at)
    return sorted(latest.values(), key=lambda save: save.at)


# ---------------------------------------------------------------------------------------------
# What families are told


def absence_emails_enabled(user: User) -> bool:
    """Whether ``user`` wants an e-mail when a child is marked absent (the default)."""
    return db.session.get(AbsenceEmailOptOut, user.id) is None


def set_absence_emails(user: User, *, enabled: bool) -> None:
    """Turn the absence e-mails on or off for ``user``."""
    if not user.is_parent:
        raise DomainError(_l("Only parents receive absence e-mails."))
    current = db.session.get(AbsenceEmailOptOut, user.id)
    if enabled and current is not None:
        db.session.delete(current)
    elif not enabled and current is None:
        db.session.add(AbsenceEmailOptOut(user_id=user.id, created_at=utcnow()))
    db.session.flush()


def _local_day(instant: datetime):
    return instant.astimezone(lab_zone()).date()


def _tell_about_absences(lesson: Lesson, marks: list[AttendanceMark], *, now: datetime) -> int:
    """E-mail the parents of children marked absent without notice, on the lesson's day only
    and once per child and lesson."""
    if not marks or _local_day(now) != _local_day(lesson.starts_at):
        return 0
    marks = [mark for mark in marks if mark.absence_email_at is None]
    if not marks:
        return 0
    child_ids = [mark.child_id for mark in marks]
    excused = set(
        db.session.scalars(
            select(AbsenceNotice.child_id).where(
                AbsenceNotice.lesson_id == lesson.id, AbsenceNotice.child_id.in_(child_ids)
            )
        )
    )
    opted_out = set(db.session.scalars(select(AbsenceEmailOptOut.user_id)))
    children = {
        child.id: child
        for child in db.session.scalars(
            select(Child)
            .where(Child.id.in_(child_ids))
            .options(selectinload(Child.guardianships).joinedload(Guardianship.user))
        )
    }
    sent = 0
    for mark in marks:
        if mark.child_id in excused:
            continue
        mark.absence_email_at = now
        child = children[mark.child_id]
        for guardian in child.guardians:
            if guardian.active and guardian.id not in opted_out:
                queue_email_to_user(guardian, "attendance_absent", child=child, lesson=lesson)
                sent += 1
    db.session.flush()
    return sent


def claim_threshold_notice(enrolment_id: int, *, now: datetime) -> bool:
    """Claim the right to tell a family, once, that the threshold is out of reach.

    A save of another lesson of the cohort may be claiming it at this very moment: the unique
    row decides who tells, and the loser carries on (False) instead of failing the request.
    """
    try:
        with db.session.begin_nested():
            db.session.add(ThresholdNotice(enrolment_id=enrolment_id, sent_at=now))
    except IntegrityError:
        return False
    return True


def _tell_about_unreachable_thresholds(enrolment_ids: list[int], *, now: datetime) -> int:
    """Tell the parents and the coordinators, once per enrolment, that a child can no longer
    reach the certificate threshold."""
    summaries = attendance_summaries(enrolment_ids=enrolment_ids, now=now)
    # Only marks taken count here: unmarked lessons are given the benefit of the doubt.
    lost = [s for s in summaries.values() if not s.reachable_if_unmarked_attended]
    if not lost:
        return 0
    told = set(
        db.session.scalars(
            select(ThresholdNotice.enrolment_id).where(
                ThresholdNotice.enrolment_id.in_([s.enrolment_id for s in lost])
            )
        )
    )
    lost = [s for s in lost if s.enrolment_id not in told]
    if not lost:
        return 0
    coordinators = list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.COORDINATOR, User.active.is_(True))
            .order_by(User.id)
        )
    )
    enrolments = {
        enrolment.id: enrolment
        for enrolment in db.session.scalars(
            select(Enrolment)
            .where(Enrolment.id.in_([s.enrolment_id for s in lost]))
            .options(
                joinedload(Enrolment.cohort).joinedload(Cohort.course),
                joinedload(Enrolment.child)
                .selectinload(Child.guardianships)
                .joinedload(Guardianship.user),
            )
        )
    }
    sent = 0
    for summary in lost:
        enrolment = enrolments[summary.enrolment_id]
        if not claim_threshold_notice(enrolment.id, now=now):
            continue
        context = {
            "child": enrolment.child,
            "cohort": enrolment.cohort,
            "summary": summary,
        }
        for guardian in enrolment.child.guardians:
            if guardian.active:
                queue_email_to_user(guardian, "attendance_threshold_parent", **context)
                sent += 1
        for coordinator in coordinators:
            queue_email_to_user(coordinator, "attendance_threshold_coordinator", **context)
            sent += 1
        audit.record(
            "attendance.threshold_unreachable",
            actor=None,
            subject=enrolment,
            rate=round(summary.rate or 0),
            threshold=summary.threshold,
        )
    db.session.flush()
    return sent


# ---------------------------------------------------------------------------------------------
# Absence notices


def report_absence(
    lesson: Lesson,
    child: Child,
    *,
    actor: User,
    reason: str | None = None,
    now: datetime | None = None,
) -> AbsenceNotice:
    """A parent says in advance that the child will miss ``lesson``: the mark is set to
    `excused` (unless the child was already marked present or late) and the roster shows it."""
    now = now or utcnow()
    if not can_report_absence(actor, child):
        raise DomainError(_l("Only the child's guardians can report an absence."))
    if lesson.is_cancelled:
        raise DomainError(_l("This lesson is cancelled: no need to report an absence."))
    if lesson.starts_at <= now:
        raise DomainError(
            _l("This lesson has already started: an absence can only be reported in advance.")
        )
    _require_on_roster(lesson, [child.id])
    existing = db.session.scalar(
        select(AbsenceNotice).where(
            AbsenceNotice.lesson_id == lesson.id, AbsenceNotice.child_id == child.id
        )
    )
    if existing is not None:
        raise DomainError(_l("This absence has already been reported."))
    notice = AbsenceNotice(
        lesson_id=lesson.id,
        child_id=child.id,
        reason=_clean_reason(reason),
        reported_by_id=actor.id,
        reported_at=now,
    )
    db.session.add(notice)
    mark = db.session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.lesson_id == lesson.id, AttendanceMark.child_id == child.id
        )
    )
    if mark is None or mark.status == AttendanceStatus.ABSENT:
        _set_mark(
            mark,
            lesson=lesson,
            child_id=child.id,
            status=AttendanceStatus.EXCUSED,
            actor=actor,
            source=ChangeSource.ABSENCE_NOTICE,
            now=now,
        )
    db.session.flush()
    audit.record("attendance.absence_reported", actor=actor, subject=lesson, child_id=child.id)
    return notice


# ---------------------------------------------------------------------------------------------
# Check-out


def check_out(
    lesson: Lesson,
    child: Child,
    *,
    actor: User,
    collector: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Checkout:
    """Record who took ``child`` home after ``lesson``: one of the child's guardians or
    authorised people (checked against the child's own lists), or nobody if the parents allowed
    the child to leave alone. Recording it again corrects it."""
    now = now or utcnow()
    refusal = marking_refusal(actor, lesson, now=now)
    if refusal is not None:
        raise DomainError(refusal)
    _require_on_roster(lesson, [child.id])
    mark = db.session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.lesson_id == lesson.id, AttendanceMark.child_id == child.id
        )
    )
    if mark is None or not mark.attended:
        raise DomainError(
            _l("Mark %(name)s present or late before the check-out.", name=child.first_name)
        )
    chosen = next((c for c in collectors_for(child) if c.key == collector), None)
    if chosen is None:
        if collector == "alone":
            raise DomainError(
                _l("The parents have not allowed %(name)s to leave alone.", name=child.first_name),
                field="collector",
            )
        raise DomainError(
            _l(
                "This person is not on %(name)s's list of people allowed to collect them.",
                name=child.first_name,
            ),
            field="collector",
        )
    at = at or now
    if at < marking_opens_at(lesson):
        raise DomainError(_l("The time is before the lesson."), field="at")
    if at > now + timedelta(minutes=5):
        raise DomainError(_l("The time cannot be in the future."), field="at")
    checkout = db.session.scalar(
        select(Checkout).where(Checkout.lesson_id == lesson.id, Checkout.child_id == child.id)
    )
    before = None
    if checkout is None:
        checkout = Checkout(lesson_id=lesson.id, child_id=child.id)
        db.session.add(checkout)
    else:
        before = checkout.collector_kind
    checkout.collector_kind = chosen.kind
    checkout.guardian_id = chosen.id if chosen.kind == CollectorKind.GUARDIAN else None
    checkout.pickup_id = chosen.id if chosen.kind == CollectorKind.PICKUP else None
    checkout.collector_name = chosen.name
    checkout.collected_at = at
    checkout.recorded_by_id = actor.id
    checkout.recorded_at = now
    db.session.flush()
    audit.record(
        "attendance.checked_out",
        actor=actor,
        subject=lesson,
        child_id=child.id,
        collector=chosen.kind,
        guardian_id=checkout.guardian_id,
        pickup_id=checkout.pickup_id,
        corrected_from=before,
    )
    return checkout


# ---------------------------------------------------------------------------------------------
# Final projects (for courses that require one)


def final_projects(cohort_id: int) -> dict[int, FinalProjectMark]:
    """{child id: final-project mark} of a cohort."""
    return {
        mark.child_id: mark
        for mark in db.session.scalars(
            select(FinalProjectMark).where(FinalProjectMark.cohort_id == cohort_id)
        )
    }


def completed_final_projects(cohort_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(cohort id, child id) pairs whose final project an instructor marked completed."""
    rows = db.session.execute(
        select(FinalProjectMark.cohort_id, FinalProjectMark.child_id).where(
            FinalProjectMark.cohort_id.in_(list(cohort_ids)),
            FinalProjectMark.completed.is_(True),
        )
    )
    return {(cohort_id, child_id) for cohort_id, child_id in rows}


def set_final_projects(
    cohort: Cohort, *, actor: User, completed: Iterable[int], now: datetime | None = None
) -> int:
    """Record which of the cohort's children completed the final project (the others did
    not, yet); returns how many marks changed."""
    now = now or utcnow()
    if not can_view_cohort_attendance(actor, cohort):
        raise DomainError(_l("Only the cohort's instructors and the coordinators can do this."))
    if not cohort.course.requires_final_project:
        raise DomainError(_l("This course has no final project."))
    first_lesson = db.session.scalar(
        select(func.min(Lesson.starts_at)).where(
            Lesson.cohort_id == cohort.id, Lesson.status == LessonStatus.SCHEDULED
        )
    )
    if first_lesson is None or first_lesson > now:
        raise DomainError(_l("The cohort has not started yet."))
    completed = set(completed)
    children = set(
        db.session.scalars(
            select(Enrolment.child_id)
            .where(
                Enrolment.cohort_id == cohort.id,
                Enrolment.status.in_(_ONCE_ENROLLED),
                Enrolment.enrolled_at.is_not(None),
            )
            .distinct()
        )
    )
    if not completed <= children:
        raise DomainError(_l("This child is not enrolled in the cohort."))
    existing = final_projects(cohort.id)
    changes = []
    for child_id in sorted(children):
        done = child_id in completed
        mark = existing.get(child_id)
        if mark is not None and mark.completed == done:
            continue
        if mark is None and not done:
            continue  # nothing said yet, nothing to say
        if mark is None:
            mark = FinalProjectMark(cohort_id=cohort.id, child_id=child_id)
            db.session.add(mark)
        mark.completed = done
        mark.marked_by_id = actor.id
        mark.marked_at = now
        changes.append({"child_id": child_id, "completed": done})
    if changes:
        db.session.flush()
        audit.record("attendance.final_project", actor=actor, subject=cohort, changes=changes)
    return len(changes)


# ---------------------------------------------------------------------------------------------
# Staff pages: lessons to mark, the cohort grid, the history of a lesson


@dataclass(frozen=True)
class LessonProgress:
    enrolled: int
    marked: int

    @property
    def to_mark(self) -> int:
        return self.enrolled - self.marked


def lesson_progress(lesson_ids: Iterable[int]) -> dict[int, LessonProgress]:
    """{lesson id: children enrolled on its date and how many are marked}, in one query."""
    lesson_ids = list(lesson_ids)
    if not lesson_ids:
        return {}
    rows = db.session.execute(
        select(
            Lesson.id,
            func.count(distinct(Enrolment.child_id)),
            func.count(distinct(AttendanceMark.child_id)),
        )
        .join(
            Enrolment,
            and_(Enrolment.cohort_id == Lesson.cohort_id, enrolled_at_instant(Lesson.starts_at)),
        )
        .outerjoin(
            AttendanceMark,
            and_(
                AttendanceMark.lesson_id == Lesson.id,
                AttendanceMark.child_id == Enrolment.child_id,
            ),
        )
        .where(Lesson.id.in_(lesson_ids))
        .group_by(Lesson.id)
    )
    progress = {lesson_id: LessonProgress(0, 0) for lesson_id in lesson_ids}
    for lesson_id, enrolled, marked in rows:
        progress[lesson_id] = LessonProgress(enrolled, marked)
    return progress


def lessons_to_catch_up(user: User, *, now: datetime | None = None) -> list[Lesson]:
    """Lessons of the last 7 days before today that ``user`` teaches (held, not cancelled)."""
    now = now or utcnow()
    today_start = local_instant(_local_day(now), time(0))
    return list(
        db.session.scalars(
            select(Lesson)
            .join(CohortInstructor, CohortInstructor.cohort_id == Lesson.cohort_id)
            .where(
                CohortInstructor.instructor_id == user.id,
                Lesson.status == LessonStatus.SCHEDULED,
                Lesson.starts_at >= today_start - timedelta(days=7),
                Lesson.starts_at < today_start,
            )
            .options(joinedload(Lesson.cohort).joinedload(Cohort.course))
            .order_by(Lesson.starts_at.desc())
        )
    )


@dataclass
class GridRow:
    span: EnrolmentSpan
    child: Child
    summary: AttendanceSummary
    cells: dict[int, tuple[str | None, Outcome]]  # lesson id -> (status, outcome)
    final_project: bool | None = None


@dataclass
class CohortGrid:
    cohort: Cohort
    lessons: list[Lesson]
    rows: list[GridRow]
    lesson_totals: dict[int, tuple[int, int]]  # lesson id -> (attended, counted)

    def lesson_rate(self, lesson_id: int) -> float | None:
        attended, counted = self.lesson_totals.get(lesson_id, (0, 0))
        return 100 * attended / counted if counted else None


def cohort_grid(cohort: Cohort, *, now: datetime | None = None) -> CohortGrid:
    """The cohort's children x lessons, with each child's and each lesson's rate, in a fixed
    number of queries (the rate comes from ``summarise``, like everywhere else)."""
    now = now or utcnow()
    data = _load_rate_data(cohort_ids=[cohort.id])
    lessons = list(
        db.session.scalars(
            select(Lesson)
            .where(Lesson.cohort_id == cohort.id)
            .order_by(Lesson.starts_at, Lesson.id)
        )
    )
    children = {
        child.id: child
        for child in db.session.scalars(
            select(Child).where(Child.id.in_({span.child_id for span in data.spans}))
        )
    }
    projects = final_projects(cohort.id) if cohort.course.requires_final_project else {}
    slots = data.lessons.get(cohort.id, [])
    totals = {slot.id: [0, 0] for slot in slots}
    rows = []
    for span in data.spans:
        cells = {}
        for slot in slots:
            status = data.statuses.get((slot.id, span.child_id))
            outcome = lesson_outcome(slot, span, status, now=now)
            cells[slot.id] = (status, outcome)
            if outcome in COUNTED_OUTCOMES:
                totals[slot.id][1] += 1
                totals[slot.id][0] += outcome == Outcome.ATTENDED
        project = projects.get(span.child_id)
        rows.append(
            GridRow(
                span=span,
                child=children[span.child_id],
                summary=summarise(span, slots, data.statuses, now=now),
                cells=cells,
                final_project=project.completed if project else None,
            )
        )
    rows.sort(key=lambda row: (row.child.last_name.casefold(), row.child.first_name.casefold()))
    return CohortGrid(
        cohort=cohort,
        lessons=lessons,
        rows=rows,
        lesson_totals={lesson_id: (a, c) for lesson_id, (a, c) in totals.items()},
    )


def lesson_history(lesson: Lesson) -> list[AttendanceChange]:
    """Every change of the lesson's marks, newest first."""
    return list(
        db.session.scalars(
            select(AttendanceChange)
            .join(AttendanceMark)
            .where(AttendanceMark.lesson_id == lesson.id)
            .options(
                joinedload(AttendanceChange.changed_by),
                joinedload(AttendanceChange.mark).joinedload(AttendanceMark.child),
            )
            .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())
        )
    )


# ---------------------------------------------------------------------------------------------
# Parents: a child's attendance


@dataclass
class LessonLine:
    lesson: Lesson
    status: str | None
    outcome: Outcome
    notice: AbsenceNotice | None


@dataclass
class CohortAttendance:
    enrolment: Enrolment
    summary: AttendanceSummary
    lines: list[LessonLine]

    @property
    def cohort(self) -> Cohort:
        return self.enrolment.cohort


def child_attendance(child: Child, *, now: datetime | None = None) -> list[CohortAttendance]:
    """Each cohort the child was enrolled in, newest first: its lessons with their marks and
    notices, and the attendance summary."""
    now = now or utcnow()
    enrolments = list(
        db.session.scalars(
            select(Enrolment)
            .where(
                Enrolment.child_id == child.id,
                Enrolment.status.in_(_ONCE_ENROLLED),
                Enrolment.enrolled_at.is_not(None),
            )
            .options(
                joinedload(Enrolment.cohort).joinedload(Cohort.course),
                joinedload(Enrolment.cohort).joinedload(Cohort.room),
            )
            .order_by(Enrolment.enrolled_at.desc(), Enrolment.id.desc())
        )
    )
    if not enrolments:
        return []
    data = _load_rate_data(enrolment_ids=[e.id for e in enrolments])
    spans = {span.enrolment_id: span for span in data.spans}
    cohort_ids = {e.cohort_id for e in enrolments}
    lessons: dict[int, list[Lesson]] = defaultdict(list)
    for lesson in db.session.scalars(
        select(Lesson)
        .where(Lesson.cohort_id.in_(cohort_ids))
        .options(joinedload(Lesson.room_override))
        .order_by(Lesson.starts_at, Lesson.id)
    ):
        lessons[lesson.cohort_id].append(lesson)
    notices = {
        notice.lesson_id: notice
        for notice in db.session.scalars(
            select(AbsenceNotice)
            .join(Lesson)
            .where(AbsenceNotice.child_id == child.id, Lesson.cohort_id.in_(cohort_ids))
        )
    }
    result = []
    for enrolment in enrolments:
        span = spans[enrolment.id]
        slots = {slot.id: slot for slot in data.lessons.get(enrolment.cohort_id, [])}
        lines = []
        for lesson in lessons[enrolment.cohort_id]:
            status = data.statuses.get((lesson.id, child.id))
            outcome = lesson_outcome(slots[lesson.id], span, status, now=now)
            if outcome != Outcome.OUTSIDE:
                lines.append(LessonLine(lesson, status, outcome, notices.get(lesson.id)))
        summary = summarise(span, list(slots.values()), data.statuses, now=now)
        result.append(CohortAttendance(enrolment=enrolment, summary=summary, lines=lines))
    return result


# ---------------------------------------------------------------------------------------------
# Erasure and export (registered on the families hooks in lms/attendance/wiring.py)


def has_attendance_records(child: Child) -> bool:
    """Whether the child has any mark, absence notice or check-out."""
    return any(
        db.session.scalar(select(model.id).where(model.child_id == child.id).limit(1))
        for model in (AttendanceMark, AbsenceNotice, Checkout)
    )


def erase_child_details(child: Child) -> None:
    """Forget what identifies people around an erased child: the parents' absence reasons and
    the names of who collected the child. Marks stay, anonymous, for the cohort's figures."""
    db.session.execute(
        AbsenceNotice.__table__.update()
        .where(AbsenceNotice.child_id == child.id)
        .values(reason=None)
    )
    db.session.execute(
        Checkout.__table__.update()
        .where(Checkout.child_id == child.id)
        .values(collector_name=None)
        .where(Checkout.collector_kind != CollectorKind.ALONE)
    )


def forget_user_settings(user: User) -> None:
    """An erased account keeps no attendance setting."""
    db.session.execute(delete(AbsenceEmailOptOut).where(AbsenceEmailOptOut.user_id == user.id))
