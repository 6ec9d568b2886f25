"""Plain certificate data for the rendering tests (no database: rendering is pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from lms.certificates.codes import new_code


def certificate_data(**overrides) -> dict:
    """The data of one certificate, as the issuing service will pass it."""
    code = overrides.pop("code", None) or new_code()
    data = {
        "code": code,
        "verification_url": f"https://lms.activelabs.ma/verify/{code}",
        "child_name": "Yasmine El Amrani",
        "child_name_ar": "ياسمين العمراني",
        "course_title_fr": "Robotique LEGO — niveau 1",
        "course_title_ar": "روبوتيك ليغو — المستوى 1",
        "course_title_en": "LEGO Robotics — level 1",
        "track": "robotics",
        "lessons": 12,
        "hours": 24,
        "start_date": dt.date(2026, 3, 3),
        "end_date": dt.date(2026, 5, 26),
        "issue_date": dt.date(2026, 5, 30),
        "instructors": ["Karim Bennani", "Salma Idrissi"],
        "coordinator": "Nadia Tazi",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_certificate_data():
    return certificate_data


# ---------------------------------------------------------------------------------------------
# A finished cohort with enrolled children, for the issuing tests (database).

from datetime import UTC, date, datetime, time  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from lms.accounts.models import Role, User  # noqa: E402
from lms.certificates import eligibility as eligibility_module  # noqa: E402
from lms.courses import services as courses  # noqa: E402
from lms.courses.models import CohortStatus  # noqa: E402
from lms.enrolment.models import Enrolment, EnrolmentStatus  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.families import services as families  # noqa: E402
from lms.families.services import Person  # noqa: E402


@pytest.fixture
def attendance(monkeypatch) -> dict:
    """Stand-in attendance for the issuing tests: {enrolment id: (rate, [reasons])}; eligible
    by default. (The real rules are tested in test_eligibility.py.)"""
    table: dict[int, tuple[float, list]] = {}
    monkeypatch.setattr(
        eligibility_module,
        "attendance_and_project",
        lambda cohort, enrolments, now: [table.get(e.id, (1.0, [])) for e in enrolments],
    )
    return table


ENROLLED_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def finished(app, coordinator, instructor, make_user) -> SimpleNamespace:
    """A robotics cohort that ended in June 2026, with three enrolled children of two families."""
    with app.app_context():
        boss = db.session.get(User, coordinator.id)
        lead = db.session.get(User, instructor.id)
        room = courses.create_room(actor=boss, name="Atelier Al-Jazari", capacity=12)
        course = courses.create_course(
            courses.CourseDetails(
                title_fr="Robotique LEGO",
                title_ar="روبوتات ليغو",
                summary_fr="Robots.",
                track="robotics",
                level="beginner",
                min_age=8,
                max_age=11,
                price_centimes=80000,
                published=True,
            ),
            actor=boss,
        )
        cohort = courses.create_cohort(
            actor=boss,
            course=course,
            room=room,
            lead=lead,
            start_date=date(2026, 4, 1),
            end_date=date(2026, 6, 10),
            weekdays=[2],
            start_time=time(14, 30),
            status=CohortStatus.OPEN,
            allow_past=True,
        )
        karim = db.session.get(User, make_user(Role.PARENT, full_name="Karim Alaoui").id)
        nadia = db.session.get(User, make_user(Role.PARENT, full_name="Nadia Bennani").id)
        contact = Person("Fatiha Ouarzazi", "Tante", "0661234567")
        yasmine = families.add_child(
            karim,
            first_name="Yasmine",
            last_name="Alaoui",
            date_of_birth=date(2017, 3, 1),
            emergency_contact=contact,
            first_name_ar="ياسمين",
            last_name_ar="العلوي",
        )
        adam = families.add_child(
            karim,
            first_name="Adam",
            last_name="Alaoui",
            date_of_birth=date(2016, 5, 2),
            emergency_contact=contact,
        )
        rim = families.add_child(
            nadia,
            first_name="ريم",
            last_name="بناني",
            date_of_birth=date(2017, 9, 9),
            emergency_contact=contact,
        )
        enrolments = [
            Enrolment(
                child=child,
                cohort=cohort,
                status=EnrolmentStatus.ENROLLED,
                enrolled_at=ENROLLED_AT,
                fee_centimes=80000,
            )
            for child in (yasmine, adam, rim)
        ]
        db.session.add_all(enrolments)
        cohort.seats_taken = len(enrolments)  # as the enrolment services keep it
        db.session.commit()
        ids = SimpleNamespace(
            coordinator=boss.id,
            karim=karim.id,
            nadia=nadia.id,
            cohort=cohort.id,
            enrolments=[e.id for e in enrolments],
            children=[yasmine.id, adam.id, rim.id],
        )
    return ids
