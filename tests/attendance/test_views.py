"""The attendance pages: happy paths, bad input (a clear message, never a 500), the roster
without JavaScript, two instructors on one roster, exports, the parents' pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.attendance.models import (
    AbsenceNotice,
    AttendanceChange,
    AttendanceMark,
    Checkout,
    FinalProjectMark,
)
from lms.attendance.notices import absence_emails_enabled, report_absence
from lms.attendance.projects import completed_final_projects
from lms.attendance.roll_call import check_out
from lms.courses.models import Cohort
from lms.extensions import db
from lms.families import hooks as family_hooks
from lms.families.hooks import TeachingPeriod
from lms.families.models import Child, MedicalAccessLog
from lms.notifications.models import OutboxMessage
from tests.attendance.conftest import FIRST_DAY, LAST_DAY, mark
from tests.conftest import login


def roster_url(term, number: int) -> str:
    return f"/attendance/lessons/{term.lesson_ids[number - 1]}"


def form_of(page: str) -> dict:
    """What the roster form would send as it stands: hidden fields and checked radios."""
    data = {}
    for name, value in re.findall(r'<input type="hidden" name="(seen-\d+)" value="([^"]*)"', page):
        data[name] = value
    for attrs in re.findall(r"<input type=\"radio\"([^>]*)>", page):
        if " checked" in attrs:
            name = re.search(r'name="([^"]+)"', attrs).group(1)
            data[name] = re.search(r'value="([^"]+)"', attrs).group(1)
    return data


def marks(app, term, number: int) -> dict[int, str]:
    with app.app_context():
        return {
            m.child_id: m.status
            for m in db.session.scalars(
                select(AttendanceMark).where(
                    AttendanceMark.lesson_id == term.lesson_ids[number - 1]
                )
            )
        }


@pytest.fixture
def lead(client, term):
    login(client, term.lead)
    return client


# ---------------------------------------------------------------------------------------------
# The roster


def test_the_roster_shows_each_child_in_one_row_with_what_matters(app, client, term):
    with app.app_context():
        report_absence(
            term.lesson(6),
            term.child(2),
            actor=term.get(term.other_parent),
            reason="Fièvre",
        )
        db.session.commit()
    login(client, term.assistant)
    page = client.get(roster_url(term, 6)).get_data(as_text=True)
    assert "Yasmine" in page
    assert "Adam" in page
    assert "Rania" in page
    # Full names, so that two children with one first name are told apart at a glance.
    roll = page.split("<main")[1].split("Going home")[0]
    assert "<bdi>Yasmine Alaoui</bdi>" in roll
    assert "<bdi>Adam Alaoui</bdi>" in roll
    assert f'href="/children/{term.child_ids[0]}/safeguarding"' in page
    # Adam and Rania have no photo consent: said quietly, not in a warning's colours.
    assert page.count('<span class="badge quiet">Do not photograph</span>') == 2
    assert "Absence reported by the parents" in page
    assert "Fièvre" in page
    # Rania's row is pre-set to excused.
    assert re.search(rf'id="m-{term.child_ids[2]}-excused"[^>]* checked', page)
    # Lesson 6 is next week: read-only for now.
    assert "30 minutes before" in page
    assert "disabled" in page


def test_everyone_present_then_the_exceptions_then_one_save(app, lead, term):
    page = lead.get(roster_url(term, 5)).get_data(as_text=True)
    assert "3</strong>" in page  # three to mark
    data = form_of(page)
    data["action"] = "all_present"
    prefilled = lead.post(roster_url(term, 5), data=data)
    assert prefilled.status_code == 200
    page = prefilled.get_data(as_text=True)
    assert "nothing is saved yet" in page
    assert marks(app, term, 5) == {}
    data = form_of(page)
    assert [data[f"status-{cid}"] for cid in term.child_ids] == ["present"] * 3
    data[f"status-{term.child_ids[1]}"] = "late"
    data[f"status-{term.child_ids[2]}"] = "absent"
    data["action"] = "save"
    response = lead.post(roster_url(term, 5), data=data)
    assert response.status_code == 302
    ids = term.child_ids
    assert marks(app, term, 5) == {ids[0]: "present", ids[1]: "late", ids[2]: "absent"}
    page = lead.get(response.headers["Location"]).get_data(as_text=True)
    assert "Attendance saved: 3 marks changed." in page
    assert "Last saved by Youssef Benali" in page
    # Rania's parents got the same-day e-mail.
    with app.app_context():
        sent = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert sent == [term.other_parent.email]


def test_everyone_present_keeps_the_absences_the_parents_reported(app, lead, term, frozen_now):
    with app.app_context():
        report_absence(term.lesson(6), term.child(0), actor=term.get(term.parent))
        db.session.commit()
        frozen_now.move_to(term.lesson(6).starts_at)
    page = lead.get(roster_url(term, 6)).get_data(as_text=True)
    data = form_of(page) | {"action": "all_present"}
    page = lead.post(roster_url(term, 6), data=data).get_data(as_text=True)
    data = form_of(page)
    assert data[f"status-{term.child_ids[0]}"] == "excused"
    assert data[f"status-{term.child_ids[1]}"] == "present"


def test_the_second_instructor_sees_that_the_first_saved(app, client, term):
    login(client, term.assistant)
    salma_form = form_of(client.get(roster_url(term, 5)).get_data(as_text=True))
    client.post("/logout")
    login(client, term.lead)
    youssef = form_of(client.get(roster_url(term, 5)).get_data(as_text=True))
    youssef |= {f"status-{cid}": "present" for cid in term.child_ids}
    assert client.post(roster_url(term, 5), data=youssef | {"action": "save"}).status_code == 302
    client.post("/logout")
    login(client, term.assistant)
    salma_form[f"status-{term.child_ids[1]}"] = "late"
    response = client.post(roster_url(term, 5), data=salma_form | {"action": "save"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Youssef Benali saved this roster at" in page
    assert "Your change to 1 mark was applied on top" in page
    ids = term.child_ids
    assert marks(app, term, 5) == {ids[0]: "present", ids[1]: "late", ids[2]: "present"}
    history = client.get(f"{roster_url(term, 5)}/history").get_data(as_text=True)
    assert "Youssef Benali" in history
    assert "Salma Idrissi" in history


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status-{0}": "here", "seen-{0}": "0:"}, "Choose present, late, absent or excused."),
        ({"status-{0}": "present", "seen-{0}": "x:present"}, "The roster was not sent correctly"),
        ({"status-{0}": "present", "seen-{0}": "1:maybe"}, "The roster was not sent correctly"),
        ({"status-999999": "present", "seen-999999": "0:"}, "not enrolled in the cohort"),
        ({"status-abc": "present", "seen-abc": "0:"}, "The roster was not sent correctly"),
    ],
)
def test_bad_rosters_get_a_clear_message(app, lead, term, data, message):
    data = {k.format(term.child_ids[0]): v for k, v in data.items()} | {"action": "save"}
    response = lead.post(roster_url(term, 5), data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert marks(app, term, 5) == {}


def test_a_future_lesson_cannot_be_marked_through_the_page(app, lead, term):
    data = {f"status-{term.child_ids[0]}": "present", f"seen-{term.child_ids[0]}": "0:"}
    response = lead.post(roster_url(term, 7), data=data | {"action": "save"})
    assert response.status_code == 422
    assert "30 minutes before the lesson" in response.get_data(as_text=True)
    assert marks(app, term, 7) == {}


def test_a_coordinator_corrects_an_old_lesson_with_a_reason(app, client, term, frozen_now):
    with app.app_context():
        mark(term, 1, {0: "absent"})
        db.session.commit()
    login(client, term.lead)
    page = client.get(roster_url(term, 1)).get_data(as_text=True)
    assert "can no longer be changed by instructors" in page
    client.post("/logout")
    login(client, term.coordinator)
    page = client.get(roster_url(term, 1)).get_data(as_text=True)
    assert "Why are you correcting these marks?" in page
    data = form_of(page) | {f"status-{term.child_ids[0]}": "present", "action": "save"}
    response = client.post(roster_url(term, 1), data=data)
    assert response.status_code == 422
    assert "Say why you correct" in response.get_data(as_text=True)
    response = client.post(roster_url(term, 1), data=data | {"reason": "Erreur de saisie"})
    assert response.status_code == 302
    assert marks(app, term, 1)[term.child_ids[0]] == "present"
    history = client.get(f"{roster_url(term, 1)}/history").get_data(as_text=True)
    assert "Coordinator&#39;s correction: <bdi>Erreur de saisie</bdi>" in history


def test_a_refused_roll_call_shows_the_roster_again_with_what_was_chosen(
    app, client, term, frozen_now
):
    # The roll call service refuses after the form validated: the app shows the roster again
    # (422) with the reason on its field or on top, the marks chosen and the reason typed.
    with app.app_context():
        mark(term, 1, {0: "absent"})
        db.session.commit()
    login(client, term.coordinator)
    page = client.get(roster_url(term, 1)).get_data(as_text=True)
    yasmine = term.child_ids[0]
    data = form_of(page) | {f"status-{yasmine}": "present", "action": "save"}
    response = client.post(roster_url(term, 1), data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="reason-error">Say why you correct' in page
    assert f'id="m-{yasmine}-present" name="status-{yasmine}" value="present" checked' in page
    stranger = {"status-999999": "present", "seen-999999": "0:", "reason": "Erreur de saisie"}
    response = client.post(roster_url(term, 1), data=data | stranger)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This child is not enrolled in the cohort on the lesson&#39;s date." in page
    assert 'value="Erreur de saisie"' in page
    assert f'id="m-{yasmine}-present" name="status-{yasmine}" value="present" checked' in page
    assert marks(app, term, 1) == {yasmine: "absent"}
    with app.app_context():
        assert len(db.session.scalars(select(AttendanceChange)).all()) == 1


def test_the_roster_in_french_and_arabic(app, client, term):
    login(client, term.lead)
    client.post("/language", data={"language": "fr"})
    page = client.get(roster_url(term, 5)).get_data(as_text=True)
    for text in ("Tout le monde est présent", "Présent", "Retard", "Absent", "Excusé"):
        assert text in page
    client.post("/language", data={"language": "ar"})
    page = client.get(roster_url(term, 5)).get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert "ياسمين" in page  # the Arabic first name, for Arabic readers
    for text in ("حضور", "تأخر", "غياب"):
        assert text in page


def test_the_allergy_badge_opens_the_access_logged_safeguarding_card(app, client, term):
    periods = {(term.lead.id, term.child_ids[0]): [TeachingPeriod(FIRST_DAY, LAST_DAY)]}

    def provider(instructor, child):  # stands in for the enrolment domain
        return periods.get((instructor.id, child.id), [])

    family_hooks.teaching_periods.register(provider)
    try:
        login(client, term.lead)
        page = client.get(roster_url(term, 5)).get_data(as_text=True)
        link = re.search(r'href="(/children/\d+/safeguarding)"', page).group(1)
        card = client.get(link)
        assert card.status_code == 200
        assert "Arachides" in card.get_data(as_text=True)
    finally:
        family_hooks.teaching_periods.unregister(provider)
    with app.app_context():
        logged = db.session.scalars(select(MedicalAccessLog)).all()
    assert [(e.child_id, e.staff_id) for e in logged] == [(term.child_ids[0], term.lead.id)]


# ---------------------------------------------------------------------------------------------
# Check-out


def checkout_url(term, number, index):
    return f"{roster_url(term, number)}/children/{term.child_ids[index]}/checkout"


def test_check_out_from_the_roster(app, lead, term):
    with app.app_context():
        mark(term, 5, {0: "present", 1: "present", 2: "absent"})
        db.session.commit()
    page = lead.get(roster_url(term, 5)).get_data(as_text=True)
    assert "2 children not collected yet." in page
    # The time field's rule is said on the page, not only in a tooltip.
    assert "Leave the time empty to record the time you press the button." in page
    assert "Latifa Alaoui (Grand-mère)" in page
    assert "Leaves alone (allowed by the parents)" in page  # Adam's list only
    assert page.count('value="alone"') == 1
    response = lead.post(
        checkout_url(term, 5, 0), data={"collector": f"pickup-{term.pickup_id}", "at": "14:55"}
    )
    assert response.status_code == 302
    page = lead.get(response.headers["Location"]).get_data(as_text=True)
    assert "Yasmine is checked out." in page
    assert "1 child not collected yet." in page
    assert "<bdi>Latifa Alaoui</bdi>" in page
    assert "14:55" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"collector": "alone"}, "The parents have not allowed Yasmine to leave alone."),
        ({"collector": "pickup-424242"}, "This person is not on Yasmine&#39;s list"),
        ({"collector": ""}, "Choose who collected the child."),
        ({"collector": "guardian-1", "at": "25:99"}, "Not a valid time value."),
    ],
)
def test_bad_check_outs_get_a_clear_message(app, lead, term, data, message):
    with app.app_context():
        mark(term, 5, {0: "present"})
        db.session.commit()
    response = lead.post(checkout_url(term, 5, 0), data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Checkout)).all() == []


def test_check_out_of_a_child_not_on_the_roster_is_404(app, lead, term):
    response = lead.post(
        f"{roster_url(term, 5)}/children/999999/checkout", data={"collector": "alone"}
    )
    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------
# Instructor home, history, cohort list


def test_the_instructor_home_puts_todays_lessons_first_with_the_count_to_mark(app, lead, term):
    page = lead.get("/instructor").get_data(as_text=True)
    today = page.index('id="today-lessons"')
    week = page.index("My lessons in the next 7 days")
    assert today < page.index(roster_url(term, 5)) < week
    assert "3 children to mark" in page
    recent = page[page.index('id="recent-lessons"') : page.index("My lessons in the next 7 days")]
    # Weekly lessons, today is lesson 5's day: only lesson 4 can still be changed.
    shown = [f'href="{roster_url(term, n)}"' in recent for n in (1, 2, 3, 4)]
    assert shown == [False, False, False, True]
    assert "3 children to mark" in recent
    with app.app_context():
        mark(term, 5, {0: "present", 1: "present"})
        db.session.commit()
    page = lead.get("/instructor").get_data(as_text=True)
    assert "1 child to mark" in page
    with app.app_context():
        mark(term, 5, {2: "present"})
        db.session.commit()
    assert "Roll call done" in lead.get("/instructor").get_data(as_text=True)
    with app.app_context():
        mark(term, 4, {0: "present", 1: "absent", 2: "late"})
        db.session.commit()
    page = lead.get("/instructor").get_data(as_text=True)
    recent = page[page.index('id="recent-lessons"') : page.index("My lessons in the next 7 days")]
    assert f'href="{roster_url(term, 4)}"' in recent  # still there, to correct a mark
    assert "Roll call done" in recent
    assert "to mark" not in recent


def test_the_cohort_list_shows_ones_own_cohorts(app, client, term):
    login(client, term.outsider)
    page = client.get("/attendance/cohorts").get_data(as_text=True)
    assert f"/attendance/cohorts/{term.other_cohort_id}" in page
    assert f'/attendance/cohorts/{term.cohort_id}"' not in page
    client.post("/logout")
    login(client, term.coordinator)
    page = client.get("/attendance/cohorts").get_data(as_text=True)
    assert f'/attendance/cohorts/{term.cohort_id}"' in page


# ---------------------------------------------------------------------------------------------
# The grid and its exports


@pytest.fixture
def marked(app, term):
    with app.app_context():
        child = db.session.get(Child, term.child_ids[2])
        child.first_name, child.last_name = "=HYPERLINK(1)", "Tazi"
        mark(term, 1, {0: "present", 1: "late", 2: "absent"})
        mark(term, 2, {0: "excused", 1: "present", 2: "absent"})
        db.session.commit()
    return term


def test_the_grid_shows_every_child_and_lesson_with_rates(app, client, marked):
    term = marked
    login(client, term.coordinator)
    page = client.get(f"/attendance/cohorts/{term.cohort_id}").get_data(as_text=True)
    for lesson_id in term.lesson_ids:
        assert f'href="/attendance/lessons/{lesson_id}"' in page
    assert "Yasmine Alaoui" in page
    assert "Adam Alaoui" in page
    assert page.count('class="cell cell-attended"') == 3
    assert page.count('class="cell cell-absent"') == 2
    assert page.count('class="cell cell-excused"') == 1
    assert "Threshold out of reach" in page


def test_csv_has_a_bom_arabic_names_and_the_figures(app, client, marked):
    term = marked
    login(client, term.lead)
    response = client.get(f"/attendance/cohorts/{term.cohort_id}/attendance.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=","))
    header, *children, footer = rows
    assert header[:3] == ["Child", "Name in Arabic", "Lesson 1, 16/09/2026"]
    by_name = {row[0]: row for row in children}
    yasmine = by_name["Yasmine Alaoui"]
    assert yasmine[1] == "ياسمين العلوي"
    assert yasmine[2:4] == ["Present", "Excused"]
    assert yasmine[4] == "Not marked"  # lesson 3 is over and was never marked
    assert yasmine[-6:] == ["1", "3", "1", "33", "80", "Yes"]  # 8 of 10 at best
    assert "'=HYPERLINK(1) Tazi" in by_name  # never a formula
    assert footer[0] == "Rate of the lesson (%)"
    assert footer[2:4] == ["66", "50"]  # 2 of 3, rounded down like every rate shown


def test_csv_in_french_uses_semicolons(app, client, marked):
    login(client, marked.lead)
    client.post("/language", data={"language": "fr"})
    body = client.get(f"/attendance/cohorts/{marked.cohort_id}/attendance.csv").get_data()
    text = body.decode("utf-8-sig")
    assert text.startswith("Enfant;Nom en lettres arabes;")
    assert "Présent" in text


def test_xlsx_reads_back_with_arabic_names(app, client, marked):
    term = marked
    login(client, term.lead)
    client.post("/language", data={"language": "ar"})
    response = client.get(f"/attendance/cohorts/{term.cohort_id}/attendance.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.sheet_view.rightToLeft
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    names = {row[0]: row for row in rows[1:-1]}
    assert names["Yasmine Alaoui"][1] == "ياسمين العلوي"
    assert names["Adam Alaoui"][1] == "آدم العلوي"
    assert names["Yasmine Alaoui"][2] == "حضور"
    tazi = names["'=HYPERLINK(1) Tazi"]
    assert tazi[0].startswith("'")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_final_projects_are_ticked_on_the_grid(app, client, make_term):
    term = make_term(final_project=True)
    login(client, term.lead)
    page = client.get(f"/attendance/cohorts/{term.cohort_id}").get_data(as_text=True)
    assert "Final project completed" in page
    url = f"/attendance/cohorts/{term.cohort_id}/final-project"
    response = client.post(
        url, data={"completed": [str(term.child_ids[0]), str(term.child_ids[2])]}
    )
    assert response.status_code == 302
    with app.app_context():
        done = completed_final_projects([term.cohort_id])
        assert done == {(term.cohort_id, term.child_ids[0]), (term.cohort_id, term.child_ids[2])}
    client.post(url, data={"completed": [str(term.child_ids[0])]})
    with app.app_context():
        projects = {m.child_id: m.completed for m in db.session.scalars(select(FinalProjectMark))}
    assert projects == {term.child_ids[0]: True, term.child_ids[2]: False}
    page = client.get(client.post(url, data={"completed": ["abc"]}).headers["Location"])
    assert "The list was not sent correctly" in page.get_data(as_text=True)
    grid = f"/attendance/cohorts/{term.cohort_id}#final-project"  # the form's `next`
    response = client.post(url, data={"completed": ["999999"], "next": grid})
    assert response.status_code == 303
    assert response.headers["Location"] == grid
    page = client.get(response.headers["Location"])
    assert "This child is not enrolled in the cohort." in page.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(FinalProjectMark)).all()) == 2


def test_a_refused_final_project_save_goes_back_to_the_grid_with_the_reason(app, client, make_term):
    # A button POST refused by the service: the reason is flashed and the browser goes back
    # where it came from (the referrer here, as no `next` is sent), 303; nothing is stored.
    term = make_term(final_project=True)
    login(client, term.lead)
    grid = f"http://localhost/attendance/cohorts/{term.cohort_id}"
    response = client.post(
        f"/attendance/cohorts/{term.cohort_id}/final-project",
        data={"completed": [str(term.child_ids[0]), "999999"]},
        headers={"Referer": grid},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/attendance/cohorts/{term.cohort_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This child is not enrolled in the cohort." in page
    with app.app_context():
        assert db.session.scalars(select(FinalProjectMark)).all() == []


def test_no_final_project_for_courses_without_one(app, lead, term):
    url = f"/attendance/cohorts/{term.cohort_id}/final-project"
    grid = f"/attendance/cohorts/{term.cohort_id}"
    response = lead.post(url, data={"completed": [], "next": grid})
    assert response.status_code == 303
    page = lead.get(response.headers["Location"])
    assert "This course has no final project." in page.get_data(as_text=True)


# ---------------------------------------------------------------------------------------------
# Parents


def test_parents_see_each_lesson_the_rate_and_the_threshold(app, client, term):
    with app.app_context():
        for number in (1, 2, 3, 4):
            mark(term, number, {0: "present"})
        mark(term, 2, {0: "late"})
        db.session.commit()
    login(client, term.parent)
    page = client.get(f"/attendance/children/{term.child_ids[0]}").get_data(as_text=True)
    assert "Attendance of Yasmine" in page
    assert "100%" in page
    assert "4 lessons attended out of 4" in page
    assert "Yasmine can still miss 2 of the remaining lessons and reach the 80%" in page
    assert page.count("Report an absence") == 6  # lessons 6 to 11
    family = client.get("/attendance/family").get_data(as_text=True)
    assert "Yasmine" in family
    assert "Adam" in family
    assert "Rania" not in family


def test_a_parent_reports_an_absence(app, client, term):
    login(client, term.parent)
    url = f"/attendance/children/{term.child_ids[0]}/lessons/{term.lesson_ids[7]}/absence"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"reason": "x" * 301})
    assert response.status_code == 422
    assert "At most 300 characters." in response.get_data(as_text=True)
    response = client.post(url, data={"reason": "Mariage familial"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "the instructors will know Yasmine is absent" in page
    assert "Absence reported" in page
    response = client.post(url, data={"reason": ""})
    assert response.status_code == 422
    assert "already been reported" in response.get_data(as_text=True)
    with app.app_context():
        notice = db.session.scalars(select(AbsenceNotice)).one()
        assert notice.reason == "Mariage familial"


def test_no_absence_report_for_a_past_lesson_or_another_cohort(app, client, term):
    login(client, term.parent)
    past = f"/attendance/children/{term.child_ids[0]}/lessons/{term.lesson_ids[2]}/absence"
    response = client.post(past, data={})
    assert response.status_code == 422
    assert "already started" in response.get_data(as_text=True)
    with app.app_context():
        other_lesson = db.session.get(Cohort, term.other_cohort_id).lessons[-1].id
    other = f"/attendance/children/{term.child_ids[0]}/lessons/{other_lesson}/absence"
    assert client.get(other).status_code == 404


def test_the_absence_email_setting(app, client, term):
    login(client, term.parent)
    page = client.get("/attendance/emails").get_data(as_text=True)
    assert re.search(r'value="yes"[^>]*checked|checked[^>]*value="yes"', page)
    assert client.post("/attendance/emails", data={"enabled": "maybe"}).status_code == 422
    assert client.post("/attendance/emails", data={"enabled": "no"}).status_code == 302
    with app.app_context():
        assert not absence_emails_enabled(term.get(term.parent))
    assert "You do not receive e-mails" in client.get("/attendance/family").get_data(as_text=True)


def test_a_coordinator_reads_a_childs_attendance_but_reports_nothing(app, client, term):
    login(client, term.coordinator)
    page = client.get(f"/attendance/children/{term.child_ids[0]}").get_data(as_text=True)
    assert "Attendance of Yasmine" in page
    assert "Report an absence" not in page


def test_pages_never_cache(app, lead, term):
    assert lead.get(roster_url(term, 5)).headers["Cache-Control"] == "no-store"


def test_the_parent_home_links_to_each_childs_attendance(app, client, term):
    login(client, term.parent)
    page = client.get("/parent").get_data(as_text=True)
    assert f"/attendance/children/{term.child_ids[0]}" in page
    assert f"/attendance/children/{term.child_ids[2]}" not in page


def test_an_erased_childs_marks_stay_anonymous(app, client, term):
    from lms.families.data_rights import _erase_child, child_erasure_preview

    with app.app_context():
        mark(term, 5, {0: "present"})
        check_out(
            term.lesson(5),
            term.child(0),
            actor=term.get(term.lead),
            collector=f"pickup-{term.pickup_id}",
        )
        report_absence(term.lesson(8), term.child(0), actor=term.get(term.parent), reason="Voyage")
        preview = child_erasure_preview(term.child(0))
        assert any("Attendance marks stay" in str(line) for line in preview.from_other_domains)
        _erase_child(term.child(0))
        db.session.commit()
        assert db.session.scalars(select(AbsenceNotice.reason)).all() == [None]
        assert db.session.scalars(select(Checkout.collector_name)).all() == [None]
        assert len(db.session.scalars(select(AttendanceMark)).all()) == 2


def test_the_family_export_includes_attendance(app, client, term):
    from lms.families.data_rights import export_family

    with app.app_context():
        mark(term, 1, {0: "present"})
        data = export_family(term.get(term.parent))
    rows = data["attendance"]
    assert {"child": "Yasmine", "record": "mark", "value": "present"}.items() <= rows[0].items()
    assert timedelta  # imported for other tests
