"""Every attendance URL and action, tried by people who must be refused: an instructor of
another cohort, a parent, another family's parent, an anonymous visitor."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.attendance.models import AbsenceNotice, AttendanceMark, Checkout, FinalProjectMark
from lms.extensions import db
from tests.attendance.conftest import mark
from tests.conftest import login

# (method, URL pattern, form data); {lesson}, {future}, {cohort}, {child} are filled in.
STAFF_PAGES = [
    ("GET", "/attendance/lessons/{lesson}", None),
    (
        "POST",
        "/attendance/lessons/{lesson}",
        {"status-{child}": "absent", "seen-{child}": "1:present", "action": "save"},
    ),
    (
        "POST",
        "/attendance/lessons/{lesson}",
        {"status-{child}": "absent", "seen-{child}": "1:present", "action": "all_present"},
    ),
    ("POST", "/attendance/lessons/{lesson}/children/{child}/checkout", {"collector": "alone"}),
    ("GET", "/attendance/lessons/{lesson}/history", None),
    ("GET", "/attendance/cohorts/{cohort}", None),
    ("GET", "/attendance/cohorts/{cohort}/attendance.csv", None),
    ("GET", "/attendance/cohorts/{cohort}/attendance.xlsx", None),
    ("POST", "/attendance/cohorts/{cohort}/final-project", {"completed": "{child}"}),
]
FAMILY_PAGES = [
    ("GET", "/attendance/children/{child}", None),
    ("GET", "/attendance/children/{child}/lessons/{future}/absence", None),
    ("POST", "/attendance/children/{child}/lessons/{future}/absence", {"reason": "x"}),
]


def fill(text: str, ids: dict) -> str:
    return text.format(**ids)


@pytest.fixture
def victim(app, make_term):
    term = make_term(final_project=True)
    with app.app_context():
        mark(term, 5, {1: "present"})  # Adam: present, may leave alone
        db.session.commit()
    ids = {
        "lesson": term.lesson_ids[4],
        "future": term.lesson_ids[8],
        "cohort": term.cohort_id,
        "child": term.child_ids[1],
    }
    return term, ids


def snapshot(app) -> tuple:
    with app.app_context():
        ids = [
            tuple(db.session.scalars(select(model.id)).all())
            for model in (AttendanceMark, AbsenceNotice, Checkout, FinalProjectMark)
        ]
        return (*ids, tuple(db.session.scalars(select(AttendanceMark.status)).all()))


def send(client, method, pattern, data, ids):
    url = fill(pattern, ids)
    if data is None:
        return client.open(url, method=method)
    return client.open(
        url, method=method, data={fill(k, ids): fill(v, ids) for k, v in data.items()}
    )


@pytest.mark.parametrize(("method", "pattern", "data"), STAFF_PAGES)
@pytest.mark.parametrize("who", ["outsider", "parent", "other_parent", "anonymous"])
def test_staff_pages_refuse_intruders(app, client, victim, who, method, pattern, data):
    term, ids = victim
    if who != "anonymous":
        login(client, getattr(term, who))
    before = snapshot(app)
    response = send(client, method, pattern, data, ids)
    if who == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize(("method", "pattern", "data"), FAMILY_PAGES)
@pytest.mark.parametrize("who", ["other_parent", "outsider", "lead", "anonymous"])
def test_family_pages_refuse_intruders(app, client, victim, who, method, pattern, data):
    term, ids = victim  # Adam is Karim's child, not Omar's
    if who != "anonymous":
        login(client, getattr(term, who))
    before = snapshot(app)
    response = send(client, method, pattern, data, ids)
    if who == "anonymous":
        assert response.status_code == 302
    elif who == "other_parent":
        assert response.status_code == 404
    else:
        assert response.status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize("who", ["lead", "assistant", "coordinator"])
def test_the_cohorts_staff_may_read(app, client, victim, who):
    term, ids = victim
    login(client, getattr(term, who))
    for method, pattern, data in STAFF_PAGES:
        if method == "GET":
            assert send(client, method, pattern, data, ids).status_code == 200, pattern


def test_a_guardian_may_read_and_report(app, client, victim):
    term, ids = victim
    login(client, term.parent)
    for method, pattern, data in FAMILY_PAGES:
        assert send(client, method, pattern, data, ids).status_code in (200, 302), pattern


def test_the_sweep_covers_every_attendance_route(app):
    swept = {
        fill(p, dict.fromkeys(("lesson", "future", "cohort", "child"), "1"))
        for _, p, _ in STAFF_PAGES + FAMILY_PAGES
    }
    parameterless = {"/attendance/cohorts", "/attendance/family", "/attendance/emails"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("attendance."):
            url = rule.rule
            for name in rule.arguments:
                url = url.replace(f"<int:{name}>", "1")
            assert url in swept | parameterless, url


def test_parameterless_pages_are_role_scoped(app, client, victim):
    term, _ = victim
    login(client, term.parent)
    assert client.get("/attendance/cohorts").status_code == 403
    client.post("/logout")
    login(client, term.outsider)
    assert client.get("/attendance/family").status_code == 403
    assert client.get("/attendance/emails").status_code == 403
