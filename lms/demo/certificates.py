"""Demo certificates: a 3D-printing group that finished a few weeks ago. Its children joined
before it started, its roll calls were taken, the final projects judged, the group completed
and its certificates issued: Karim Alaoui (and Nadia Bennani, in Arabic) can download their
children's certificates, anyone can try the verification page with a real code, and the
coordinator's certificate page shows why two children have none.

Everything goes through the services, at the time it would have happened (``now=``).
"""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import delete, func, select

from lms.accounts.models import User
from lms.attendance.projects import set_final_projects
from lms.attendance.roll_call import MarkEntry, save_roll_call
from lms.attendance.roster import lesson_roster
from lms.certificates import services as certificates
from lms.clock import local_instant, local_today
from lms.courses.cohorts import set_cohort_status
from lms.courses.models import Cohort, CohortStatus, Course, Lesson, LessonStatus
from lms.demo.enrolment import attempt
from lms.enrolment.fees import record_payment
from lms.enrolment.joining import enrol_by_coordinator
from lms.extensions import db
from lms.families.models import Child
from lms.notifications.models import OutboxMessage

COORDINATOR = "coordination@activelabs.ma"
COURSE = "Impression 3D et Tinkercad"
WEEKDAYS = "2"  # the Wednesday-afternoon group of lms/demo/courses.py that is over

# Each child's marks, lesson by lesson (the group has six), and the final project.
# Yasmine and Adam earn the certificate; Ilyas attended but did not finish his project;
# Mohammed missed two lessons of six (67 %, under the course's 80 %).
REGISTER = {
    "Yasmine": (["present", "present", "present", "late", "present", "present"], True),
    "Adam": (["present", "present", "excused", "present", "present", "present"], True),
    "Ilyas": (["present", "present", "present", "present", "late", "present"], False),
    "Mohammed": (["present", "absent", "present", "present", "absent", "present"], True),
}


def finished_cohort() -> Cohort | None:
    """The demo group whose last lesson is over, still waiting to be completed."""
    return db.session.scalar(
        select(Cohort)
        .join(Course)
        .where(
            Course.title_fr == COURSE,
            Cohort.weekdays == WEEKDAYS,
            Cohort.status.in_((CohortStatus.OPEN, CohortStatus.CLOSED)),
            Cohort.end_date < local_today(),
        )
        .limit(1)
    )


def _children() -> dict[str, Child]:
    found = db.session.scalars(
        select(Child).where(Child.first_name.in_(REGISTER), Child.erased_at.is_(None))
    )
    return {child.first_name: child for child in found}


def enrol(people: dict[str, User]) -> Cohort | None:
    """The children joined a week before the group's first lesson (before the roll calls)."""
    cohort = finished_cohort()
    if cohort is None:
        return None
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    joined = local_instant(cohort.start_date - timedelta(days=7), time(18))
    coordinator = people[COORDINATOR]
    for child in _children().values():
        place = attempt(enrol_by_coordinator, child, cohort, actor=coordinator, now=joined)
        if place is not None and place.balance_centimes > 0:  # paid at the first lesson
            attempt(
                record_payment,
                place,
                actor=coordinator,
                amount_centimes=place.balance_centimes,
                method="cash",
                paid_on=cohort.start_date,
            )
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_message))
    db.session.flush()
    return cohort


def seed(people: dict[str, User]) -> dict:
    """Roll calls, final projects, completion and certificates of the finished group."""
    cohort = finished_cohort()
    if cohort is None or cohort.lead is None:
        return {"certificates": 0}
    coordinator = people[COORDINATOR]
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    lessons = db.session.scalars(
        select(Lesson)
        .where(Lesson.cohort_id == cohort.id, Lesson.status == LessonStatus.SCHEDULED)
        .order_by(Lesson.starts_at)
    ).all()
    children = _children()
    on_roster = {row.child.id for row in lesson_roster(lessons[0]).rows}
    register = {
        children[name].id: marks
        for name, (marks, _) in REGISTER.items()
        if name in children and children[name].id in on_roster
    }
    for number, lesson in enumerate(lessons):
        entries = {
            child_id: MarkEntry(marks[number % len(marks)]) for child_id, marks in register.items()
        }
        attempt(
            save_roll_call,
            lesson,
            actor=cohort.lead,
            entries=entries,
            now=lesson.ends_at + timedelta(hours=2),
        )
    if cohort.course.requires_final_project and lessons:
        attempt(
            set_final_projects,
            cohort,
            actor=cohort.lead,
            completed=[
                children[name].id
                for name, (_, project) in REGISTER.items()
                if project and name in children and children[name].id in register
            ],
            now=lessons[-1].ends_at + timedelta(hours=2),
        )
    attempt(set_cohort_status, cohort, CohortStatus.COMPLETED, actor=coordinator)
    issued = attempt(certificates.issue_to_all_eligible, cohort, actor=coordinator) or []
    # The demo families are made up: the e-mails about their certificates are not sent.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_message))
    db.session.flush()
    return {"cohort": cohort.id, "certificates": len(issued)}
