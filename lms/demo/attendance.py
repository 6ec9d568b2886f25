"""Demo attendance: the roll calls of the lessons already held, a few late and absent children,
a check-out, each group's note on its last lesson, and an absence reported in advance by a
parent. Runs after the enrolment demo."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.attendance.lesson_notes import write_note
from lms.attendance.notices import report_absence
from lms.attendance.roll_call import MarkEntry, check_out, save_roll_call
from lms.attendance.roster import lesson_roster
from lms.courses.models import Cohort, CohortStatus, Lesson, LessonStatus
from lms.database import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child

# A believable register: mostly present, someone late now and then, a rare absence.
PATTERN = ["present"] * 8 + ["late", "present", "absent", "present"]
# The note each group's instructor wrote after its last lesson.
NOTE = (
    "Aujourd'hui nous avons fini le châssis et branché les deux moteurs.\n"
    "La prochaine fois : apportez une clé USB et une gourde."
)


def seed(people: dict[str, User], *, skip: Cohort | None = None) -> dict:
    """Roll calls for the lessons held so far, a check-out and an absence notice; ``skip`` is a
    cohort whose register another demo module writes."""
    now = utcnow()
    lessons = db.session.scalars(
        select(Lesson)
        .join(Cohort)
        .where(
            Lesson.status == LessonStatus.SCHEDULED,
            Lesson.ends_at < now,
            Cohort.status != CohortStatus.DRAFT,
            Cohort.id != (skip.id if skip is not None else -1),
        )
        .order_by(Lesson.starts_at, Lesson.id)
    ).all()
    marks = 0
    last_held = {}
    for lesson in lessons:
        lead = lesson.cohort.lead
        roster = lesson_roster(lesson)
        if lead is None or not roster.rows:
            continue
        entries = {
            row.child.id: MarkEntry(PATTERN[(row.child.id * 7 + lesson.number) % len(PATTERN)])
            for row in roster.rows
        }
        # Marked the day after the lesson (within the instructors' week): no same-day e-mails.
        result = save_roll_call(
            lesson, actor=lead, entries=entries, now=lesson.ends_at + timedelta(days=1)
        )
        marks += result.written
        last_held[lesson.cohort_id] = lesson
    checkouts = 0
    for lesson in last_held.values():
        for row in lesson_roster(lesson).rows:
            if row.attended and row.collectors:
                check_out(
                    lesson,
                    row.child,
                    actor=lesson.cohort.lead,
                    collector=row.collectors[-1].key,
                    at=lesson.ends_at + timedelta(minutes=5),
                    now=lesson.ends_at + timedelta(days=1),
                )
                checkouts += 1
                break
    notes = 0
    for lesson in last_held.values():
        try:
            with db.session.begin_nested():
                write_note(
                    lesson,
                    actor=lesson.cohort.lead,
                    body=NOTE,
                    now=lesson.ends_at + timedelta(minutes=30),
                )
            notes += 1
        except DomainError:  # already written: the demo was loaded before
            pass
    notices = 0
    karim = people.get("karim.alaoui@example.ma")
    if karim is not None:
        upcoming = db.session.execute(
            select(Lesson, Enrolment.child_id)
            .join(Enrolment, Enrolment.cohort_id == Lesson.cohort_id)
            .join(Child, Child.id == Enrolment.child_id)
            .where(
                Enrolment.status == EnrolmentStatus.ENROLLED,
                Lesson.status == LessonStatus.SCHEDULED,
                Lesson.starts_at > now,
                Child.guardianships.any(user_id=karim.id),
            )
            .order_by(Lesson.starts_at)
            .limit(1)
        ).first()
        if upcoming is not None:
            lesson, child_id = upcoming
            try:
                with db.session.begin_nested():
                    report_absence(
                        lesson,
                        db.session.get(Child, child_id),
                        actor=karim,
                        reason="Rendez-vous chez le pédiatre",
                    )
                notices = 1
            except DomainError:  # already reported: the demo was loaded before
                pass
    db.session.flush()
    return {"marks": marks, "checkouts": checkouts, "notices": notices, "notes": notes}
