"""Coordinator pages: happy paths, refusals shown on the form (422, never 500), guards."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.courses.models import Closure, Cohort, CohortStatus, Course, Lesson, LessonStatus, Room
from lms.courses.scheduling import cancel_lesson, create_closure
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.roles import Role


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def as_coordinator(client, login_as, coordinator):
    login_as(coordinator)
    return client


# ---------------------------------------------------------------------------------------------
# Courses


def course_form(**changes) -> dict:
    data = {
        "title_fr": "Arduino",
        "summary_fr": "Capteurs, moteurs et LED.",
        "title_ar": "أردوينو",
        "summary_ar": "",
        "title_en": "",
        "summary_en": "",
        "track": "robotics",
        "level": "advanced",
        "min_age": "12",
        "max_age": "14",
        "price": "1000",
        "attendance_threshold": "80",
        "published": "y",
    }
    data.update(changes)
    return data


def test_create_and_edit_a_course(as_coordinator, staff, course):
    response = as_coordinator.post(
        "/coordinator/courses/new",
        data=course_form(prerequisites=[str(course.id)], requires_final_project="y"),
    )
    assert response.status_code == 302
    arduino = db.session.scalar(select(Course).where(Course.title_fr == "Arduino"))
    assert arduino.price_centimes == 100_000
    assert arduino.prerequisites == [course]
    assert arduino.requires_final_project
    assert arduino.published
    assert "Le cours Arduino est enregistré." in text(as_coordinator.get("/coordinator/courses"))

    edit = f"/coordinator/courses/{arduino.id}/edit"
    form_page = text(as_coordinator.get(edit))
    assert 'value="Arduino"' in form_page
    assert 'value="1000.00"' in form_page
    response = as_coordinator.post(edit, data=course_form(price="0", published=""))
    assert response.status_code == 302
    db.session.expire_all()
    assert arduino.price_centimes == 0
    assert not arduino.published
    assert arduino.prerequisites == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_age": "5"}, "Le programme accueille les enfants de 7 à 14 ans."),
        ({"min_age": "12", "max_age": "10"}, "L&#39;âge maximum ne peut pas être inférieur"),
        ({"min_age": "douze"}, "N&#39;est pas un entier valide."),
        ({"price": "-5"}, "Entre 0 et 100000."),
        ({"price": "beaucoup"}, "Not a valid decimal value"),
        ({"title_fr": ""}, "Ce champ est obligatoire."),
        ({"title_fr": "Robotique LEGO"}, "Un autre cours porte déjà ce titre."),
        ({"track": "cuisine"}, "Not a valid choice"),
    ],
)
def test_course_form_refusals(as_coordinator, course, changes, message):
    db.session.commit()
    response = as_coordinator.post("/coordinator/courses/new", data=course_form(**changes))
    assert response.status_code == 422
    page = text(response)
    if message.startswith("Not a valid"):
        assert 'class="error"' in page  # WTForms' own message, translated by WTForms
    else:
        assert message in page
    assert db.session.scalar(select(func.count()).select_from(Course)) == 1


def test_course_list_filters_and_pages(as_coordinator, make_course):
    for n in range(30):
        make_course(title_fr=f"Atelier {n:02d}", track="coding" if n % 2 else "robotics")
    db.session.commit()
    page = text(as_coordinator.get("/coordinator/courses"))
    assert "Atelier 00" in page
    assert "Atelier 29" not in page
    assert "Page 1 sur 2" in page or "Page 1 of 2" in page
    assert "Atelier 29" in text(as_coordinator.get("/coordinator/courses?page=2"))
    only_coding = text(as_coordinator.get("/coordinator/courses?track=coding&q=atelier 0"))
    assert "Atelier 01" in only_coding
    assert "Atelier 02" not in only_coding
    assert "Atelier 11" not in only_coding
    unpublished = text(as_coordinator.get("/coordinator/courses?published=no"))
    assert "Atelier" not in unpublished


# ---------------------------------------------------------------------------------------------
# Rooms and closures


def test_rooms(as_coordinator, staff):
    response = as_coordinator.post(
        "/coordinator/rooms/new",
        data={"name": "Salle Ada Lovelace", "site": "Technopark de Tanger", "capacity": "14"},
    )
    assert response.status_code == 302
    room = db.session.scalar(select(Room))
    assert (room.name, room.capacity) == ("Salle Ada Lovelace", 14)
    assert "Technopark de Tanger" in text(as_coordinator.get("/coordinator/rooms/new"))
    again = as_coordinator.post(
        "/coordinator/rooms/new",
        data={"name": "Salle Ada Lovelace", "site": "Technopark de Tanger", "capacity": "10"},
    )
    assert again.status_code == 422
    assert "Ce site a déjà une salle de ce nom." in text(again)
    response = as_coordinator.post(
        f"/coordinator/rooms/{room.id}/edit",
        data={"name": "Salle A", "site": "Technopark de Tanger", "capacity": "0"},
    )
    assert response.status_code == 422
    assert "Entre 1 et 500." in text(response)
    assert "Salle Ada Lovelace" in text(as_coordinator.get("/coordinator/rooms?q=ada"))
    assert "Salle Ada Lovelace" not in text(as_coordinator.get("/coordinator/rooms?q=xyz"))


def test_closures(as_coordinator, cohort):
    db.session.commit()
    response = as_coordinator.post(
        "/coordinator/closures/new",
        data={"starts_on": "2026-11-18", "ends_on": "", "label": "Fête de l'Indépendance"},
        follow_redirects=True,
    )
    page = text(response)
    assert "La fermeture est enregistrée." in page
    assert "1 séance déjà prévue" in page or "séances déjà prévues" in page
    closure = db.session.scalar(select(Closure))
    assert closure.ends_on == date(2026, 11, 18)
    assert "Fête de l&#39;Indépendance" in text(as_coordinator.get("/coordinator/closures"))
    assert "Fête de l&#39;Indépendance" not in text(
        as_coordinator.get("/coordinator/closures?when=past")
    )
    bad = as_coordinator.post(
        "/coordinator/closures/new",
        data={"starts_on": "2026-11-18", "ends_on": "2026-11-01", "label": "Erreur"},
    )
    assert bad.status_code == 422
    assert "Le dernier jour ne peut pas précéder le premier." in text(bad)
    nonsense = as_coordinator.post(
        "/coordinator/closures/new", data={"starts_on": "18/13/2026", "label": "Erreur"}
    )
    assert nonsense.status_code == 422
    response = as_coordinator.post(f"/coordinator/closures/{closure.id}/delete")
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Closure)) == 0


# ---------------------------------------------------------------------------------------------
# Cohorts


def cohort_form(staff, course, room, **changes) -> dict:
    data = {
        "course_id": str(course.id),
        "room_id": str(room.id),
        "lead_instructor_id": str(staff.lead.id),
        "assistant_ids": [str(staff.assistant.id)],
        "capacity": "12",
        "language": "fr",
        "start_date": "2026-10-05",
        "end_date": "2026-11-30",
        "weekdays": ["2", "5"],
        "start_time": "14:30",
        "duration_minutes": "90",
        "enrolment_opens_on": "2026-09-07",
        "enrolment_closes_on": "2026-10-04",
        "status": "open",
    }
    data.update(changes)
    return data


def test_create_a_cohort(as_coordinator, staff, course, room):
    db.session.commit()
    response = as_coordinator.post(
        "/coordinator/cohorts/new", data=cohort_form(staff, course, room)
    )
    assert response.status_code == 302
    cohort = db.session.scalar(select(Cohort))
    assert response.headers["Location"].endswith(f"/coordinator/cohorts/{cohort.id}")
    assert cohort.weekdays == "25"
    assert len(cohort.lessons) == 16
    assert cohort.assistants == [staff.assistant]
    assert cohort.enrolment_last_day == date(2026, 10, 4)
    page = text(as_coordinator.get(response.headers["Location"]))
    assert "La cohorte est enregistrée avec 16 séances." in page
    assert "mercredi et samedi" in page
    assert "14:30–16:00" in page
    # The new cohort is in the public catalogue.
    assert "Robotique LEGO" in text(as_coordinator.get("/catalogue"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"capacity": "20"}, "Salle Ada Lovelace accueille 14 enfants"),
        ({"end_date": "2026-10-01"}, "La cohorte ne peut pas finir avant de commencer."),
        ({"start_date": "2026-09-01"}, "La date de début est passée."),
        ({"weekdays": []}, "Choisissez au moins un jour de la semaine."),
        ({"start_date": "2026-10-05", "end_date": "2026-10-06"}, "aucune séance"),
        ({"start_time": "25:00"}, "Not a valid time"),
        ({"start_time": ""}, "Saisissez une heure, par exemple 14:30."),
        ({"start_date": "pas une date"}, "Not a valid date"),
        ({"lead_instructor_id": "999999"}, "Not a valid choice"),
        ({"assistant_ids": []}, None),  # valid: no assistant
    ],
)
def test_cohort_form_refusals(as_coordinator, staff, course, room, changes, message):
    db.session.commit()
    data = cohort_form(staff, course, room, **changes)
    if changes == {"start_date": "2026-10-05", "end_date": "2026-10-06"}:
        data["weekdays"] = ["2"]
    response = as_coordinator.post("/coordinator/cohorts/new", data=data)
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 422
    page = text(response)
    if message.startswith("Not a valid"):
        assert 'class="error"' in page
    else:
        assert message in page


def test_double_booking_is_explained_on_the_form(as_coordinator, staff, course, room, cohort):
    db.session.commit()
    response = as_coordinator.post(
        "/coordinator/cohorts/new",
        data=cohort_form(staff, course, room, lead_instructor_id=str(staff.assistant.id),
                         assistant_ids=[], start_time="15:00"),
    )  # fmt: skip
    assert response.status_code == 422
    assert "Salle Ada Lovelace est déjà réservée le mercredi 7 octobre 2026 à 14:30" in text(
        response
    )


def test_edit_a_cohort_and_change_its_status(as_coordinator, staff, make_cohort, other_room):
    cohort = make_cohort(status=CohortStatus.DRAFT)
    db.session.commit()
    edit = f"/coordinator/cohorts/{cohort.id}/edit"
    page = text(as_coordinator.get(edit))
    assert 'value="2026-10-05"' in page
    data = cohort_form(staff, cohort.course, other_room, weekdays=["3"], status="draft")
    response = as_coordinator.post(edit, data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert cohort.room == other_room
    assert {lesson.local_start.weekday() for lesson in cohort.lessons} == {3}

    status = f"/coordinator/cohorts/{cohort.id}/status"
    assert as_coordinator.post(status, data={"status": "open"}).status_code == 302
    db.session.expire_all()
    assert cohort.status == CohortStatus.OPEN
    page = text(as_coordinator.post(status, data={"status": "completed"}, follow_redirects=True))
    assert "Une cohorte est terminée après sa dernière séance." in page
    assert as_coordinator.post(status, data={"status": "nonsense"}).status_code == 303
    assert as_coordinator.post(status, data={}).status_code == 400
    # Once open, the pattern is fixed.
    response = as_coordinator.post(edit, data={**data, "weekdays": ["4"]})
    assert response.status_code == 422
    assert "Les familles voient déjà cet emploi du temps" in text(response)


def test_a_refused_cohort_form_shows_the_reason_on_its_field_with_what_was_typed(
    as_coordinator, staff, course, room
):
    db.session.commit()
    data = cohort_form(staff, course, room, capacity="20", start_time="10:15")
    response = as_coordinator.post("/coordinator/cohorts/new", data=data)
    assert response.status_code == 422
    page = text(response)
    # The service's reason sits on the capacity field, which keeps what was typed.
    error = re.search(r'<p class="error" id="capacity-error">([^<]*)</p>', page)
    assert error is not None
    assert "Salle Ada Lovelace accueille 14 enfants" in error.group(1)
    assert re.search(r'<input[^>]*id="capacity"[^>]*value="20"', page)
    assert 'value="10:15"' in page
    assert 'value="2026-10-05"' in page
    # Nothing was stored.
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Cohort)) == 0
    assert db.session.scalar(select(func.count()).select_from(Lesson)) == 0


def test_a_refused_status_button_flashes_the_reason_and_goes_back(as_coordinator, cohort):
    db.session.commit()
    status = f"/coordinator/cohorts/{cohort.id}/status"
    # Lessons are still to come: "completed" is refused, back to the `next` of the form...
    response = as_coordinator.post(
        status, data={"status": "completed", "next": "/coordinator/cohorts?status=open"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/coordinator/cohorts?status=open"
    page = text(as_coordinator.get(response.headers["Location"]))
    assert "Une cohorte est terminée après sa dernière séance." in page
    # ... or, without one, to the page the button was on.
    back = f"/coordinator/cohorts/{cohort.id}"
    response = as_coordinator.post(
        status, data={"status": "completed"}, headers={"Referer": f"http://localhost{back}"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == back
    db.session.expire_all()
    assert cohort.status == CohortStatus.OPEN
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_cohort_list_filters(as_coordinator, staff, make_cohort, make_course, other_room):
    lego = make_cohort()
    scratch_course = make_course(title_fr="Scratch Junior", track="coding", min_age=7, max_age=9)
    scratch = make_cohort(course=scratch_course, weekdays=[5], status=CohortStatus.DRAFT)
    db.session.commit()
    everything = text(as_coordinator.get("/coordinator/cohorts"))
    assert f"/coordinator/cohorts/{lego.id}" in everything
    assert f"/coordinator/cohorts/{scratch.id}" in everything
    drafts = text(as_coordinator.get("/coordinator/cohorts?status=draft"))
    assert f'/coordinator/cohorts/{lego.id}"' not in drafts
    assert f'/coordinator/cohorts/{scratch.id}"' in drafts
    coding = text(as_coordinator.get("/coordinator/cohorts?track=coding"))
    assert f'/coordinator/cohorts/{lego.id}"' not in coding
    by_course = text(as_coordinator.get(f"/coordinator/cohorts?course={lego.course_id}"))
    assert f'/coordinator/cohorts/{scratch.id}"' not in by_course
    by_room = text(as_coordinator.get(f"/coordinator/cohorts?room={other_room.id}"))
    assert "Aucune cohorte ne correspond." in by_room
    assert as_coordinator.get("/coordinator/cohorts?course=abc&room=x&page=zz").status_code in (
        200,
        404,
    )


# ---------------------------------------------------------------------------------------------
# Lessons


def test_move_cancel_and_make_up_through_the_pages(as_coordinator, staff, cohort, families, parent):
    families.recipients[cohort.id] = [db.session.get(User, parent.id)]
    db.session.commit()
    lesson = cohort.lessons[0]
    page = text(as_coordinator.get(f"/coordinator/lessons/{lesson.id}/move"))
    assert 'value="2026-10-07"' in page
    assert 'value="14:30"' in page
    response = as_coordinator.post(
        f"/coordinator/lessons/{lesson.id}/move",
        data={"date": "2026-10-10", "start_time": "10:00", "duration_minutes": "90",
              "room_id": str(cohort.room_id), "note": "Salon au Technopark mercredi"},
    )  # fmt: skip
    assert response.status_code == 302
    response = as_coordinator.post(
        f"/coordinator/lessons/{cohort.lessons[1].id}/cancel", data={"note": "Panne"}
    )
    assert response.status_code == 302
    response = as_coordinator.post(
        f"/coordinator/cohorts/{cohort.id}/makeup",
        data={"date": "2026-12-05", "start_time": "10:00", "duration_minutes": "90",
              "room_id": str(cohort.room_id), "note": ""},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert cohort.lessons[0].local_start.date() == date(2026, 10, 10)
    assert cohort.lessons[0].revision == 1
    statuses = {lesson.number: lesson.status for lesson in cohort.lessons}
    assert statuses[2] == LessonStatus.CANCELLED
    assert cohort.lessons[-1].is_makeup
    assert cohort.lessons[-1].number == 9
    templates = list(db.session.scalars(select(OutboxMessage.template).order_by(OutboxMessage.id)))
    assert templates == ["lesson_moved", "lesson_cancelled", "lesson_added"]
    page = text(as_coordinator.get(f"/coordinator/cohorts/{cohort.id}"))
    assert "Rattrapage" in page
    assert "Annulée" in page


def test_lesson_refusals_on_the_form(as_coordinator, staff, cohort):
    create_closure(actor=staff.coordinator, starts_on=date(2026, 10, 10), label="Fermé")
    db.session.commit()
    lesson = cohort.lessons[0]
    response = as_coordinator.post(
        f"/coordinator/lessons/{lesson.id}/move",
        data={"date": "2026-10-10", "start_time": "10:00", "duration_minutes": "90",
              "room_id": str(cohort.room_id)},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Le lab est fermé le samedi 10 octobre 2026 (Fermé)." in text(response)
    assert as_coordinator.get("/coordinator/lessons/999999/move").status_code == 404


def test_lesson_shape_and_cancel_refusals_on_the_form(as_coordinator, staff, cohort):
    # Apart from the test above: its client shares the test's `g`, which holds that refusal.
    db.session.commit()
    lesson = cohort.lessons[0]
    response = as_coordinator.post(
        f"/coordinator/cohorts/{cohort.id}/makeup",
        data={"date": "", "start_time": "", "duration_minutes": "", "room_id": "0"},
    )
    assert response.status_code == 422
    cancel_lesson(lesson, actor=staff.coordinator)
    db.session.commit()
    response = as_coordinator.post(f"/coordinator/lessons/{lesson.id}/cancel", data={})
    assert response.status_code == 422
    assert "Cette séance est annulée" in text(response)


# ---------------------------------------------------------------------------------------------
# Timetable and homes


def test_timetable_per_week_and_room(as_coordinator, staff, make_cohort, other_room, course):
    make_cohort()
    make_cohort(room=other_room, lead=staff.assistant, weekdays=[5], start_time=time(9, 30))
    db.session.commit()
    week = text(as_coordinator.get("/coordinator/timetable?week=2026-10-08"))
    assert "5 octobre 2026" in week  # the week starts on Monday
    assert "2 séances cette semaine." in week
    assert "Salle Ada Lovelace" in week
    assert "Atelier Al-Jazari" in week
    one_room = text(
        as_coordinator.get(f"/coordinator/timetable?week=2026-10-08&room={other_room.id}")
    )
    assert "1 séance cette semaine." in one_room
    one_person = text(
        as_coordinator.get(f"/coordinator/timetable?week=2026-10-08&instructor={staff.lead.id}")
    )
    assert "1 séance cette semaine." in one_person
    assert as_coordinator.get("/coordinator/timetable?week=garbage&room=x").status_code == 200


def test_instructor_home_lists_the_coming_week(
    client, login_as, instructor, staff, make_cohort, frozen_now
):
    cohort = make_cohort()
    db.session.commit()
    frozen_now.move_to(datetime(2026, 10, 5, 8, 0, tzinfo=UTC))
    login_as(instructor)
    page = text(client.get("/instructor"))
    assert "mercredi 7 octobre 2026" in page
    assert "14:30–16:00" in page
    assert "Robotique LEGO" in page
    assert "14 octobre" not in page
    assert cohort.lessons[0].number == 1


def test_coordinator_home_and_nav_link_the_pages(as_coordinator):
    page = text(as_coordinator.get("/coordinator"))
    for path in ("/coordinator/courses", "/coordinator/cohorts", "/coordinator/timetable",
                 "/coordinator/rooms", "/coordinator/closures", "/catalogue"):  # fmt: skip
        assert f'href="{path}"' in page


# ---------------------------------------------------------------------------------------------
# Guards on every coordinator page


def coordinator_routes(ids: dict) -> list[tuple[str, str]]:
    return [
        ("get", "/coordinator/courses"),
        ("get", "/coordinator/courses/new"),
        ("post", "/coordinator/courses/new"),
        ("get", f"/coordinator/courses/{ids['course']}/edit"),
        ("post", f"/coordinator/courses/{ids['course']}/edit"),
        ("get", "/coordinator/rooms"),
        ("get", "/coordinator/rooms/new"),
        ("post", "/coordinator/rooms/new"),
        ("get", f"/coordinator/rooms/{ids['room']}/edit"),
        ("post", f"/coordinator/rooms/{ids['room']}/edit"),
        ("get", "/coordinator/closures"),
        ("get", "/coordinator/closures/new"),
        ("post", "/coordinator/closures/new"),
        ("post", f"/coordinator/closures/{ids['closure']}/delete"),
        ("get", "/coordinator/cohorts"),
        ("get", "/coordinator/cohorts/new"),
        ("post", "/coordinator/cohorts/new"),
        ("get", f"/coordinator/cohorts/{ids['cohort']}"),
        ("get", f"/coordinator/cohorts/{ids['cohort']}/edit"),
        ("post", f"/coordinator/cohorts/{ids['cohort']}/edit"),
        ("post", f"/coordinator/cohorts/{ids['cohort']}/status"),
        ("get", f"/coordinator/cohorts/{ids['cohort']}/makeup"),
        ("post", f"/coordinator/cohorts/{ids['cohort']}/makeup"),
        ("get", f"/coordinator/lessons/{ids['lesson']}/move"),
        ("post", f"/coordinator/lessons/{ids['lesson']}/move"),
        ("get", f"/coordinator/lessons/{ids['lesson']}/cancel"),
        ("post", f"/coordinator/lessons/{ids['lesson']}/cancel"),
        ("get", "/coordinator/timetable"),
    ]


@pytest.fixture
def world(staff, cohort) -> dict:
    closure = create_closure(
        actor=staff.coordinator, starts_on=date(2026, 12, 25), label="Fermeture"
    )
    db.session.commit()
    return {
        "course": cohort.course_id,
        "room": cohort.room_id,
        "cohort": cohort.id,
        "lesson": cohort.lessons[0].id,
        "closure": closure.id,
    }


@pytest.mark.parametrize("who", ["anonymous", Role.PARENT, Role.INSTRUCTOR, Role.COORDINATOR])
def test_every_coordinator_page_is_guarded(client, login_as, make_user, world, who):
    if who != "anonymous":
        login_as(make_user(who))
    for method, path in coordinator_routes(world):
        response = getattr(client, method)(path)
        if who == "anonymous":
            assert response.status_code == 302, path
            assert "/login" in response.headers["Location"], path
        elif who != Role.COORDINATOR:
            assert response.status_code == 403, path
        elif method == "get":
            assert response.status_code == 200, path
        else:
            assert response.status_code in (302, 400, 422), (path, response.status_code)


def test_every_coordinator_route_is_in_the_sweep(app, world):
    def shape(path: str) -> str:
        return re.sub(r"<[^>]+>|\d+", "<id>", path)

    swept = {shape(path) for _, path in coordinator_routes(world)}
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("courses.") and rule.rule.startswith("/coordinator/")
    ]
    assert len(rules) == len(swept)
    for rule in rules:
        assert app.view_functions[rule.endpoint].required_roles == (Role.COORDINATOR,)
        assert shape(rule.rule) in swept, rule.rule


@pytest.mark.parametrize(
    "path",
    [
        "/catalogue",
        "/catalogue?age=9",
        "/catalogue/courses/{course}",
        "/catalogue/cohorts/{cohort}/calendar.ics",
    ],
)
def test_public_pages_need_no_login(client, world, path):
    assert client.get(path.format(**world)).status_code == 200


def test_refusals_quoting_what_users_typed_are_escaped(as_coordinator, staff, course, cohort):
    cohort.room.name = "<script>alert(1)</script>"
    db.session.commit()
    response = as_coordinator.post(
        "/coordinator/cohorts/new",
        data=cohort_form(
            staff,
            course,
            cohort.room,
            lead_instructor_id=str(staff.assistant.id),
            assistant_ids=[],
            start_time="15:00",
        ),
    )
    assert response.status_code == 422
    page = text(response)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; est déjà réservée" in page
    assert "<script>alert(1)" not in page


def test_a_closure_form_cancels_the_planned_lessons_when_asked(as_coordinator, cohort):
    db.session.commit()
    form = as_coordinator.get("/coordinator/closures/new")
    checkbox = re.search(r'<input[^>]*name="cancel_lessons"[^>]*>', text(form)).group(0)
    assert re.search(r"\bchecked\b", checkbox)  # ticked by default
    response = as_coordinator.post(
        "/coordinator/closures/new",
        data={"starts_on": "2026-11-18", "label": "Coupure d'électricité", "cancel_lessons": "y"},
        follow_redirects=True,
    )
    page = text(response)
    assert "1 séance annulée ; ses familles sont prévenues par e-mail." in page
    assert "déjà prévue" not in page
    lesson = db.session.scalar(
        select(Lesson).where(Lesson.cohort_id == cohort.id, Lesson.status == LessonStatus.CANCELLED)
    )
    assert lesson.note == "Coupure d'électricité"


def test_a_room_has_a_name_for_the_arabic_pages(as_coordinator, staff, cohort):
    room = cohort.room
    response = as_coordinator.post(
        f"/coordinator/rooms/{room.id}/edit",
        data={
            "name": room.name,
            "name_ar": "  قاعة آدا لوفلايس ",
            "site": "Technopark de Tanger",
            "capacity": "14",
        },
    )
    assert response.status_code == 302
    assert room.name_ar == "قاعة آدا لوفلايس"
    form = text(as_coordinator.get(f"/coordinator/rooms/{room.id}/edit"))
    assert 'value="قاعة آدا لوفلايس"' in form
    page = f"/coordinator/cohorts/{cohort.id}"
    assert "قاعة آدا لوفلايس" not in text(as_coordinator.get(page))  # French page
    as_coordinator.post("/language", data={"language": "ar"})
    arabic = text(as_coordinator.get(page))
    assert "قاعة آدا لوفلايس" in arabic
    assert "Salle Ada Lovelace" not in arabic
    # Emptied, the Arabic pages show the room's name again.
    as_coordinator.post(
        f"/coordinator/rooms/{room.id}/edit",
        data={"name": room.name, "name_ar": "", "site": "Technopark de Tanger", "capacity": "14"},
    )
    assert room.name_ar is None
    assert "Salle Ada Lovelace" in text(as_coordinator.get(page))
    too_long = as_coordinator.post(
        f"/coordinator/rooms/{room.id}/edit",
        data={"name": room.name, "name_ar": "ق" * 81, "site": "Technopark", "capacity": "14"},
    )
    assert too_long.status_code == 422
    assert room.name_ar is None
