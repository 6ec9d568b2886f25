"""The attendance rate: one computation, with its rules for late, excused, cancelled, future and
unmarked lessons, enrolment periods, and whether the threshold can still be reached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from lms.attendance.models import AttendanceMark
from lms.attendance.notices import report_absence
from lms.attendance.queries import cohort_grid
from lms.attendance.rates import (
    EnrolmentSpan,
    LessonSlot,
    Outcome,
    attendance_summaries,
    lesson_outcome,
    summarise,
)
from lms.attendance.roster import lesson_roster
from lms.courses.models import Lesson, LessonStatus
from lms.enrolment.models import Enrolment
from lms.extensions import db
from tests.attendance.conftest import FIRST_DAY, NOW, local, mark
from tests.builders import enrol


def summary_of(term, index=0, **kwargs):
    return attendance_summaries(enrolment_ids=[term.enrolment_ids[index]], **kwargs)[
        term.enrolment_ids[index]
    ]


def test_present_and_late_count_as_attended_absent_does_not(ctx, term):
    mark(term, 1, {0: "present"})
    mark(term, 2, {0: "late"})
    mark(term, 3, {0: "absent"})
    mark(term, 4, {0: "present"})
    summary = summary_of(term)
    assert (summary.attended, summary.absent, summary.unmarked) == (3, 1, 0)
    assert summary.counted == 4
    assert summary.rate == 75
    assert not summary.meets_threshold  # 75 < 80
    assert summary.gap == -5


def test_excused_lessons_are_left_out_of_the_rate(ctx, term):
    mark(term, 1, {0: "present"})
    mark(term, 2, {0: "excused"})
    mark(term, 3, {0: "excused"})
    mark(term, 4, {0: "present"})
    summary = summary_of(term)
    assert summary.excused == 2
    assert summary.counted == 2
    assert summary.rate == 100
    assert summary.meets_threshold


def test_cancelled_lessons_do_not_count_even_if_marked(ctx, term):
    mark(term, 1, {0: "absent"})
    mark(term, 2, {0: "present"})
    db.session.execute(
        update(Lesson).where(Lesson.id == term.lesson_ids[0]).values(status=LessonStatus.CANCELLED)
    )
    # A later cancelled lesson is not one of the remaining ones either.
    db.session.execute(
        update(Lesson).where(Lesson.id == term.lesson_ids[10]).values(status=LessonStatus.CANCELLED)
    )
    summary = summary_of(term)
    assert (summary.attended, summary.absent) == (1, 0)
    assert summary.remaining == 6  # lesson 5 under way and unmarked, 6 to 10; not 11


def test_lessons_not_held_yet_do_not_count(ctx, term):
    mark(term, 1, {0: "present"})
    summary = summary_of(term, now=local(FIRST_DAY, 16, 30))
    assert summary.counted == 1
    assert summary.remaining == 10
    assert summary.rate == 100


def test_an_unmarked_lesson_counts_as_missed_once_it_is_over(ctx, term):
    mark(term, 1, {0: "present"})
    # Lessons 2 to 4 are over and nobody marked them; lesson 5 is under way.
    summary = summary_of(term)
    assert summary.unmarked == 3
    assert summary.counted == 4
    assert summary.rate == 25
    assert summary.remaining == 7  # lesson 5 (under way, not marked yet) and 6 to 11
    lesson5 = term.lesson(5)
    after = summary_of(term, now=lesson5.ends_at + timedelta(minutes=1))
    assert after.unmarked == 4
    assert after.remaining == 6


def test_a_mark_taken_before_the_lesson_starts_counts_only_once_it_started(ctx, term):
    lesson5 = term.lesson(5)
    mark(term, 5, {0: "present"}, now=lesson5.starts_at - timedelta(minutes=10))
    before = summary_of(term, now=lesson5.starts_at - timedelta(minutes=5))
    assert before.remaining == 7
    during = summary_of(term, now=lesson5.starts_at + timedelta(minutes=5))
    assert during.attended == 1
    assert during.remaining == 6


def test_an_absence_reported_ahead_is_left_out_of_remaining_lessons(ctx, term):
    report_absence(term.lesson(8), term.child(0), actor=term.get(term.parent))
    summary = summary_of(term)
    assert summary.excused == 1
    assert summary.remaining == 6  # 5, 6, 7, 9, 10, 11


def test_lessons_outside_the_enrolment_do_not_count(ctx, term):
    late_joiner = term.child(2)
    # Rania's enrolment ended before lesson 3; she re-joins the cohort before lesson 4.
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.id == term.enrolment_ids[2])
        .values(status="withdrawn", ended_at=term.lesson(3).starts_at - timedelta(hours=1))
    )
    second = enrol(late_joiner.id, term.cohort_id, at=term.lesson(4).starts_at - timedelta(days=1))
    mark(term, 1, {2: "present"})
    mark(term, 2, {2: "absent"})
    mark(term, 4, {2: "present"})
    summaries = attendance_summaries(cohort_ids=[term.cohort_id])
    first = summaries[term.enrolment_ids[2]]
    assert (first.attended, first.absent, first.unmarked, first.remaining) == (1, 1, 0, 0)
    again = summaries[second.id]
    assert (again.attended, again.counted, again.remaining) == (1, 1, 7)
    # Lesson 3 fell between the two: on no roster.
    roster = lesson_roster(term.lesson(3))
    assert late_joiner.id not in {row.child.id for row in roster.rows}


def test_threshold_reachable_needed_and_can_miss(ctx, make_term):
    term = make_term(children=1, threshold=80)
    for number in (1, 2, 3):
        mark(term, number, {0: "present"})
    mark(term, 4, {0: "absent"})
    summary = summary_of(term)
    # 11 lessons: 3 attended, 1 missed, 7 remaining; 80% of 11 = 8.8 -> 9 attended needed.
    assert summary.needed == 6
    assert summary.can_miss == 1
    assert summary.reachable
    mark(term, 5, {0: "absent"})
    summary = summary_of(term)
    assert (summary.needed, summary.remaining, summary.can_miss) == (6, 6, 0)
    mark(term, 6, {0: "absent"}, now=term.lesson(6).ends_at)
    summary = summary_of(term, now=term.lesson(6).ends_at)
    assert not summary.reachable
    assert summary.can_miss is None


def test_threshold_reached_exactly_is_met(ctx, make_term):
    term = make_term(children=1, threshold=75, last_day=FIRST_DAY + timedelta(weeks=3))
    mark(term, 1, {0: "present"})
    mark(term, 2, {0: "late"})
    mark(term, 3, {0: "present"})
    mark(term, 4, {0: "absent"})
    summary = summary_of(term)
    assert summary.rate == 75
    assert summary.meets_threshold
    assert summary.remaining == 0


def test_no_lesson_counted_yet(ctx, term):
    summary = summary_of(term, now=local(FIRST_DAY, 9))
    assert summary.rate is None
    assert summary.gap is None
    assert not summary.meets_threshold
    assert summary.reachable


def test_the_rate_of_the_grid_and_of_the_summaries_is_the_same(ctx, term):
    mark(term, 1, {0: "present", 1: "absent", 2: "excused"})
    mark(term, 2, {0: "late", 1: "present"})
    grid = cohort_grid(term.cohort())
    summaries = attendance_summaries(cohort_ids=[term.cohort_id])
    assert {row.span.enrolment_id: row.summary for row in grid.rows} == summaries
    assert grid.lesson_totals[term.lesson_ids[0]] == (1, 2)  # excused left out
    assert grid.lesson_rate(term.lesson_ids[1]) == pytest.approx(100 * 2 / 3)  # Rania unmarked


@pytest.mark.parametrize(
    ("status", "starts", "ends", "expected"),
    [
        ("present", -3, -2, Outcome.ATTENDED),
        ("late", -3, -2, Outcome.ATTENDED),
        ("absent", -3, -2, Outcome.ABSENT),
        ("excused", -3, -2, Outcome.EXCUSED),
        ("excused", 2, 3, Outcome.EXCUSED),
        (None, -3, -2, Outcome.UNMARKED),
        (None, -1, 1, Outcome.UPCOMING),
        ("present", -1, 1, Outcome.ATTENDED),
        ("present", 1, 2, Outcome.UPCOMING),
        (None, 1, 2, Outcome.UPCOMING),
    ],
)
def test_lesson_outcomes(status, starts, ends, expected):
    span = EnrolmentSpan(1, 1, 1, "enrolled", NOW - timedelta(days=30), None, 80)
    lesson = LessonSlot(1, 1, 1, NOW + timedelta(hours=starts), NOW + timedelta(hours=ends), False)
    assert lesson_outcome(lesson, span, status, now=NOW) == expected
    cancelled = LessonSlot(1, 1, 1, lesson.starts_at, lesson.ends_at, True)
    assert lesson_outcome(cancelled, span, status, now=NOW) == Outcome.CANCELLED


def test_summarise_without_database():
    span = EnrolmentSpan(7, 3, 1, "enrolled", NOW - timedelta(days=30), None, 50)
    lessons = [
        LessonSlot(n, 1, n, start, start + timedelta(hours=1), False)
        for n, start in ((n, NOW + timedelta(days=n - 5)) for n in range(1, 9))
    ]
    statuses = {(1, 3): "present", (2, 3): "absent", (3, 3): "excused", (4, 3): "late"}
    summary = summarise(span, lessons, statuses, now=NOW)
    assert (summary.attended, summary.absent, summary.excused, summary.unmarked) == (2, 1, 1, 0)
    assert summary.remaining == 4
    assert summary.needed == 2  # 50% of 7 counted lessons = 3.5 -> 4 attended: 2 more
    assert summary.enrolment_id == 7


def test_summaries_take_three_queries_whatever_the_numbers(ctx, make_term, count_statements):
    small = make_term(children=3)
    big = make_term(children=12)
    for term in (small, big):
        mark(term, 1, dict.fromkeys(range(len(term.child_ids)), "present"))
    db.session.flush()
    counts = []
    for term in (small, big):
        db.session.expire_all()
        with count_statements() as counter:
            attendance_summaries(cohort_ids=[term.cohort_id])
        counts.append(counter.count)
    assert counts[0] == counts[1] == 3
    with count_statements() as counter:
        attendance_summaries(enrolment_ids=small.enrolment_ids + big.enrolment_ids)
    assert counter.count == 3


def test_summaries_need_a_selection(ctx):
    with pytest.raises(ValueError, match="cohort_ids or enrolment_ids"):
        attendance_summaries()


def test_marks_of_other_cohorts_do_not_leak(ctx, term):
    mark(term, 1, {0: "present"})
    other = enrol(term.child_ids[0], term.other_cohort_id, at=NOW - timedelta(days=40))
    summaries = attendance_summaries(enrolment_ids=[other.id])
    assert summaries[other.id].attended == 0
    assert db.session.query(AttendanceMark).count() == 1
