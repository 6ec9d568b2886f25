"""World builders that several domains' fixtures share: the robotics course most worlds
teach, a family's children, enrolments as the enrolment domain leaves them, and a group that
finished in June 2026.

Plain functions: call them inside an application context; they flush, the caller commits.
Each caller passes the names, dates and prices its assertions rely on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import update

from lms.accounts.models import User
from lms.clock import local_instant, local_today
from lms.courses.catalogue import CourseDetails, create_course
from lms.courses.cohorts import CohortPlan, create_cohort
from lms.courses.models import Cohort, CohortStatus, Course, Lesson, Room
from lms.courses.timetables import week_start
from lms.database import utcnow
from lms.enrolment.models import SEAT_STATUSES, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.families.children import add_child
from lms.families.contacts import Person
from lms.families.models import Child, ContactKind, ContactPerson, Guardianship

# The first emergency contact of most children of the tests.
EMERGENCY_CONTACT = Person("Nadia Bennani", "Mère", "0612345602")

ROBOTICS = {
    "title_fr": "Robotique LEGO",
    "title_ar": "روبوتات ليغو",
    "summary_fr": "Construire et programmer des robots.",
    "track": "robotics",
    "level": "beginner",
    "min_age": 7,
    "max_age": 12,
    "published": True,
}


def robotics_course(actor: User, **details) -> Course:
    """The published LEGO robotics course (ROBOTICS, changed by ``details``), through the
    courses service."""
    return create_course(CourseDetails(**{**ROBOTICS, **details}), actor=actor)


def child(
    guardian: User,
    first_name: str,
    last_name: str,
    *,
    date_of_birth: date,
    emergency_contact: Person = EMERGENCY_CONTACT,
    **fields,
) -> Child:
    """A child that ``guardian`` (a parent, attached to the session) adds through the families
    service: validated, with its first emergency contact."""
    return add_child(
        guardian,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        emergency_contact=emergency_contact,
        **fields,
    )


def written_child(
    guardian_id: int,
    first_name: str,
    last_name: str,
    *,
    date_of_birth: date,
    first_name_ar: str | None = None,
    last_name_ar: str | None = None,
    **fields,
) -> Child:
    """A child written directly in the tables (no service, no audit entry), with one guardian
    and the usual emergency contact: for the domains above families that only need one."""
    new = Child(
        first_name=first_name,
        last_name=last_name,
        first_name_ar=first_name_ar,
        last_name_ar=last_name_ar,
        date_of_birth=date_of_birth,
        **fields,
    )
    new.guardianships.append(Guardianship(user_id=guardian_id))
    new.contact_people.append(
        ContactPerson(
            kind=ContactKind.EMERGENCY,
            name="Nadia Bennani",
            relationship_to_child="Mère",
            phone="+212612345602",
        )
    )
    db.session.add(new)
    db.session.flush()
    return new


def enrol(
    child_id: int,
    cohort_id: int,
    *,
    at: datetime,
    ended_at: datetime | None = None,
    status: str | None = None,
    **fields,
) -> Enrolment:
    """An enrolment as the enrolment domain would leave it, written directly (its rules are
    tested there): enrolled at ``at``, or withdrawn at ``ended_at``; the group's seat count
    kept true."""
    enrolment = Enrolment(
        child_id=child_id,
        cohort_id=cohort_id,
        status=status or (EnrolmentStatus.WITHDRAWN if ended_at else EnrolmentStatus.ENROLLED),
        enrolled_at=at,
        created_at=at,
        ended_at=ended_at,
        end_reason="withdrawn_by_parent" if ended_at else None,
        **fields,
    )
    db.session.add(enrolment)
    if enrolment.status in SEAT_STATUSES:
        db.session.execute(
            update(Cohort).where(Cohort.id == cohort_id).values(seats_taken=Cohort.seats_taken + 1)
        )
    db.session.flush()
    return enrolment


# The finished group: Wednesdays 14:30-16:00 from 1 April to 10 June 2026; its children were
# enrolled on 20 March.
FINISHED_FROM = date(2026, 4, 1)
FINISHED_UNTIL = date(2026, 6, 10)
FINISHED_ENROLLED_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def saturday_group(actor: User, course: Course, *, room: Room, lead: User, capacity: int) -> Cohort:
    """An open group of ``course`` on Saturday mornings, from the Saturday two weeks ahead,
    for eight weeks: far enough for families to enrol and pay before it starts."""
    start = week_start(local_today()) + timedelta(weeks=2, days=5)
    return create_cohort(
        CohortPlan(
            course=course,
            room=room,
            lead=lead,
            start_date=start,
            end_date=start + timedelta(weeks=7),
            weekdays=[5],
            start_time=time(9, 30),
            capacity=capacity,
        ),
        actor=actor,
        status=CohortStatus.OPEN,
    )


def finished_group(
    actor: User,
    course: Course,
    *,
    room: Room,
    lead: User,
    children: list[Child],
    fee_centimes: int = 0,
) -> tuple[Cohort, list[Enrolment]]:
    """A group of ``course`` that ended in June 2026, ``children`` enrolled in it."""
    cohort = create_cohort(
        CohortPlan(
            course=course,
            room=room,
            lead=lead,
            start_date=FINISHED_FROM,
            end_date=FINISHED_UNTIL,
            weekdays=[2],
            start_time=time(14, 30),
        ),
        actor=actor,
        status=CohortStatus.OPEN,
        allow_past=True,
    )
    enrolments = [
        enrol(kid.id, cohort.id, at=FINISHED_ENROLLED_AT, fee_centimes=fee_centimes)
        for kid in children
    ]
    return cohort, enrolments


def group_with_a_lesson_under_way(
    actor: User,
    *,
    room: Room,
    lead: User,
    capacity: int | None = None,
    course: Course | None = None,
) -> tuple[Cohort, Lesson]:
    """A group of the robotics course (or ``course``) from a week ago to a week ahead, on
    today's weekday, whose lesson today started ten minutes ago (never before midnight): the
    roll call is open."""
    today = local_today()
    plan = CohortPlan(
        course=course or robotics_course(actor),
        room=room,
        lead=lead,
        start_date=today - timedelta(days=7),
        end_date=today + timedelta(days=7),
        weekdays=[today.weekday()],
        start_time=time(10, 0),
        **({"capacity": capacity} if capacity is not None else {}),
    )
    cohort = create_cohort(plan, actor=actor, status=CohortStatus.OPEN, allow_past=True)
    start = max(utcnow() - timedelta(minutes=10), local_instant(today, time(0)))
    start = start.replace(second=0, microsecond=0)
    todays = next(lesson for lesson in cohort.lessons if lesson.local_start.date() == today)
    db.session.execute(
        update(Lesson)
        .where(Lesson.id == todays.id)
        .values(starts_at=start, ends_at=start + timedelta(minutes=90))
    )
    return cohort, todays
