"""What the attendance pages read: lessons to mark, the cohort grid, the history of a
lesson, and a child's attendance for the parents."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Select, and_, distinct, func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.attendance.models import AbsenceNotice, AttendanceChange, AttendanceMark
from lms.attendance.projects import final_projects
from lms.attendance.rates import (
    COUNTED_OUTCOMES,
    AttendanceSummary,
    EnrolmentSpan,
    Outcome,
    lesson_outcome,
    load_rate_data,
    summarise,
)
from lms.attendance.roster import ONCE_ENROLLED, enrolled_at_instant
from lms.clock import lab_zone, local_instant
from lms.courses.models import Cohort, CohortInstructor, CohortStatus, Lesson, LessonStatus
from lms.database import utcnow
from lms.enrolment.models import Enrolment
from lms.extensions import db
from lms.families.models import Child

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
    today_start = local_instant(now.astimezone(lab_zone()).date(), time(0))
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


def attendance_cohorts(user: User) -> Select:
    """The cohorts whose attendance ``user`` reads (a coordinator: all), newest first."""
    query = (
        select(Cohort)
        .where(Cohort.status.in_([CohortStatus.OPEN, CohortStatus.CLOSED, CohortStatus.COMPLETED]))
        .options(joinedload(Cohort.course), joinedload(Cohort.room))
        .order_by(Cohort.start_date.desc(), Cohort.id.desc())
    )
    if not user.is_coordinator:
        query = query.where(
            Cohort.id.in_(
                select(CohortInstructor.cohort_id).where(CohortInstructor.instructor_id == user.id)
            )
        )
    return query


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
    data = load_rate_data(cohort_ids=[cohort.id])
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
                Enrolment.status.in_(ONCE_ENROLLED),
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
    data = load_rate_data(enrolment_ids=[e.id for e in enrolments])
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
