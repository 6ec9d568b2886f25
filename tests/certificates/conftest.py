"""Plain certificate data for the rendering tests (no database: rendering is pure), and a
finished cohort with enrolled children for the issuing tests."""

from __future__ import annotations

import datetime as dt
from datetime import date
from types import SimpleNamespace

import pytest

from lms.certificates import eligibility as eligibility_module
from lms.certificates.codes import new_code
from lms.courses.scheduling import create_room
from lms.extensions import db
from lms.families.contacts import Person
from lms.roles import Role
from tests import builders
from tests.conftest import get


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


@pytest.fixture
def finished(app, coordinator, instructor, make_user) -> SimpleNamespace:
    """A robotics cohort that ended in June 2026, with three enrolled children of two families."""
    with app.app_context():
        boss = get(coordinator)
        room = create_room(actor=boss, name="Atelier Al-Jazari", capacity=12)
        course = builders.robotics_course(
            boss, summary_fr="Robots.", min_age=8, max_age=11, price_centimes=80000
        )
        karim = get(make_user(Role.PARENT, full_name="Karim Alaoui"))
        nadia = get(make_user(Role.PARENT, full_name="Nadia Bennani"))
        contact = Person("Fatiha Ouarzazi", "Tante", "0661234567")
        children = [
            builders.child(
                karim,
                "Yasmine",
                "Alaoui",
                date_of_birth=date(2017, 3, 1),
                emergency_contact=contact,
                first_name_ar="ياسمين",
                last_name_ar="العلوي",
            ),
            builders.child(
                karim, "Adam", "Alaoui", date_of_birth=date(2016, 5, 2), emergency_contact=contact
            ),
            builders.child(
                nadia, "ريم", "بناني", date_of_birth=date(2017, 9, 9), emergency_contact=contact
            ),
        ]
        cohort, enrolments = builders.finished_group(
            boss, course, room=room, lead=get(instructor), children=children, fee_centimes=80000
        )
        db.session.commit()
        return SimpleNamespace(
            coordinator=boss.id,
            karim=karim.id,
            nadia=nadia.id,
            cohort=cohort.id,
            enrolments=[e.id for e in enrolments],
            children=[child.id for child in children],
        )
