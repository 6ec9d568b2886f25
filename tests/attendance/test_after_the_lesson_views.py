"""The pages of lesson notes, incidents and substitutes: happy paths, bad input (a clear
message, never a 500) and the guards, with a substitute's access crossing its last day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.attendance import incidents, substitutes
from lms.attendance.models import Incident, LessonNote, SubstituteAssignment
from lms.extensions import db
from lms.families.models import AccessKind, MedicalAccessLog
from lms.notifications.models import OutboxMessage
from tests.attendance.conftest import NOW, TODAY, local
from tests.conftest import login


def roster_url(term, number: int) -> str:
    return f"/attendance/lessons/{term.lesson_ids[number - 1]}"


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _assign(app, term, first_day=TODAY, last_day=None):
    with app.app_context():
        assignment = substitutes.assign_substitute(
            term.cohort(),
            substitute=term.get(term.outsider),
            first_day=first_day,
            last_day=last_day,
            actor=term.get(term.coordinator),
        )
        db.session.commit()
        return assignment.id


def _incident(app, term):
    with app.app_context():
        incidents.record_incident(
            term.lesson(5),
            term.child(0),
            actor=term.get(term.lead),
            occurred_at=NOW - timedelta(minutes=5),
            what_happened="Coupure au doigt",
            action_taken="Pansement",
            notify_parents=False,
        )
        db.session.commit()


# ---------------------------------------------------------------------------------------------
# Lesson notes


def test_the_instructor_writes_the_note_from_the_roster_and_the_parents_read_it(app, client, term):
    login(client, term.lead)
    page = client.get(roster_url(term, 5)).get_data(as_text=True)
    assert f"/attendance/lessons/{term.lesson_ids[4]}/note" in page
    url = f"{roster_url(term, 5)}/note"
    response = client.post(url, data={"body": "Un robot suiveur de ligne.\nApportez un câble."})
    assert response.status_code == 302
    assert "Un robot suiveur de ligne." in client.get(roster_url(term, 5)).get_data(as_text=True)
    response = client.post(url, data={"body": "Un robot suiveur."})
    assert response.status_code == 302
    assert _count(app, LessonNote) == 1
    client = app.test_client()
    login(client, term.parent)
    page = client.get(f"/attendance/children/{term.child_ids[0]}").get_data(as_text=True)
    assert "Un robot suiveur." in page


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write a few words"), ("x" * 2001, "At most 2000 characters")],
)
def test_an_empty_or_too_long_note_gets_a_clear_message(app, client, term, body, message):
    login(client, term.lead)
    response = client.post(f"{roster_url(term, 5)}/note", data={"body": body})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(app, LessonNote) == 0


def test_an_instructor_of_another_group_cannot_write_the_note(app, client, term):
    login(client, term.outsider)
    assert client.get(f"{roster_url(term, 5)}/note").status_code == 403
    assert client.post(f"{roster_url(term, 5)}/note", data={"body": "Non"}).status_code == 403
    assert _count(app, LessonNote) == 0


# ---------------------------------------------------------------------------------------------
# Incidents


def test_an_incident_is_recorded_from_the_roster_and_the_parents_told(app, client, term):
    login(client, term.lead)
    url = f"{roster_url(term, 5)}/incidents/new"
    page = client.get(url).get_data(as_text=True)
    assert "Yasmine Alaoui" in page
    response = client.post(
        url,
        data={
            "child": str(term.child_ids[0]),
            "at": "14:50",
            "what_happened": "Chute",
            "action_taken": "Glace",
            "who_was_told": "",
            "notify_parents": "y",
        },
    )
    assert response.status_code == 302
    assert _count(app, Incident, Incident.child_id == term.child_ids[0]) == 1
    assert _count(app, OutboxMessage, OutboxMessage.template == "incident_recorded") == 1


def test_an_incident_for_a_child_not_in_the_lesson_is_refused(app, client, term):
    login(client, term.lead)
    response = client.post(
        f"{roster_url(term, 5)}/incidents/new",
        data={"child": "99999", "what_happened": "x", "action_taken": "y"},
    )
    assert response.status_code == 404
    response = client.post(
        f"{roster_url(term, 5)}/incidents/new",
        data={"child": "abc", "what_happened": "x", "action_taken": "y"},
    )
    assert response.status_code == 422
    assert _count(app, Incident) == 0


def test_the_incident_page_of_another_group_is_refused(app, client, term):
    login(client, term.outsider)
    assert client.get(f"{roster_url(term, 5)}/incidents/new").status_code == 403


def test_the_childs_parents_and_the_coordinators_see_incidents_other_parents_do_not(
    app, client, term
):
    _incident(app, term)
    url = f"/attendance/children/{term.child_ids[0]}"
    login(client, term.parent)
    assert "Coupure au doigt" in client.get(url).get_data(as_text=True)
    client = app.test_client()
    login(client, term.other_parent)
    assert client.get(url).status_code == 404
    client = app.test_client()
    login(client, term.coordinator)
    assert "Coupure au doigt" in client.get(url).get_data(as_text=True)
    assert (
        _count(
            app,
            MedicalAccessLog,
            MedicalAccessLog.staff_id == term.coordinator.id,
            MedicalAccessLog.what == AccessKind.INCIDENT,
        )
        == 1
    )


# ---------------------------------------------------------------------------------------------
# Substitutes


def test_a_coordinator_assigns_lists_and_ends_a_substitute(app, client, term):
    login(client, term.coordinator)
    url = f"/coordinator/cohorts/{term.cohort_id}/substitutes"
    assert "Mehdi Ouazzani" in client.get(url).get_data(as_text=True)
    response = client.post(
        url, data={"substitute": str(term.outsider.id), "first_day": TODAY.isoformat()}
    )
    assert response.status_code == 302
    assert _count(app, OutboxMessage, OutboxMessage.template == "substitute_assigned") == 2
    with app.app_context():
        assignment_id = db.session.scalar(select(SubstituteAssignment.id))
    response = client.post(f"/coordinator/substitutes/{assignment_id}/end")
    assert response.status_code == 302
    assert "End now" not in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"first_day": "2026-10-21", "last_day": "2026-10-14"}, "before the first day"),
        ({"first_day": "2026-10-15"}, "no lesson on these days"),
        ({"first_day": ""}, "Give the first day"),
        ({"first_day": "2026-10-14", "substitute": "parent"}, "Choose an instructor of the lab"),
        ({"first_day": "2026-10-14", "substitute": "abc"}, "Substitute instructor"),
    ],
)
def test_bad_assignments_get_a_clear_message(app, client, term, data, message):
    login(client, term.coordinator)
    chosen = data.get("substitute")
    form = {**data, "substitute": str(term.parent.id) if chosen == "parent" else chosen}
    form["substitute"] = form["substitute"] or str(term.outsider.id)
    response = client.post(f"/coordinator/cohorts/{term.cohort_id}/substitutes", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(app, SubstituteAssignment) == 0


def test_instructors_cannot_assign_substitutes(app, client, term):
    login(client, term.lead)
    assert client.get(f"/coordinator/cohorts/{term.cohort_id}/substitutes").status_code == 403


def test_the_substitute_takes_the_roll_on_the_day_and_is_refused_the_day_after(
    app, client, term, frozen_now
):
    _assign(app, term)
    login(client, term.outsider)
    home = client.get("/instructor").get_data(as_text=True)
    assert roster_url(term, 5) in home
    page = client.get(roster_url(term, 5))
    assert page.status_code == 200
    assert "Yasmine" in page.get_data(as_text=True)
    with app.app_context():
        logged = set(
            db.session.scalars(
                select(MedicalAccessLog.child_id).where(
                    MedicalAccessLog.staff_id == term.outsider.id,
                    MedicalAccessLog.what == AccessKind.ROSTER,
                )
            )
        )
    assert logged == set(term.child_ids)
    response = client.post(
        roster_url(term, 5),
        data={f"seen-{term.child_ids[0]}": "0:", f"status-{term.child_ids[0]}": "present"},
    )
    assert response.status_code == 302
    offline = client.get("/attendance/offline/data.json").get_json()
    assert [lesson["id"] for lesson in offline["lessons"]] == [term.lesson_ids[4]]
    # The roster page and the phone's copy: two readings in each child's log.
    assert _count(app, MedicalAccessLog, MedicalAccessLog.staff_id == term.outsider.id) == 6
    # The assignment ended with its day: the next morning the roster is refused.
    frozen_now.move_to(local(TODAY + timedelta(days=1), 8, 0))
    assert client.get(roster_url(term, 5)).status_code == 403
    assert roster_url(term, 5) not in client.get("/instructor").get_data(as_text=True)
    assert client.get("/attendance/offline/data.json").get_json()["lessons"] == []
    response = client.post(
        "/attendance/offline/sync",
        json={
            "changes": [
                {
                    "id": "5f0c1a52-8d0e-4a4e-9f57-2f3c7c1f0a11",
                    "kind": "mark",
                    "lesson_id": term.lesson_ids[4],
                    "child_id": term.child_ids[1],
                    "status": "present",
                    "made_at": NOW.isoformat(),
                    "seen_version": 0,
                }
            ]
        },
    )
    assert response.status_code == 403
