"""The attendance rate: one computation for the roster, the grid, the parents and certificates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.attendance.models import ATTENDED_STATUSES, AttendanceMark, AttendanceStatus
from lms.attendance.roster import ONCE_ENROLLED
from lms.clock import lab_zone
from lms.courses.models import Cohort, Course, Lesson, LessonStatus
from lms.database import utcnow
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.labels import LabelledEnum


class Outcome(LabelledEnum):
    """What one lesson means for one enrolment's attendance rate."""

    ATTENDED = "attended", _l("Attended")  # held, marked present or late: counts, attended
    ABSENT = "absent", _l("Absent")  # held, marked absent: counts, not attended
    UNMARKED = "unmarked", _l("Not marked")  # held and over, nobody marked it: counts, missed
    EXCUSED = "excused", _l("Excused")  # marked excused (held or not): left out
    UPCOMING = "upcoming", _l("Upcoming")  # not started, or under way and not marked: remaining
    CANCELLED = "cancelled", _l("Cancelled")  # cancelled lesson: does not count
    OUTSIDE = "outside", _l("Not enrolled")  # before the child joined or after it ended


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
class RateData:
    """What the rate of many enrolments is computed from, loaded once."""

    spans: list[EnrolmentSpan]
    lessons: dict[int, list[LessonSlot]]  # by cohort id
    statuses: dict[tuple[int, int], str]  # (lesson id, child id) -> status


def load_rate_data(
    *, cohort_ids: Iterable[int] | None = None, enrolment_ids: Iterable[int] | None = None
) -> RateData:
    """The spans, lessons and marks the rate needs: three queries, whatever their number."""
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
        .where(Enrolment.status.in_(ONCE_ENROLLED), Enrolment.enrolled_at.is_not(None))
        .order_by(Enrolment.id)
    )
    if cohort_ids is not None:
        query = query.where(Enrolment.cohort_id.in_(list(cohort_ids)))
    if enrolment_ids is not None:
        query = query.where(Enrolment.id.in_(list(enrolment_ids)))
    spans = [EnrolmentSpan(*row) for row in db.session.execute(query)]
    if not spans:
        return RateData([], {}, {})
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
    return RateData(spans, lessons, statuses)


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
    data = load_rate_data(cohort_ids=cohort_ids, enrolment_ids=enrolment_ids)
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
    data = load_rate_data(cohort_ids=cohort_ids)
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
