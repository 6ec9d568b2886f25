"""The dashboard's figures against values computed by hand on the small term of conftest.py.

Cohort A (robotics, threshold 80 %, capacity 3): Yasmine (k1) and Adam (k2) enrolled, Lina
(k5) offered a seat, Ilyas (k4) waiting. Eight lessons, five held by "now".
  k1: P P L A P          -> 4 / 5 = 80 %: meets the threshold
  k2: A A A P (unmarked) -> 1 / 5; even with the unmarked one and the 3 to come: 5 / 8 < 80 %
                            -> at risk, can no longer reach it
Cohort B (coding, threshold 50 %, capacity 3): Adam (k2) and Rania (k3) enrolled, Ilyas (k4)
withdrawn on 27 September. Six lessons, four held.
  k2: P E P A  -> 2 / 3 (the excused lesson is left out)
  k3: A A A P  -> 1 / 4 = 25 %, 2 to come: 3 / 6 = 50 % still reachable -> at risk, below
  k4: P A      -> 1 / 2 (lessons while enrolled)
Attendance: A 5 / 10 = 50 %, B 4 / 9, term 9 / 19.
Fees (centimes): k1/A 80000 paid 80000; k2/A 72000 paid 20000; k2/B 45000; k3/B 0 (waived);
k4/B withdrawn with a payment: 50000 paid 10000. Billed 247000, paid 110000, outstanding
137000. Lina's seat offered is not billed, Ilyas waiting neither.
"""

from __future__ import annotations

from datetime import date

import pytest

from lms.extensions import db
from lms.reports import services
from lms.reports.services import AT_RISK_BELOW, AT_RISK_UNREACHABLE
from tests.reports.conftest import NOW, build_cohorts


@pytest.fixture
def report(app, world):
    with app.app_context():
        term = services.resolve_term(None)
        yield services.term_report(term, now=NOW)


def test_the_term_is_the_one_containing_today(app):
    with app.app_context():
        term = services.resolve_term(None)
        assert term.key == "2026-autumn"
        assert services.resolve_term("2026-winter").starts_on == date(2027, 1, 1)
        assert services.resolve_term("autumn") is None
        assert services.resolve_term("2026-monsoon") is None


def test_cohorts_of_the_term_only(report, world):
    ids = [item.cohort.id for item in report.cohorts]
    assert sorted(ids) == sorted([world.ids["a"], world.ids["b"]])  # not draft, not winter


def test_fill_rates_waiting_lists_and_offers(report, world):
    by_id = {item.cohort.id: item.tally for item in report.cohorts}
    a, b = by_id[world.ids["a"]], by_id[world.ids["b"]]
    assert (a.seats_taken, a.capacity, a.fill_rate) == (3, 3, 100)
    assert (b.seats_taken, b.capacity) == (2, 3)
    assert b.fill_rate == pytest.approx(200 / 3)
    assert (a.enrolled, a.offered, a.waiting) == (2, 1, 1)
    assert (b.enrolled, b.offered, b.waiting) == (2, 0, 0)
    total = report.total
    assert (total.seats_taken, total.capacity) == (5, 6)
    assert total.fill_rate == pytest.approx(500 / 6)
    assert (total.waiting, total.offered) == (1, 1)


def test_attendance_per_cohort_course_track_and_term(report, world):
    by_id = {item.cohort.id: item.tally for item in report.cohorts}
    assert (by_id[world.ids["a"]].attended, by_id[world.ids["a"]].counted) == (5, 10)
    assert (by_id[world.ids["b"]].attended, by_id[world.ids["b"]].counted) == (4, 9)
    assert report.total.attendance_rate == pytest.approx(100 * 9 / 19)
    courses = {group.course.id: group.tally for group in report.courses}
    assert courses[world.ids["robotics"]].attendance_rate == 50
    assert courses[world.ids["scratch"]].attendance_rate == pytest.approx(400 / 9)
    tracks = {group.key: group for group in report.tracks}
    assert tracks["robotics"].tally.attendance_rate == 50
    assert tracks["coding"].tally.attendance_rate == pytest.approx(400 / 9)
    assert tracks["3d_printing"].cohorts == 0
    assert tracks["3d_printing"].tally.attendance_rate is None


def test_attendance_week_by_week(report):
    weeks = [(week.monday, week.attended, week.counted) for week in report.weeks]
    assert weeks == [
        (date(2026, 9, 14), 3, 5),
        (date(2026, 9, 21), 1, 4),
        (date(2026, 9, 28), 2, 4),
        (date(2026, 10, 5), 2, 4),
        (date(2026, 10, 12), 1, 2),
    ]


def test_children_at_risk(report, world):
    lines = [(line.child_id, line.cohort.id, line.reason) for line in report.at_risk]
    assert lines == [
        (world.ids["k2"], world.ids["a"], AT_RISK_UNREACHABLE),
        (world.ids["k3"], world.ids["b"], AT_RISK_BELOW),
    ]
    adam = report.at_risk[0]
    assert adam.child_name == "Adam Alaoui"
    assert (adam.summary.attended, adam.summary.unmarked, adam.summary.remaining) == (1, 1, 3)
    rania = report.at_risk[1].summary
    assert (rania.rate, rania.needed, rania.remaining) == (25, 2, 2)
    assert [line.child_id for line in report.unreachable] == [world.ids["k2"]]


def test_certificates_issued_and_revoked(report, world):
    by_id = {item.cohort.id: item.tally for item in report.cohorts}
    assert by_id[world.ids["a"]].certificates == 1
    assert report.total.certificates == 1
    assert report.certificates_revoked == 1


def test_fees_billed_paid_outstanding(report, world):
    total = report.total
    assert (total.billed, total.paid, total.outstanding) == (247000, 110000, 137000)
    lines = {line.enrolment_id: (line.due, line.paid, line.outstanding) for line in report.fees}
    assert lines == {
        world.ids["e1"]: (80000, 80000, 0),
        world.ids["e2a"]: (72000, 20000, 52000),
        world.ids["e2b"]: (45000, 0, 45000),
        world.ids["e3"]: (0, 0, 0),
        world.ids["e4"]: (50000, 10000, 40000),
    }
    owing = [line.enrolment_id for line in report.fee_lines("outstanding")]
    assert owing == [world.ids["e2a"], world.ids["e2b"], world.ids["e4"]]  # most owed first
    assert {line.enrolment_id for line in report.fee_lines("paid")} == {
        world.ids["e1"],
        world.ids["e3"],
    }


def test_new_families_children_ages_and_tracks(report, world):
    # p1, p2, p3 were created during the term; "old" in June; "gone" is deactivated.
    assert report.new_families == 3
    assert sorted(line.child_id for line in report.children) == sorted(
        [world.ids["k1"], world.ids["k2"], world.ids["k3"]]
    )
    # Ages on the first day of each child's first cohort of the term.
    assert report.ages == [(7, 1), (8, 0), (9, 1), (10, 0), (11, 1)]
    assert report.track_children == [("coding", 2), ("robotics", 2), ("3d_printing", 0)]
    assert report.messages_sent == 0


def test_an_empty_term(app, world):
    with app.app_context():
        report = services.term_report(services.resolve_term("2025-spring"), now=NOW)
    assert report.cohorts == []
    assert report.weeks == []
    assert report.at_risk == []
    assert report.total.fill_rate is None
    assert report.total.attendance_rate is None


# ---------------------------------------------------------------------------------------------
# Pages


def test_dashboard_page_shows_every_figure_with_its_link(world, login_as):
    client = login_as(world.coordinator)
    for path in ("/coordinator", "/coordinator/reports/"):
        page = client.get(path).get_data(as_text=True)
        for text in ("83%", "47%", "1,370\xa0MAD", "2,470\xa0MAD", "1,100\xa0MAD"):
            assert text in page, text
        for link in (
            "/coordinator/reports/cohorts?term=2026-autumn",
            "/coordinator/reports/waiting-lists?term=2026-autumn",
            "/coordinator/reports/at-risk?term=2026-autumn",
            "/coordinator/reports/certificates?term=2026-autumn",
            "/coordinator/reports/fees?status=outstanding&amp;term=2026-autumn",
            "/coordinator/reports/families?term=2026-autumn",
            "/coordinator/reports/children?term=2026-autumn",
            "/messages/",
        ):
            assert f'href="{link}"' in page, link
        assert page.count("<svg") == 4
        assert "<script" not in page.split("<main")[1]
        assert " style=" not in page


def test_list_pages(world, login_as):
    client = login_as(world.coordinator)
    at_risk = client.get("/coordinator/reports/at-risk").get_data(as_text=True)
    assert "Adam Alaoui" in at_risk
    assert "Rania Tazi" in at_risk
    assert "Yasmine" not in at_risk
    assert "Can no longer reach it" in at_risk
    assert "Below the threshold" in at_risk
    waiting = client.get("/coordinator/reports/waiting-lists").get_data(as_text=True)
    assert "Ilyas Chraibi" in waiting
    assert "Lina Chraibi" in waiting
    fees = client.get("/coordinator/reports/fees?status=outstanding").get_data(as_text=True)
    assert "Adam Alaoui" in fees
    assert "Yasmine Alaoui" not in fees
    assert "Yasmine Alaoui" in client.get("/coordinator/reports/fees?status=paid").get_data(
        as_text=True
    )
    families = client.get("/coordinator/reports/families").get_data(as_text=True)
    assert "Karim Alaoui" in families
    assert "Sara Berrada" not in families
    assert "Hamza El Fassi" not in families
    children = client.get("/coordinator/reports/children").get_data(as_text=True)
    assert "Rania Tazi" in children
    assert "Lina" not in children
    certificates = client.get("/coordinator/reports/certificates").get_data(as_text=True)
    assert "Yasmine Alaoui" in certificates
    assert "Rania Tazi" in certificates
    cohorts = client.get("/coordinator/reports/cohorts").get_data(as_text=True)
    assert "Robotique" in cohorts
    assert "50%" in cohorts


def test_bad_term_and_status_answer_404(world, login_as):
    client = login_as(world.coordinator)
    assert client.get("/coordinator/reports/?term=nonsense").status_code == 404
    assert client.get("/coordinator/reports/fees?status=everything").status_code == 404
    other = client.get("/coordinator/reports/?term=2026-winter")
    assert other.status_code == 200
    assert "No group starts in this term yet." not in other.get_data(as_text=True)


def test_dashboard_in_arabic_mirrors_its_charts(app, world, login_as):
    with app.app_context():
        from lms.accounts.models import User

        db.session.get(User, world.coordinator.id).locale = "ar"
        db.session.commit()
    page = login_as(world.coordinator).get("/coordinator/reports/").get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert 'direction="rtl"' in page


@pytest.mark.parametrize("path", ["/coordinator/reports/", "/coordinator/reports/at-risk"])
def test_other_roles_are_refused(world, login_as, path, client):
    assert client.get(path).status_code == 302  # anonymous: to the login page
    assert login_as(world.lead).get(path).status_code == 403


# ---------------------------------------------------------------------------------------------
# A constant number of queries


def _statements(client, count_statements, path: str) -> int:
    with count_statements() as counter:
        response = client.get(path)
    assert response.status_code == 200
    return counter.count


def test_the_dashboard_counts_the_same_statements_at_two_sizes(
    app, world, login_as, count_statements
):
    client = login_as(world.coordinator)
    with app.app_context():
        build_cohorts(3)
        db.session.commit()
    small = _statements(client, count_statements, "/coordinator/reports/")
    with app.app_context():
        build_cohorts(30)
        db.session.commit()
    large = _statements(client, count_statements, "/coordinator/reports/")
    assert small == large
    assert large <= 16
