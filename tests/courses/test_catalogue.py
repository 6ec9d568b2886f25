"""The public catalogue: what it lists, its filters, eligibility by birth date, its cost."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from lms.clock import age_in_years, local_instant
from lms.courses import hooks
from lms.courses.catalogue import (
    CatalogueFilters,
    catalogue_cohorts,
    cohorts_for_birth_date,
    group_by_track,
)
from lms.courses.cohorts import set_cohort_status
from lms.courses.models import Cohort, CohortStatus, Lesson, Room
from lms.extensions import db


@pytest.fixture
def config_overrides() -> dict:
    return {"BABEL_DEFAULT_LOCALE": "en"}


def ids(cohorts) -> list[int]:
    return [cohort.id for cohort in cohorts]


# ---------------------------------------------------------------------------------------------
# What is listed


def test_only_open_cohorts_of_published_courses_not_yet_over(
    staff, make_cohort, make_course, other_room, frozen_now
):
    shown = make_cohort()
    make_cohort(status=CohortStatus.DRAFT, start_time=time(9, 0))
    closed = make_cohort(start_time=time(10, 40))
    set_cohort_status(closed, CohortStatus.CLOSED, actor=staff.coordinator)
    cancelled = make_cohort(start_time=time(17, 0))
    set_cohort_status(cancelled, CohortStatus.CANCELLED, actor=staff.coordinator)
    hidden_course = make_course(title_fr="Pas encore publié", published=False)
    make_cohort(
        course=hidden_course, status=CohortStatus.DRAFT, room=other_room, lead=staff.assistant
    )
    assert ids(catalogue_cohorts()) == [shown.id]
    # The course page also lists cohorts whose enrolment is closed.
    both = catalogue_cohorts(statuses=(CohortStatus.OPEN, CohortStatus.CLOSED))
    assert set(ids(both)) == {shown.id, closed.id}
    # Once over, a cohort leaves the catalogue.
    assert catalogue_cohorts(today=date(2026, 12, 1)) == []


def test_grouped_by_track_in_the_tracks_order(staff, make_course, make_cohort, other_room):
    robotics = make_cohort()
    printing = make_cohort(
        course=make_course(title_fr="Impression 3D", track="3d_printing"),
        room=other_room,
        lead=staff.assistant,
    )
    coding = make_cohort(
        course=make_course(title_fr="Scratch Junior", track="coding", min_age=7, max_age=9),
        weekdays=[5],
    )
    groups = group_by_track(catalogue_cohorts())
    assert [(track, ids(cohorts)) for track, cohorts in groups] == [
        ("coding", [coding.id]),
        ("robotics", [robotics.id]),
        ("3d_printing", [printing.id]),
    ]


# ---------------------------------------------------------------------------------------------
# Filters


@pytest.fixture
def variety(staff, make_course, make_cohort, other_room) -> dict[str, Cohort]:
    scratch = make_course(title_fr="Scratch Junior", track="coding", min_age=7, max_age=9)
    python = make_course(title_fr="Python", track="coding", min_age=11, max_age=14)
    return {
        "lego_wed_afternoon": make_cohort(),  # robotics 8-11, Wednesday 14:30, French
        "scratch_sat_morning": make_cohort(
            course=scratch, weekdays=[5], start_time=time(9, 30), language="ar"
        ),
        "python_tue_evening": make_cohort(
            course=python,
            weekdays=[1, 3],
            start_time=time(17, 30),
            room=other_room,
            language="en",
        ),
    }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"lego_wed_afternoon", "scratch_sat_morning", "python_tue_evening"}),
        ({"age": 7}, {"scratch_sat_morning"}),
        ({"age": 9}, {"scratch_sat_morning", "lego_wed_afternoon"}),
        ({"age": 11}, {"lego_wed_afternoon", "python_tue_evening"}),
        ({"age": 15}, set()),
        ({"track": "coding"}, {"scratch_sat_morning", "python_tue_evening"}),
        ({"track": "3d_printing"}, set()),
        ({"weekday": 5}, {"scratch_sat_morning"}),
        ({"weekday": 3}, {"python_tue_evening"}),
        ({"weekday": 0}, set()),
        ({"time_of_day": "morning"}, {"scratch_sat_morning"}),
        ({"time_of_day": "afternoon"}, {"lego_wed_afternoon"}),
        ({"time_of_day": "evening"}, {"python_tue_evening"}),
        ({"language": "ar"}, {"scratch_sat_morning"}),
        ({"language": "fr", "track": "coding"}, set()),
        ({"age": 9, "weekday": 2, "time_of_day": "afternoon"}, {"lego_wed_afternoon"}),
    ],
)
def test_filters(variety, filters, expected):
    found = set(ids(catalogue_cohorts(CatalogueFilters(**filters))))
    assert found == {variety[name].id for name in expected}


# ---------------------------------------------------------------------------------------------
# Eligibility: age on the cohort's start date, to the day


def test_age_on_a_day():
    assert age_in_years(date(2018, 10, 5), date(2026, 10, 5)) == 8
    assert age_in_years(date(2018, 10, 6), date(2026, 10, 5)) == 7
    # Born on 29 February: a year older on 1 March in other years.
    assert age_in_years(date(2016, 2, 29), date(2025, 2, 28)) == 8
    assert age_in_years(date(2016, 2, 29), date(2025, 3, 1)) == 9
    assert age_in_years(date(2016, 2, 29), date(2028, 2, 29)) == 12


@pytest.mark.parametrize(
    ("birth_date", "eligible"),
    [
        (date(2018, 10, 5), True),  # 8 on the start date (5 October 2026)
        (date(2018, 10, 6), False),  # 8 only the day after
        (date(2014, 10, 6), True),  # still 11 on the start date
        (date(2014, 10, 5), False),  # 12 on the start date
        (date(2016, 2, 29), True),
    ],
)
def test_cohorts_for_birth_date(cohort, birth_date, eligible):
    found = cohorts_for_birth_date(birth_date)
    assert ids(found) == ([cohort.id] if eligible else [])


def test_eligibility_uses_each_cohorts_own_start_date(make_cohort):
    autumn = make_cohort()  # starts 5 October 2026
    spring = make_cohort(
        start_date=date(2027, 2, 1), end_date=date(2027, 3, 31), start_time=time(10, 0)
    )
    turns_eight_in_winter = date(2018, 12, 20)
    assert ids(cohorts_for_birth_date(turns_eight_in_winter)) == [spring.id]
    assert autumn.accepts_age(date(2018, 1, 1))


# ---------------------------------------------------------------------------------------------
# The page


def test_catalogue_page_is_public_and_shows_the_facts(client, cohort):
    cohort.seats_taken, cohort.waitlist_count = 9, 3
    db.session.commit()
    response = client.get("/catalogue", headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="error"' not in page  # no filter given, no complaint
    assert "Robotique LEGO" in page
    assert "Salle Ada Lovelace" in page
    assert "800\xa0MAD" in page
    assert "14:30–16:00" in page
    assert "3 places restantes" in page
    assert "3 enfants sur liste d'attente" in page
    assert f"/catalogue/cohorts/{cohort.id}/calendar.ics" in page


def test_catalogue_in_arabic_shows_the_arabic_title(client, cohort, make_course, make_cohort):
    db.session.commit()
    client.set_cookie("lang", "ar")
    page = client.get("/catalogue").get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert "روبوتات ليغو" in page
    client.set_cookie("lang", "en")
    page = client.get("/catalogue").get_data(as_text=True)
    assert "Robotique LEGO" in page  # no English title: French is the fallback


def test_catalogue_filters_from_the_query_string(client, variety):
    db.session.commit()
    page = client.get("/catalogue?age=7&language=ar").get_data(as_text=True)
    assert "Scratch Junior" in page
    assert "Python" not in page
    assert "Robotique LEGO" not in page
    page = client.get("/catalogue?weekday=3&time_of_day=evening").get_data(as_text=True)
    assert "Python" in page
    assert "Scratch Junior" not in page


@pytest.mark.parametrize(
    "query",
    [
        "age=abc",
        "age=-4",
        "weekday=9",
        "track=cooking",
        "time_of_day=night",
        "language=xx",
        "child=abc",
        "child=999",
        "age=99999999999999999999",
    ],
)
def test_bad_filters_never_fail(client, variety, query):
    db.session.commit()
    response = client.get(f"/catalogue?{query}")
    assert response.status_code == 200


def test_for_my_child(client, login_as, parent, make_user, variety, families):
    families.children[parent.id] = [
        hooks.ChildSummary(id=41, name="Yasmine", birth_date=date(2019, 3, 1)),  # 7
        hooks.ChildSummary(id=42, name="Adam", birth_date=date(2014, 1, 15)),  # 12
    ]
    login_as(parent)
    page = client.get("/catalogue").get_data(as_text=True)
    assert "Yasmine" in page
    assert "Adam" in page
    page = client.get("/catalogue?child=41").get_data(as_text=True)
    assert "Scratch Junior" in page
    assert "Robotique LEGO" not in page
    assert "Python" not in page
    page = client.get("/catalogue?child=42").get_data(as_text=True)
    assert "Python" in page
    assert "Scratch Junior" not in page
    # Someone else's child is no filter at all.
    page = client.get("/catalogue?child=43").get_data(as_text=True)
    assert "Scratch Junior" in page
    assert "Python" in page


def test_child_filter_is_ignored_for_visitors(client, variety, families, parent):
    db.session.commit()
    families.children[parent.id] = [
        hooks.ChildSummary(id=41, name="Yasmine", birth_date=date(2019, 3, 1))
    ]
    page = client.get("/catalogue?child=41").get_data(as_text=True)
    assert "Python" in page
    assert "Yasmine" not in page


def test_course_page(client, course, cohort, make_course, login_as, coordinator):
    db.session.commit()
    page = client.get(f"/catalogue/courses/{course.id}").get_data(as_text=True)
    assert "Robotique LEGO" in page
    assert "Construire et programmer des robots." in page
    assert "14:30–16:00" in page
    hidden = make_course(title_fr="Brouillon", published=False)
    db.session.commit()
    assert client.get(f"/catalogue/courses/{hidden.id}").status_code == 404
    assert client.get("/catalogue/courses/999999").status_code == 404
    login_as(coordinator)
    assert client.get(f"/catalogue/courses/{hidden.id}").status_code == 200


# ---------------------------------------------------------------------------------------------
# A fixed number of queries, whatever the number of cohorts


def _many_cohorts(staff, course, room: Room, how_many: int) -> None:
    """Cohorts inserted directly (no booking checks): only the catalogue's cost is measured."""
    start = date(2026, 10, 5)
    for n in range(how_many):
        cohort = Cohort(
            course=course, room=room, capacity=12, seats_taken=n % 13, waitlist_count=n % 4,
            language="fr", status=CohortStatus.OPEN, start_date=start, end_date=date(2026, 12, 1),
            weekdays=str(n % 7), start_time=time(8 + n % 12, 0), duration_minutes=90,
        )  # fmt: skip
        first = local_instant(date(2026, 10, 7), time(8 + n % 12))
        second = local_instant(date(2026, 10, 14), time(8 + n % 12))
        cohort.lessons = [
            Lesson(number=1, starts_at=first, ends_at=first + timedelta(minutes=90)),
            Lesson(number=2, starts_at=second, ends_at=second + timedelta(minutes=90)),
        ]
        db.session.add(cohort)
    db.session.commit()


@pytest.mark.parametrize("logged_in", [False, True])
def test_catalogue_queries_do_not_grow_with_cohorts(
    client, staff, course, room, count_statements, login_as, parent, logged_in
):
    if logged_in:
        login_as(parent)

    def statements_for_catalogue(expected_cohorts: int) -> int:
        with count_statements() as counter:
            response = client.get("/catalogue")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('class="card cohort-card') == expected_cohorts
        return counter.count

    _many_cohorts(staff, course, room, 5)
    few = statements_for_catalogue(5)
    _many_cohorts(staff, course, room, 195)
    many = statements_for_catalogue(200)
    print(f"catalogue statements: {few} for 5 cohorts, {many} for 200")
    assert few == many
    # Logged in: one more for the user, one more for the "for my child" list. (Lapsed seat
    # offers move on in the worker, not when the catalogue is shown.)
    assert many <= (5 if logged_in else 3), many
    course_page = client.get(f"/catalogue/courses/{course.id}")
    assert course_page.status_code == 200
