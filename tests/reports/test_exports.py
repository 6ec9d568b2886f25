"""Exports: who may download which file, what the files say (read back), and the audit log."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.extensions import db
from lms.families.models import Child, MedicalAccessLog


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=","))


def _xlsx(response) -> list[tuple]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_coordinator_roster_has_contacts_consent_and_medical_notes(app, world, login_as):
    client = login_as(world.coordinator)
    rows = _csv(client.get(f"/exports/cohorts/{world.ids['a']}/roster.csv"))
    header, lines = rows[0], rows[1:]
    assert "Medical notes" in header
    assert [line[0] for line in lines] == ["Adam Alaoui", "Yasmine Alaoui"]  # enrolled only
    yasmine = dict(zip(header, lines[1], strict=True))
    assert yasmine["Name in Arabic"] == "ياسمين"
    assert yasmine["Photos allowed"] == "Yes"
    assert yasmine["Allergies"] == "Arachides"
    assert yasmine["Medical notes"] == "Asthme léger"
    assert "Karim Alaoui" in yasmine["Parents"]
    assert "Nadia Bennani (Mère) +212 6 12 34 56 02" in yasmine["Emergency contacts"] or (
        "Nadia Bennani" in yasmine["Emergency contacts"]
    )
    # The coordinator's reading of medical data is logged (Yasmine only: Adam has none).
    with app.app_context():
        logs = db.session.scalars(select(MedicalAccessLog)).all()
        assert [(log.child_id, log.staff_id) for log in logs] == [
            (world.ids["k1"], world.coordinator.id)
        ]
    [entry] = _audit(app, "export.roster")
    assert entry.actor_id == world.coordinator.id
    assert (entry.subject_type, entry.subject_id) == ("cohorts", world.ids["a"])
    assert entry.details == {"format": "csv", "rows": 2}


def test_instructor_roster_shows_an_allergy_flag_not_the_notes(app, world, login_as):
    client = login_as(world.lead)
    rows = _xlsx(client.get(f"/exports/cohorts/{world.ids['a']}/roster.xlsx"))
    header = rows[0]
    assert "Medical notes" not in header
    yasmine = dict(zip(header, rows[2], strict=True))
    assert yasmine["Allergies"] == "Yes"
    assert yasmine["Name in Arabic"] == "ياسمين"
    assert "Asthme" not in str(rows)
    assert "Arachides" not in str(rows)
    with app.app_context():
        assert db.session.scalars(select(MedicalAccessLog)).all() == []
    assert _audit(app, "export.roster")[0].details["format"] == "xlsx"


def test_roster_permissions(world, login_as, client):
    path = f"/exports/cohorts/{world.ids['b']}/roster.csv"
    assert client.get(path).status_code == 302
    assert login_as(world.lead).get(path).status_code == 403  # not their cohort
    client.post("/logout")
    assert login_as(world.parents["p1"]).get(path).status_code == 403
    client.post("/logout")
    coordinator = login_as(world.coordinator)
    assert coordinator.get(f"/exports/cohorts/{world.ids['b']}/roster.pdf").status_code == 404
    assert coordinator.get("/exports/cohorts/999999/roster.csv").status_code == 404


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("families", ["Karim Alaoui", "Omar Tazi", "Leila Chraibi"]),
        ("enrolments", ["Yasmine Alaoui", "Ilyas Chraibi", "Lina Chraibi"]),
        ("waiting-lists", ["Ilyas Chraibi", "Lina Chraibi"]),
        ("certificates", ["Yasmine Alaoui", "Rania Tazi"]),
        ("payments", ["Yasmine Alaoui", "Adam Alaoui", "Ilyas Chraibi"]),
    ],
)
def test_office_exports_content_and_audit(app, world, login_as, kind, expected):
    client = login_as(world.coordinator)
    rows = _csv(client.get(f"/exports/{kind}.csv?term=2026-autumn"))
    text = str(rows)
    for name in expected:
        assert name in text, name
    assert "winter" not in text
    xlsx = _xlsx(client.get(f"/exports/{kind}.xlsx?term=2026-autumn&cohort={world.ids['b']}"))
    assert len(xlsx) >= 1
    entries = _audit(app, f"export.{kind.replace('-', '_')}")
    assert [entry.details for entry in entries] == [
        {"format": "csv", "rows": len(rows) - 1, "term": "2026-autumn"},
        {"format": "xlsx", "rows": len(xlsx) - 1, "cohort_id": world.ids["b"]},
    ]


def test_office_export_figures(world, login_as):
    client = login_as(world.coordinator)
    rows = _csv(client.get("/exports/enrolments.csv"))
    header = rows[0]
    by_child = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    adam = next(v for (name, course), v in by_child.items() if name == "Adam Alaoui"
                and course.startswith("Robotique"))  # fmt: skip
    assert (adam["Due (MAD)"], adam["Paid (MAD)"], adam["Balance (MAD)"]) == (
        "720.0",
        "200.0",
        "520.0",
    )
    waiting = _csv(client.get("/exports/waiting-lists.csv"))
    positions = {row[3]: row[2] for row in waiting[1:]}
    assert positions == {"Ilyas Chraibi": "1", "Lina Chraibi": ""}


def test_office_exports_are_for_coordinators(world, login_as, client):
    assert client.get("/exports/families.csv").status_code == 302
    assert login_as(world.lead).get("/exports/families.csv").status_code == 403
    client.post("/logout")
    assert login_as(world.parents["p1"]).get("/exports/payments.xlsx").status_code == 403
    client.post("/logout")
    coordinator = login_as(world.coordinator)
    assert coordinator.get("/exports/everything.csv").status_code == 404
    assert coordinator.get("/exports/families.ods").status_code == 404
    assert coordinator.get("/exports/families.csv?term=someday").status_code == 404


def test_exports_page_lists_what_each_role_may_download(world, login_as, client):
    page = login_as(world.lead).get("/exports/").get_data(as_text=True)
    assert f"/exports/cohorts/{world.ids['a']}/roster.csv" in page
    assert f"/exports/cohorts/{world.ids['b']}/roster.csv" not in page
    assert "/exports/families.csv" not in page
    client.post("/logout")
    page = (
        login_as(world.coordinator).get(f"/exports/?cohort={world.ids['b']}").get_data(as_text=True)
    )
    assert f"/exports/cohorts/{world.ids['b']}/roster.csv" in page
    assert f"/exports/cohorts/{world.ids['a']}/roster.csv" not in page
    assert f"/attendance/cohorts/{world.ids['b']}/attendance.xlsx" in page
    assert f"cohort={world.ids['b']}" in page
    client.post("/logout")
    assert login_as(world.parents["p1"]).get("/exports/").status_code == 403


def test_names_that_look_like_formulas_stay_text(app, world, login_as):
    with app.app_context():
        db.session.get(Child, world.ids["k2"]).first_name = '=HYPERLINK("http://x")'
        db.session.commit()
    client = login_as(world.coordinator)
    rows = _csv(client.get(f"/exports/cohorts/{world.ids['a']}/roster.csv"))
    assert rows[1][0].startswith("'=HYPERLINK")
    sheet = _xlsx(client.get(f"/exports/cohorts/{world.ids['a']}/roster.xlsx"))
    assert sheet[1][0].startswith("'=HYPERLINK")


def test_french_and_arabic_files(app, world, login_as):
    from lms.accounts.models import User

    with app.app_context():
        db.session.get(User, world.coordinator.id).locale = "ar"
        db.session.commit()
    client = login_as(world.coordinator)
    response = client.get(f"/exports/cohorts/{world.ids['a']}/roster.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.active.sheet_view.rightToLeft
    csv_text = client.get("/exports/families.csv").data.decode("utf-8-sig")
    assert ";" in csv_text.splitlines()[0]


def test_attendance_grid_exports_are_audited(app, world, login_as):
    client = login_as(world.coordinator)
    assert client.get(f"/attendance/cohorts/{world.ids['a']}/attendance.csv").status_code == 200
    [entry] = _audit(app, "export.attendance")
    assert (entry.subject_id, entry.details) == (world.ids["a"], {"format": "csv", "rows": 2})
