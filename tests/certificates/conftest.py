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
