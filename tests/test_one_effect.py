"""One row per click, for every kind of form that creates something: the same submission
posted twice at the same instant from two connections, then once more a moment later, creates
one row, and every answer leads where the first one did.

Each post goes through a real request on its own test client, session and database
connection; the two first are released together. Run on SQLite and on PostgreSQL
(LMS_TEST_DATABASE_URL=postgresql+psycopg://...).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from lms.accounts.contact import save_contact_choices
from lms.accounts.models import User
from lms.attendance.models import Incident, LessonNote, SubstituteAssignment
from lms.audit.models import AuditEntry
from lms.certificates.models import Certificate
from lms.courses.catalogue import CourseDetails, create_course
from lms.courses.cohorts import CohortPlan, create_cohort
from lms.courses.models import Closure, Cohort, CohortStatus, Course, Lesson, Room
from lms.courses.scheduling import create_room
from lms.enrolment import wiring
from lms.enrolment.fees import book_payment
from lms.enrolment.models import CreditNote, Enrolment, Payment, PrerequisiteWaiver
from lms.extensions import db
from lms.families.models import Child, ContactKind, ContactPerson, GuardianInvitation
from lms.messaging.models import InboxReply, Message
from lms.notifications.models import InboundMessage
from lms.roles import Role
from tests import builders
from tests.conftest import PASSWORD, get, login
from tests.enrolment.test_concurrency import run_at_once
from tests.families.test_photos import picture

pytestmark = pytest.mark.committed

# Monday 7 September 2026 in Tangier: enrolment is open for the autumn groups.
NOW = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def config_overrides() -> dict:
    return {"BABEL_DEFAULT_LOCALE": "en"}


@dataclass
class World:
    coordinator: str
    parent: str
    instructor_id: int
    child_id: int
    room_id: int
    course_id: int
    open_group: int
    full_group: int
    enrolment_id: int
    payment_id: int
    finished_enrolment_id: int
    family_id: int  # wrote to the lab by WhatsApp: the inbox answers
    instructor: str
    lesson_under_way: int
    substitute_id: int


def _group(boss, course, room, lead, *, capacity: int, weekday: int) -> Cohort:
    return create_cohort(
        CohortPlan(
            course=course,
            room=room,
            lead=lead,
            start_date=date(2026, 10, 5 + weekday),
            end_date=date(2026, 11, 30),
            weekdays=[weekday],
            start_time=time(14, 30),
            capacity=capacity,
        ),
        actor=boss,
        status=CohortStatus.OPEN,
    )


@pytest.fixture
def world(app, coordinator, instructor, parent, make_user) -> World:
    """A coordinator, an instructor, a family with two children; an open group, a full one,
    a seat to pay for (300 MAD paid) and a group finished in June (for a certificate). Committed."""
    other = make_user(Role.PARENT, full_name="Salma Idrissi")
    substitute = make_user(Role.INSTRUCTOR, full_name="Mehdi Ouazzani")
    with app.app_context():
        wiring.install()
        boss, lead = get(coordinator), get(instructor)
        room = create_room(actor=boss, name="Salle Ada Lovelace", capacity=30)
        course = builders.robotics_course(boss, price_centimes=80000)
        # A course that needs the first one: a waiver can set that prerequisite aside.
        create_course(
            CourseDetails(**{**builders.ROBOTICS, "title_fr": "Robots avancés"}),
            actor=boss,
            prerequisite_ids=[course.id],
        )
        kid = builders.child(get(parent), "Yasmine", "Alaoui", date_of_birth=date(2017, 3, 1))
        sister = builders.child(get(parent), "Nour", "Alaoui", date_of_birth=date(2016, 5, 2))
        stranger = builders.child(get(other), "Adam", "Idrissi", date_of_birth=date(2017, 1, 9))
        open_group = _group(boss, course, room, lead, capacity=10, weekday=0)
        full_group = _group(boss, course, room, lead, capacity=1, weekday=2)
        builders.enrol(stranger.id, full_group.id, at=NOW)
        paying = builders.enrol(sister.id, open_group.id, at=NOW, fee_centimes=80000)
        paid = book_payment(paying, amount_centimes=30000, method="cash", paid_on=NOW.date())
        _, [finished] = builders.finished_group(boss, course, room=room, lead=lead, children=[kid])
        family = get(parent)
        save_contact_choices(
            family,
            phone="+212612345678",
            chosen={"urgent": ["whatsapp"], "routine": ["email"]},
            actor=family,
        )
        db.session.add(
            InboundMessage(
                channel="whatsapp",
                provider_message_id="wamid.world",
                sender="+212612345678",
                sender_user_id=family.id,
                body="Merci !",
                received_at=NOW,
            )
        )
        # A group whose lesson started ten minutes ago, Yasmine on its roster (a note, an
        # incident).
        under_way, lesson = builders.group_with_a_lesson_under_way(
            boss, room=room, lead=lead, course=course
        )
        builders.enrol(kid.id, under_way.id, at=NOW - timedelta(days=10))
        db.session.commit()
        return World(
            coordinator=coordinator.email,
            parent=parent.email,
            instructor_id=lead.id,
            child_id=kid.id,
            room_id=room.id,
            course_id=course.id,
            open_group=open_group.id,
            full_group=full_group.id,
            enrolment_id=paying.id,
            payment_id=paid.id,
            finished_enrolment_id=finished.id,
            family_id=family.id,
            instructor=instructor.email,
            lesson_under_way=lesson.id,
            substitute_id=substitute.id,
        )


@dataclass
class Kind:
    """A create form: who sends it, where, what, and how to count what it creates."""

    sender: str | None  # "parent", "instructor", "coordinator", or None for a visitor
    path: Callable[[World], str]
    data: Callable[[World], dict]
    count: Callable[[World], object]  # a select() of the rows it creates


def _count(model, *where):
    return lambda w: select(func.count()).select_from(model).where(*where)


KINDS = {
    "sign-up": Kind(
        None,
        lambda w: "/register",
        lambda w: {
            "full_name": "Nadia Bennani",
            "email": "nadia.bennani@example.ma",
            "phone": "0612345678",
            "password": "un jardin de robots bleus",
            "confirm": "un jardin de robots bleus",
            "language": "fr",
            "accept_privacy": "y",
        },
        _count(User, User.email == "nadia.bennani@example.ma"),
    ),
    "child": Kind(
        "parent",
        lambda w: "/children/new",
        lambda w: {
            "first_name": "Rayan",
            "last_name": "Alaoui",
            "date_of_birth": "2018-04-02",
            "school_grade": "CE2",
            "emergency_name": "Nadia Bennani",
            "emergency_relationship": "Mère",
            "emergency_phone": "06 12 34 56 02",
        },
        _count(Child, Child.first_name == "Rayan"),
    ),
    "emergency contact": Kind(
        "parent",
        lambda w: f"/children/{w.child_id}/emergency-contacts/new",
        lambda w: {"name": "Omar Alaoui", "relationship": "Oncle", "phone": "0661234567"},
        _count(ContactPerson, ContactPerson.name == "Omar Alaoui"),
    ),
    "pickup person": Kind(
        "parent",
        lambda w: f"/children/{w.child_id}/pickups/new",
        lambda w: {"name": "Hind Alaoui", "relationship": "Tante", "phone": "0662345678"},
        _count(
            ContactPerson,
            ContactPerson.name == "Hind Alaoui",
            ContactPerson.kind == ContactKind.PICKUP,
        ),
    ),
    "photo on the register": Kind(
        "parent",
        lambda w: f"/children/{w.child_id}/photo",
        lambda w: {"image": (picture(), "face.jpg"), "agreed": "y"},
        _count(AuditEntry, AuditEntry.action == "family.photo_set"),
    ),
    "other guardian": Kind(
        "parent",
        lambda w: f"/children/{w.child_id}/guardians/invite",
        lambda w: {"email": "mere.alaoui@example.ma", "children": [str(w.child_id)]},
        _count(GuardianInvitation, GuardianInvitation.email == "mere.alaoui@example.ma"),
    ),
    "enrolment": Kind(
        "parent",
        lambda w: f"/cohorts/{w.open_group}/enrol",
        lambda w: {"children": [str(w.child_id)]},
        lambda w: _count(Enrolment, Enrolment.child_id == w.child_id)(w).where(
            Enrolment.cohort_id == w.open_group
        ),
    ),
    "waiting list": Kind(
        "parent",
        lambda w: f"/cohorts/{w.full_group}/enrol",
        lambda w: {"children": [str(w.child_id)]},
        lambda w: _count(Enrolment, Enrolment.child_id == w.child_id)(w).where(
            Enrolment.cohort_id == w.full_group
        ),
    ),
    "enrolment by a coordinator": Kind(
        "coordinator",
        lambda w: f"/coordinator/cohorts/{w.open_group}/enrolments/new",
        lambda w: {"child_id": str(w.child_id)},
        lambda w: _count(Enrolment, Enrolment.child_id == w.child_id)(w).where(
            Enrolment.cohort_id == w.open_group
        ),
    ),
    "payment": Kind(
        "coordinator",
        lambda w: f"/coordinator/enrolments/{w.enrolment_id}/payments/new",
        lambda w: {"amount": "400", "method": "cash", "reference": "", "paid_on": "2026-09-07"},
        lambda w: _count(Payment)(w),
    ),
    "credit note": Kind(
        "coordinator",
        lambda w: f"/coordinator/payments/{w.payment_id}/credit-notes/new",
        lambda w: {"amount": "100", "reason": "Retrait avant le début."},
        lambda w: _count(CreditNote)(w),
    ),
    "prerequisite waiver": Kind(
        "coordinator",
        lambda w: "/coordinator/prerequisite-waivers",
        lambda w: {"child_id": str(w.child_id), "course_id": str(w.course_id), "reason": "Vu."},
        lambda w: _count(PrerequisiteWaiver)(w),
    ),
    "message": Kind(
        "coordinator",
        lambda w: "/messages/new",
        lambda w: {
            "audience": "cohort",
            "cohort": str(w.open_group),
            "subject": "Sortie au musée",
            "body": "Bonjour à tous.",
            "send": "1",
        },
        lambda w: _count(Message)(w),
    ),
    "inbox reply": Kind(
        "coordinator",
        lambda w: f"/inbox/families/{w.family_id}",
        lambda w: {"body": "À lundi.", "send": "1"},
        lambda w: _count(InboxReply)(w),
    ),
    "closure": Kind(
        "coordinator",
        lambda w: "/coordinator/closures/new",
        lambda w: {"starts_on": "2026-11-18", "ends_on": "", "label": "Fête de l'Indépendance"},
        lambda w: _count(Closure)(w),
    ),
    "course": Kind(
        "coordinator",
        lambda w: "/coordinator/courses/new",
        lambda w: {
            "title_fr": "Arduino",
            "summary_fr": "Capteurs, moteurs et LED.",
            "track": "robotics",
            "level": "advanced",
            "min_age": "12",
            "max_age": "14",
            "price": "1000",
            "attendance_threshold": "80",
            "published": "y",
        },
        _count(Course, Course.title_fr == "Arduino"),
    ),
    "room": Kind(
        "coordinator",
        lambda w: "/coordinator/rooms/new",
        lambda w: {"name": "Atelier Al-Jazari", "site": "Technopark", "capacity": "12"},
        _count(Room, Room.name == "Atelier Al-Jazari"),
    ),
    "group": Kind(
        "coordinator",
        lambda w: "/coordinator/cohorts/new",
        lambda w: {
            "course_id": str(w.course_id),
            "room_id": str(w.room_id),
            "lead_instructor_id": str(w.instructor_id),
            "capacity": "12",
            "language": "fr",
            "start_date": "2026-10-08",
            "end_date": "2026-11-26",
            "weekdays": ["3"],
            "start_time": "10:00",
            "duration_minutes": "90",
            "enrolment_opens_on": "2026-09-07",
            "enrolment_closes_on": "2026-10-07",
            "status": "open",
        },
        lambda w: _count(Cohort)(w),
    ),
    "lesson": Kind(
        "coordinator",
        lambda w: f"/coordinator/cohorts/{w.open_group}/makeup",
        lambda w: {
            "date": "2026-12-05",
            "start_time": "10:00",
            "duration_minutes": "90",
            "room_id": str(w.room_id),
            "note": "",
        },
        lambda w: _count(Lesson, Lesson.cohort_id == w.open_group)(w),
    ),
    "certificate": Kind(
        "coordinator",
        lambda w: f"/coordinator/enrolments/{w.finished_enrolment_id}/certificate",
        lambda w: {"reason": "Présente à chaque atelier, absente du registre."},
        lambda w: _count(Certificate)(w),
    ),
    "lesson note": Kind(
        "instructor",
        lambda w: f"/attendance/lessons/{w.lesson_under_way}/note",
        lambda w: {"body": "Un robot suiveur de ligne."},
        lambda w: _count(LessonNote, LessonNote.lesson_id == w.lesson_under_way)(w),
    ),
    "incident": Kind(
        "instructor",
        lambda w: f"/attendance/lessons/{w.lesson_under_way}/incidents/new",
        lambda w: {
            "child": str(w.child_id),
            "at": "",
            "what_happened": "Chute",
            "action_taken": "Glace",
            "who_was_told": "",
            "notify_parents": "y",
        },
        lambda w: _count(Incident)(w),
    ),
    "substitute": Kind(
        "coordinator",
        lambda w: f"/coordinator/cohorts/{w.open_group}/substitutes",
        lambda w: {"substitute": str(w.substitute_id), "first_day": "2026-10-05"},
        lambda w: _count(SubstituteAssignment)(w),
    ),
    "staff account": Kind(
        "coordinator",
        lambda w: "/coordinator/staff/new",
        lambda w: {
            "full_name": "Salma Idrissi",
            "email": "salma.idrissi@activelabs.ma",
            "phone": "",
            "role": "instructor",
            "language": "ar",
        },
        _count(User, User.email == "salma.idrissi@activelabs.ma"),
    ),
}


def _browser(app, email: str | None):
    client = app.test_client()
    if email is not None:
        response = login(client, type("U", (), {"email": email}), PASSWORD)
        assert response.status_code == 302
    return client


def _fresh(data: dict) -> dict:
    """The form to post, each file given as (bytes, name) opened anew for each copy."""
    return {
        key: (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
        for key, value in data.items()
    }


def _rows(app, query) -> int:
    with app.app_context():
        return db.session.scalar(query)


@pytest.mark.parametrize("name", list(KINDS))
def test_the_same_submission_twice_at_once_then_again_creates_one_row(app, world, name):
    kind = KINDS[name]
    email = getattr(world, kind.sender) if kind.sender else None
    path, data, query = kind.path(world), kind.data(world), kind.count(world)
    before = _rows(app, query)
    browsers = [_browser(app, email) for _ in range(3)]

    responses, errors = run_at_once(
        [lambda b=b: b.post(path, data=_fresh(data)) for b in browsers[:2]]
    )
    responses.append(browsers[2].post(path, data=_fresh(data)))

    assert errors == []
    assert _rows(app, query) == before + 1, [r.get_data(as_text=True)[:300] for r in responses]
    # The first copy's answer (a redirect), then the copies sent where it went.
    codes = sorted(r.status_code for r in responses)
    assert codes == [302, 303, 303]
    assert len({r.headers["Location"] for r in responses}) == 1
