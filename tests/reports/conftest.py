"""A small term written out by hand (two cohorts, five children, known marks and payments) whose
every dashboard figure is computed by hand in test_dashboard.py, and a generator of terms of
any size for the query-count test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from lms.accounts.models import User
from lms.attendance.models import AttendanceMark
from lms.certificates.models import Certificate
from lms.courses.models import Cohort, CohortInstructor, Course, Lesson, Room
from lms.enrolment.models import Enrolment, Payment
from lms.extensions import db
from lms.families.models import Child, ConsentRecord
from lms.i18n import use_packaged_zone_rules
from lms.roles import Role
from tests import builders

use_packaged_zone_rules()
TANGIER = ZoneInfo("Africa/Casablanca")


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TANGIER).astimezone(UTC)


# Wednesday 14 October 2026, 15:00 in Tangier: autumn term 2026.
TODAY = date(2026, 10, 14)
NOW = local(TODAY, 15)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def config_overrides() -> dict:
    return {"BABEL_DEFAULT_LOCALE": "en"}


_serial = itertools.count(1)


@dataclass
class World:
    coordinator: User
    lead: User  # teaches cohort A
    other_instructor: User  # teaches cohort B
    parents: dict[str, User]
    ids: dict[str, int]


def _lessons(cohort: Cohort, first: date, count: int, hour: int = 10) -> list[Lesson]:
    lessons = []
    for number in range(1, count + 1):
        day = first + timedelta(weeks=number - 1)
        lesson = Lesson(
            number=number,
            starts_at=local(day, hour),
            ends_at=local(day, hour, 0) + timedelta(minutes=90),
        )
        cohort.lessons.append(lesson)
        lessons.append(lesson)
    return lessons


def _child(guardian: User, first: str, last: str, born: date, **fields) -> Child:
    return builders.written_child(guardian.id, first, last, date_of_birth=born, **fields)


def _enrol(child, cohort, status="enrolled", *, at, fee=0, discount=0, waiver=0, ended=None):
    enrolment = Enrolment(
        child=child,
        cohort=cohort,
        status=status,
        created_at=at,
        enrolled_at=at if status in ("enrolled", "withdrawn") else None,
        ended_at=ended,
        end_reason="withdrawn_by_parent" if ended else None,
        offered_at=at if status == "offered" else None,
        offer_expires_at=NOW + timedelta(days=2) if status == "offered" else None,
        fee_centimes=fee,
        discount_centimes=discount,
        waiver_centimes=waiver,
    )
    db.session.add(enrolment)
    return enrolment


def _pay(enrolment, amount, n):
    enrolment.payments.append(
        Payment(
            amount_centimes=amount,
            method="cash",
            paid_on=date(2026, 9, 20),
            receipt_number=f"T-{n:06d}-{next(_serial)}",
        )
    )


@pytest.fixture
def world(app, make_user) -> World:
    """The small term of test_dashboard.py (read the comments there for the figures)."""
    coordinator = make_user(Role.COORDINATOR, full_name="Fatima Zahra El Amrani", locale="en")
    lead = make_user(Role.INSTRUCTOR, full_name="Youssef Benali", locale="en")
    other = make_user(Role.INSTRUCTOR, full_name="Mehdi Ouazzani", locale="en")
    p1 = make_user(Role.PARENT, full_name="Karim Alaoui", locale="fr", phone="+212612345601")
    p2 = make_user(Role.PARENT, full_name="Omar Tazi", locale="ar")
    p3 = make_user(Role.PARENT, full_name="Leila Chraibi", locale="en")
    old = make_user(Role.PARENT, full_name="Sara Berrada", locale="fr")
    gone = make_user(Role.PARENT, full_name="Hamza El Fassi", locale="fr")
    serial = next(_serial)
    with app.app_context():
        db.session.get(User, old.id).created_at = local(date(2026, 6, 1), 9)  # summer term
        db.session.get(User, gone.id).active = False
        room = Room(site="Technopark", name=f"Salle {serial}", capacity=20)
        robotics = Course(
            title_fr=f"Robotique {serial}",
            title_ar="روبوتات",
            summary_fr="Robots.",
            track="robotics",
            min_age=7,
            max_age=14,
            price_centimes=80000,
            attendance_threshold=80,
            published=True,
        )
        scratch = Course(
            title_fr=f"Scratch {serial}",
            summary_fr="Scratch.",
            track="coding",
            min_age=6,
            max_age=12,
            price_centimes=50000,
            attendance_threshold=50,
            published=True,
        )
        common = {"room": room, "start_time": time(10), "duration_minutes": 90}
        a = Cohort(
            course=robotics, capacity=3, seats_taken=3, waitlist_count=1, status="open",
            start_date=date(2026, 9, 16), end_date=date(2026, 11, 4), weekdays="2", **common,
        )  # fmt: skip
        b = Cohort(
            course=scratch, capacity=3, seats_taken=2, status="closed",
            start_date=date(2026, 9, 19), end_date=date(2026, 10, 24), weekdays="5", **common,
        )  # fmt: skip
        draft = Cohort(
            course=scratch, capacity=5, status="draft",
            start_date=date(2026, 11, 7), end_date=date(2026, 12, 5), weekdays="5", **common,
        )  # fmt: skip
        winter = Cohort(
            course=robotics, capacity=5, seats_taken=1, status="open",
            start_date=date(2027, 1, 13), end_date=date(2027, 3, 3), weekdays="2", **common,
        )  # fmt: skip
        db.session.add_all([room, robotics, scratch, a, b, draft, winter])
        a_lessons = _lessons(a, date(2026, 9, 16), 8)  # 5 held, 3 to come
        b_lessons = _lessons(b, date(2026, 9, 19), 6)  # 4 held, 2 to come
        _lessons(winter, date(2027, 1, 13), 8)
        a.staff.append(CohortInstructor(instructor_id=lead.id, role="lead"))
        b.staff.append(CohortInstructor(instructor_id=other.id, role="lead"))
        k1 = _child(p1, "Yasmine", "Alaoui", date(2017, 5, 4), first_name_ar="ياسمين")
        k2 = _child(p1, "Adam", "Alaoui", date(2015, 2, 10), first_name_ar="آدم")
        k3 = _child(p2, "Rania", "Tazi", date(2018, 11, 20), first_name_ar="رانية")
        k4 = _child(p3, "Ilyas", "Chraibi", date(2016, 9, 30))
        k5 = _child(p3, "Lina", "Chraibi", date(2014, 12, 1))
        k1.allergies = "Arachides"
        k1.medical_notes = "Asthme léger"
        k1.consent_records.append(ConsentRecord(kind="photo", granted=True, notice_version="1"))
        k1.consent_records.append(ConsentRecord(kind="health", granted=True, notice_version="1"))
        joined = local(date(2026, 9, 1), 9)
        e1 = _enrol(k1, a, at=joined, fee=80000)
        e2a = _enrol(k2, a, at=joined, fee=80000, discount=8000)
        e5 = _enrol(k5, a, "offered", at=joined, fee=80000)
        e4w = _enrol(k4, a, "waitlisted", at=joined, fee=80000)
        e2b = _enrol(k2, b, at=joined, fee=50000, discount=5000)
        e3 = _enrol(k3, b, at=joined, fee=50000, waiver=50000)
        e4 = _enrol(
            k4, b, "withdrawn", at=local(date(2026, 9, 10), 9), fee=50000,
            ended=local(date(2026, 9, 27), 9),
        )  # fmt: skip
        _enrol(k5, winter, at=joined, fee=80000)
        _pay(e1, 80000, 1)
        _pay(e2a, 20000, 2)
        _pay(e4, 10000, 3)
        db.session.flush()
        marks = {
            # cohort A: lessons 1-5 held (lesson 5 this morning)
            k1: ["present", "present", "late", "absent", "present"],
            k2: ["absent", "absent", "absent", "present", None],
        }
        for child, statuses in marks.items():
            for lesson, status in zip(a_lessons, statuses, strict=False):
                if status:
                    db.session.add(AttendanceMark(lesson=lesson, child=child, status=status))
        for child, statuses in {
            k2: ["present", "excused", "present", "absent"],
            k3: ["absent", "absent", "absent", "present"],
            k4: ["present", "absent"],
        }.items():
            for lesson, status in zip(b_lessons, statuses, strict=False):
                db.session.add(AttendanceMark(lesson=lesson, child=child, status=status))
        for enrolment, status, code in ((e1, "valid", "V"), (e3, "revoked", "R")):
            db.session.add(
                Certificate(
                    code=f"AL-{code}{serial:04d}",
                    enrolment=enrolment,
                    child_id=enrolment.child.id,
                    cohort_id=enrolment.cohort.id,
                    status=status,
                    data={"child_name": enrolment.child.full_name},
                    revoked_at=NOW if status == "revoked" else None,
                )
            )
        db.session.commit()
        ids = {
            "a": a.id, "b": b.id, "draft": draft.id, "winter": winter.id,
            "k1": k1.id, "k2": k2.id, "k3": k3.id, "k4": k4.id, "k5": k5.id,
            "e1": e1.id, "e2a": e2a.id, "e2b": e2b.id, "e3": e3.id, "e4": e4.id,
            "e5": e5.id, "e4w": e4w.id, "robotics": robotics.id, "scratch": scratch.id,
        }  # fmt: skip
    return World(
        coordinator=coordinator,
        lead=lead,
        other_instructor=other,
        parents={"p1": p1, "p2": p2, "p3": p3, "old": old, "gone": gone},
        ids=ids,
    )


def build_cohorts(count: int, *, children: int = 4, lessons: int = 6) -> list[int]:
    """``count`` cohorts of the autumn term with enrolled children, marks and a payment each
    (inside an app context; committed by the caller)."""
    serial = next(_serial)
    room = Room(site="Technopark", name=f"Salle N{serial}", capacity=20)
    course = Course(
        title_fr=f"Course N{serial}", summary_fr="x", track="coding", min_age=6, max_age=14
    )
    parent = User(email=f"bulk{serial}@example.ma", full_name="Bulk Parent", role="parent")
    db.session.add_all([room, course, parent])
    db.session.flush()
    ids = []
    for c in range(count):
        cohort = Cohort(
            course=course, room=room, capacity=children + 1, seats_taken=children,
            waitlist_count=0, status="open", start_date=date(2026, 9, 16),
            end_date=date(2026, 11, 4), weekdays="2", start_time=time(10),
        )  # fmt: skip
        db.session.add(cohort)
        held = _lessons(cohort, date(2026, 9, 16), lessons)
        for k in range(children):
            child = _child(parent, f"Child{c}-{k}", "Bulk", date(2016, 1, 1 + k))
            enrolment = _enrol(child, cohort, at=local(date(2026, 9, 1), 9), fee=10000)
            if k == 0:
                _pay(enrolment, 5000, c)
            for lesson in held[:3]:
                db.session.add(AttendanceMark(lesson=lesson, child=child, status="present"))
        db.session.flush()
        ids.append(cohort.id)
    return ids
