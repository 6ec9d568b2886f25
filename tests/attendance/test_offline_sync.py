"""The offline roll call's server side: the data a phone keeps, and the sync endpoint that
records each change once per UUID under the server's rules, with conflicts reported."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.attendance.models import AttendanceChange, AttendanceMark, Checkout, OfflineChange
from lms.extensions import db
from tests.attendance.conftest import NOW, mark
from tests.conftest import PASSWORD, login
from tests.enrolment.test_concurrency import run_at_once

SYNC = "/attendance/offline/sync"
DATA = "/attendance/offline/data.json"


def change(term, child: int = 0, lesson: int = 5, **fields) -> dict:
    values = {
        "id": str(uuid.uuid4()),
        "kind": "mark",
        "lesson_id": term.lesson_ids[lesson - 1],
        "child_id": term.child_ids[child],
        "status": "present",
        "seen_version": 0,
        "made_at": (NOW - timedelta(minutes=5)).isoformat(),
    }
    values.update(fields)
    return values


def send(client, *changes):
    return client.post(SYNC, json={"changes": list(changes)})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_change_sent_twice_is_recorded_once(term, login_as, ctx):
    client = login_as(term.lead)
    first = change(term, status="late", note="Arrived at 14:40")
    response = send(client, first)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["results"] == [
        {"id": first["id"], "outcome": "applied", "message": "", "duplicate": False}
    ]
    again = send(client, first, first)
    assert [r["duplicate"] for r in again.json["results"]] == [True, True]
    assert [r["outcome"] for r in again.json["results"]] == ["applied", "applied"]
    db.session.expire_all()
    marks = db.session.scalars(select(AttendanceMark)).all()
    assert [(m.status, m.note, m.version) for m in marks] == [("late", "Arrived at 14:40", 1)]
    assert count(AttendanceChange) == 1
    assert count(OfflineChange) == 1


def test_changes_are_applied_in_the_order_they_were_made(term, login_as, ctx):
    client = login_as(term.lead)
    response = send(
        client,
        change(term, status="present"),
        change(term, status="late"),
        change(term, child=1, status="absent"),
    )
    assert [r["outcome"] for r in response.json["results"]] == ["applied"] * 3
    statuses = dict(
        db.session.execute(select(AttendanceMark.child_id, AttendanceMark.status)).all()
    )
    assert statuses == {term.child_ids[0]: "late", term.child_ids[1]: "absent"}


def test_a_check_out_made_offline(term, login_as, ctx):
    client = login_as(term.lead)
    response = send(
        client,
        change(term, status="present"),
        change(term, kind="checkout", collector=f"pickup-{term.pickup_id}", status=None),
    )
    assert [r["outcome"] for r in response.json["results"]] == ["applied", "applied"]
    checkout = db.session.scalars(select(Checkout)).one()
    assert checkout.collector_name == "Latifa Alaoui"
    assert checkout.collected_at == NOW - timedelta(minutes=5)


def test_a_check_out_of_an_unmarked_child_is_refused_and_not_retried(term, login_as, ctx):
    client = login_as(term.lead)
    refused = change(term, kind="checkout", collector=f"pickup-{term.pickup_id}", status=None)
    response = send(client, refused)
    assert response.json["results"][0]["outcome"] == "refused"
    assert "before the check-out" in response.json["results"][0]["message"]
    assert count(Checkout) == 0
    # The refusal is the answer to that UUID for good.
    assert send(client, refused).json["results"][0]["outcome"] == "refused"


def test_outside_the_edit_window_is_refused(term, login_as, ctx):
    client = login_as(term.lead)
    response = send(client, change(term, lesson=1))  # 16 September: closed for instructors
    result = response.json["results"][0]
    assert response.status_code == 200
    assert result["outcome"] == "refused"
    assert "no longer be changed by instructors" in result["message"]
    assert count(AttendanceMark) == 0


def test_another_instructors_group_is_refused(term, login_as, ctx):
    client = login_as(term.outsider)
    response = send(client, change(term))
    assert response.status_code == 403
    assert "error" in response.json
    assert count(AttendanceMark) == 0
    assert count(OfflineChange) == 0


def test_a_parent_cannot_sync(term, login_as, ctx):
    assert send(login_as(term.parent), change(term)).status_code == 403


def test_an_unknown_lesson_is_404(term, login_as, ctx):
    response = send(login_as(term.lead), change(term, lesson_id=999_999))
    assert response.status_code == 404


def test_a_later_device_change_wins_over_a_coordinators_and_says_so(term, login_as, ctx):
    # The phone saw no mark; at 14:50 the coordinator marks Yasmine absent; at 14:55 (on the
    # phone's clock) the instructor marks her present.
    mark(term, 5, {0: "absent"}, by=term.coordinator, now=NOW - timedelta(minutes=10))
    response = send(login_as(term.lead), change(term, status="present"))
    result = response.json["results"][0]
    assert result["outcome"] == "conflict"
    assert "Fatima Zahra El Amrani" in result["message"]
    assert "replaced" in result["message"]
    db.session.expire_all()
    assert db.session.scalars(select(AttendanceMark)).one().status == "present"


def test_an_earlier_device_change_loses_and_says_so(term, login_as, ctx):
    mark(term, 5, {0: "absent"}, by=term.coordinator, now=NOW - timedelta(minutes=2))
    response = send(login_as(term.lead), change(term, status="present"))
    result = response.json["results"][0]
    assert result["outcome"] == "conflict"
    assert "theirs is kept" in result["message"]
    db.session.expire_all()
    assert db.session.scalars(select(AttendanceMark)).one().status == "absent"


def test_a_device_clock_in_the_future_counts_as_now(term, login_as, ctx):
    mark(term, 5, {0: "absent"}, by=term.coordinator, now=NOW)
    future = (NOW + timedelta(days=3)).isoformat()
    response = send(login_as(term.lead), change(term, status="present", made_at=future))
    assert "theirs is kept" in response.json["results"][0]["message"]


def test_the_instructors_own_earlier_change_is_no_conflict(term, login_as, ctx):
    client = login_as(term.lead)
    mark(term, 5, {0: "absent"}, by=term.lead, now=NOW - timedelta(minutes=2))
    response = send(client, change(term, status="present"))
    assert response.json["results"][0]["outcome"] == "applied"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"changes": "x"}',
        b'{"changes": [1]}',
        b'{"changes": [{"id": "nope"}]}',
    ],
)
def test_bad_json_is_a_clear_400(term, login_as, body):
    response = login_as(term.lead).post(SYNC, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "delete"},
        {"status": "asleep"},
        {"lesson_id": "5"},
        {"lesson_id": 10**30},
        {"child_id": True},
        {"made_at": "yesterday"},
        {"made_at": "2026-10-14T15:00:00"},
        {"note": "x" * 301},
        {"kind": "checkout", "collector": None},
    ],
)
def test_a_malformed_change_is_a_clear_400(term, login_as, ctx, fields):
    response = send(login_as(term.lead), change(term, **fields))
    assert response.status_code == 400
    assert response.json["error"]
    assert count(OfflineChange) == 0


def test_the_data_holds_only_the_instructors_own_lessons(term, login_as, ctx):
    response = login_as(term.lead).get(DATA)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    data = response.json
    assert data["user_id"] == term.lead.id
    assert [lesson["id"] for lesson in data["lessons"]] == [term.lesson_ids[4]]
    children = {child["child_id"]: child for child in data["lessons"][0]["children"]}
    yasmine = children[term.child_ids[0]]
    assert yasmine["name"] == "Yasmine Alaoui"
    assert yasmine["allergies"] == "Arachides"
    assert yasmine["photo_allowed"] is True
    assert any(c["phone"] == "+212661234590" for c in yasmine["collectors"])
    assert data["csrf_token"]


def test_the_data_of_another_instructor_is_empty(term, login_as, ctx):
    assert login_as(term.outsider).get(DATA).json["lessons"] == []


@pytest.mark.parametrize("path", ["/attendance/offline/", DATA])
def test_the_offline_pages_are_for_instructors(term, login_as, path):
    assert login_as(term.parent).get(path).status_code == 403


def test_the_page_links_its_manifest_and_the_worker_is_scoped_to_it(term, login_as, client):
    page = login_as(term.lead).get("/attendance/offline/")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert b'rel="manifest"' in page.data
    worker = client.get("/attendance/offline/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Service-Worker-Allowed"] == "/attendance/offline/"
    assert worker.mimetype == "text/javascript"
    manifest = client.get("/attendance/offline/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.json["scope"] == manifest.json["start_url"] == "/attendance/offline/"
    for icon in manifest.json["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_logout_clears_the_phone(term, login_as):
    response = login_as(term.lead).post("/logout")
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_the_worker_forgets_change_records_after_a_week_and_not_before(term, login_as, ctx):
    from lms.attendance.sync import KEEP_CHANGES, forget_old_changes

    send(login_as(term.lead), change(term))
    received = db.session.scalar(select(OfflineChange.received_at))
    assert forget_old_changes(received + KEEP_CHANGES - timedelta(minutes=1)) == 0
    assert count(OfflineChange) == 1
    assert forget_old_changes(received + KEEP_CHANGES + timedelta(minutes=1)) == 1
    assert count(OfflineChange) == 0
    # The mark itself stays: only the record that made replays harmless goes.
    assert count(AttendanceMark) == 1


@pytest.mark.committed
def test_the_same_change_from_two_connections_at_once_is_recorded_once(app, term):
    """A retry that races the first copy (the page and the service worker sending together):
    two connections, the same UUID, released at the same instant, then once more later."""
    first = change(term, status="late", note="Arrived at 14:40")
    phones = []
    for _ in range(3):
        phone = app.test_client()
        assert login(phone, term.lead, PASSWORD).status_code == 302
        phones.append(phone)

    answers, errors = run_at_once([lambda p=p: send(p, first) for p in phones[:2]])
    answers.append(send(phones[2], first))

    assert errors == []
    assert [a.status_code for a in answers] == [200, 200, 200]
    results = [a.json["results"][0] for a in answers]
    assert sorted(r["duplicate"] for r in results) == [False, True, True]
    assert {r["outcome"] for r in results} == {"applied"}
    with app.app_context():
        marks = db.session.scalars(select(AttendanceMark)).all()
        assert [(m.status, m.note, m.version) for m in marks] == [("late", "Arrived at 14:40", 1)]
        assert count(AttendanceChange) == 1
        assert count(OfflineChange) == 1
