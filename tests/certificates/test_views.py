"""Certificate pages: coordinators, downloads and their permission sweep, public verification."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.certificates import services
from lms.certificates.models import Certificate
from lms.courses.models import Cohort
from lms.enrolment.models import Enrolment
from lms.extensions import db
from tests.conftest import login

pytestmark = pytest.mark.usefixtures("attendance")


def issue_all(app, finished) -> list[int]:
    with app.app_context():
        issued = services.issue_to_all_eligible(
            db.session.get(Cohort, finished.cohort),
            actor=db.session.get(User, finished.coordinator),
        )
        db.session.commit()
        return [c.id for c in issued]


def user(app, user_id) -> User:
    with app.app_context():
        found = db.session.get(User, user_id)
        db.session.expunge(found)
        return found


def test_coordinator_issues_the_cohort_from_its_page(app, client, finished):
    login(client, user(app, finished.coordinator))
    page = client.get(f"/coordinator/cohorts/{finished.cohort}/certificates")
    assert page.status_code == 200
    assert "3 enfants remplissent les conditions." in page.get_data(as_text=True)
    response = client.post(
        f"/coordinator/cohorts/{finished.cohort}/certificates/issue", follow_redirects=True
    )
    assert "Certificats délivrés : 3." in response.get_data(as_text=True)
    response = client.post(  # a second click, from the page shown again (a new form token)
        f"/coordinator/cohorts/{finished.cohort}/certificates/issue",
        data={"csrf_token": "page-2"},
        follow_redirects=True,
    )
    assert "Aucun nouveau certificat" in response.get_data(as_text=True)
    archive = client.get(f"/coordinator/cohorts/{finished.cohort}/certificates.zip")
    assert archive.headers["Content-Type"] == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(archive.data)).namelist()) == 3


def test_revoke_without_reason_is_refused_with_a_message(app, client, finished):
    first = issue_all(app, finished)[0]
    login(client, user(app, finished.coordinator))
    response = client.post(
        f"/coordinator/certificates/{first}/revoke", data={"reason": ""}, follow_redirects=True
    )
    assert "Indiquez pourquoi le certificat est révoqué." in response.get_data(as_text=True)
    response = client.post(
        f"/coordinator/certificates/{first}/revoke",
        data={"reason": "Erreur de nom"},
        follow_redirects=True,
    )
    assert "révoqué" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Certificate, first).status == "revoked"


def test_override_needs_a_reason_through_the_page(app, client, finished, attendance):
    attendance[finished.enrolments[0]] = (0.4, ["Présence 40 %."])
    login(client, user(app, finished.coordinator))
    url = f"/coordinator/enrolments/{finished.enrolments[0]}/certificate"
    response = client.post(url, data={"reason": ""}, follow_redirects=True)
    assert "Indiquez un motif" in response.get_data(as_text=True)
    response = client.post(url, data={"reason": "Maladie"}, follow_redirects=True)
    assert "délivré" in response.get_data(as_text=True)


def test_a_refused_issue_flashes_the_reason_and_goes_back_to_the_cohort(
    app, client, finished, attendance
):
    attendance[finished.enrolments[0]] = (0.4, ["Présence 40 %."])
    login(client, user(app, finished.coordinator))
    back = f"/coordinator/cohorts/{finished.cohort}/certificates"
    response = client.post(
        f"/coordinator/enrolments/{finished.enrolments[0]}/certificate",
        data={"reason": "", "next": back},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == back
    assert "Indiquez un motif" in client.get(back).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Certificate)).all() == []
        assert db.session.scalars(select(AuditEntry)).all() == []


@pytest.mark.parametrize("who", ["guardian", "coordinator"])
def test_allowed_downloads(app, client, finished, who):
    first = issue_all(app, finished)[0]  # Yasmine, Karim's daughter
    login(client, user(app, finished.karim if who == "guardian" else finished.coordinator))
    response = client.get(f"/certificates/{first}.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert 'filename="Yasmine-Alaoui-Robotique-LEGO-AL-' in disposition
    assert disposition.isascii()


@pytest.mark.parametrize("who", ["other_parent", "instructor", "anonymous"])
def test_download_permission_sweep(app, client, finished, instructor, who):
    first = issue_all(app, finished)[0]
    if who == "other_parent":
        login(client, user(app, finished.nadia))  # Rim's mother, not Yasmine's
    elif who == "instructor":
        login(client, instructor)
    response = client.get(f"/certificates/{first}.pdf")
    if who == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    else:
        assert response.status_code == 404
    for path in (
        f"/coordinator/cohorts/{finished.cohort}/certificates",
        f"/coordinator/cohorts/{finished.cohort}/certificates.zip",
    ):
        assert client.get(path).status_code in (302, 403)
    assert client.post(
        f"/coordinator/certificates/{first}/revoke", data={"reason": "x"}
    ).status_code in (302, 403)


@pytest.mark.parametrize("change", ["revoked", "superseded"])
def test_parents_download_only_a_valid_certificate(app, client, finished, change):
    """A revoked or replaced PDF would still read as valid once printed."""
    first = issue_all(app, finished)[0]
    with app.app_context():
        certificate = db.session.get(Certificate, first)
        coordinator = db.session.get(User, finished.coordinator)
        if change == "revoked":
            services.revoke_certificate(certificate, actor=coordinator, reason="Erreur de groupe")
        else:
            replacement = services.reissue_certificate(certificate, actor=coordinator).id
        db.session.commit()
    login(client, user(app, finished.karim))
    assert client.get(f"/certificates/{first}.pdf").status_code == 404
    if change == "superseded":
        assert client.get(f"/certificates/{replacement}.pdf").status_code == 200
    client.post("/logout")
    login(client, user(app, finished.coordinator))
    assert client.get(f"/certificates/{first}.pdf").status_code == 200


def test_parent_dashboard_lists_the_certificates(app, client, finished):
    issue_all(app, finished)
    login(client, user(app, finished.karim))
    page = client.get("/parent").get_data(as_text=True)
    assert "Certificats" in page
    assert page.count("Télécharger le PDF") == 2  # Yasmine and Adam, not Rim


def test_verification_pages(app, client, finished):
    ids = issue_all(app, finished)
    with app.app_context():
        code = db.session.get(Certificate, ids[0]).code
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ce certificat est valide." in text
    assert "Yasmine A." in text
    assert "Alaoui" not in text
    # The form redirects a typed code, in any case and with spaces, to its page.
    response = client.get("/verify", query_string={"code": code.lower().replace("-", " ")})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{code}"
    assert client.get("/verify", query_string={"code": "AL-XXXX"}).status_code == 422
    assert client.get("/verify", query_string={"code": ""}).status_code == 422
    assert client.get("/verify/AL-0000-0000-0000").status_code == 404
    client.set_cookie("lang", "ar")
    assert "هذه الشهادة صالحة." in client.get(f"/verify/{code}").get_data(as_text=True)
    client.set_cookie("lang", "en")
    assert "This certificate is valid." in client.get(f"/verify/{code}").get_data(as_text=True)


def test_the_page_counts_the_children_still_without_a_certificate(app, client, finished):
    with app.app_context():
        services.issue_certificate(
            db.session.get(Enrolment, finished.enrolments[0]),
            actor=db.session.get(User, finished.coordinator),
        )
        db.session.commit()
    login(client, user(app, finished.coordinator))
    page = client.get(f"/coordinator/cohorts/{finished.cohort}/certificates").get_data(as_text=True)
    assert "3 enfants remplissent les conditions." in page
    assert "2 d’entre eux n’ont pas encore de certificat." in page
    client.post(f"/coordinator/cohorts/{finished.cohort}/certificates/issue")
    page = client.get(f"/coordinator/cohorts/{finished.cohort}/certificates").get_data(as_text=True)
    assert "Chacun d’eux a déjà un certificat." in page
    assert "pas encore de certificat" not in page


def test_the_issue_page_lists_the_children_without_an_arabic_name_until_issued(
    app, client, finished
):
    login(client, user(app, finished.coordinator))
    page = client.get(f"/coordinator/cohorts/{finished.cohort}/certificates")
    notice = page.get_data(as_text=True).split('id="without-arabic-name"')[1].split("</div>")[0]
    assert "2 enfants" in notice
    assert "Adam Alaoui" in notice
    assert "ريم بناني" in notice
    assert "Yasmine" not in notice  # her parents gave her name in Arabic letters
    client.post(f"/coordinator/cohorts/{finished.cohort}/certificates/issue")
    page = client.get(f"/coordinator/cohorts/{finished.cohort}/certificates")
    assert 'id="without-arabic-name"' not in page.get_data(as_text=True)
