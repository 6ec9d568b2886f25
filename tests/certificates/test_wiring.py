"""What certificates tell the domains below: prerequisites held, and the cohort page link."""

from __future__ import annotations

import pytest

from lms.accounts.models import User
from lms.certificates import services
from lms.courses.models import Cohort
from lms.enrolment import hooks as enrolment_hooks
from lms.extensions import db
from lms.families.models import Child
from tests.conftest import login

pytestmark = pytest.mark.usefixtures("attendance")


def test_a_valid_certificate_is_a_prerequisite_held_until_revoked(app, finished):
    with app.app_context():
        enrolment_hooks.holds_valid_certificate.reset()
        cohort = db.session.get(Cohort, finished.cohort)
        boss = db.session.get(User, finished.coordinator)
        child = db.session.get(Child, finished.children[0])
        assert enrolment_hooks.holds_valid_certificate(child, cohort.course) is False
        certificate = services.issue_to_all_eligible(cohort, actor=boss)[0]
        holder = db.session.get(Child, certificate.child_id)
        assert enrolment_hooks.holds_valid_certificate(holder, cohort.course) is True
        services.revoke_certificate(certificate, actor=boss, reason="Erreur")
        assert enrolment_hooks.holds_valid_certificate(holder, cohort.course) is False


def test_the_cohort_page_links_to_certificates_and_attendance(app, client, finished):
    with app.app_context():
        boss = db.session.get(User, finished.coordinator)
        db.session.expunge(boss)
    login(client, boss)
    page = client.get(f"/coordinator/cohorts/{finished.cohort}").get_data(as_text=True)
    assert f"/coordinator/cohorts/{finished.cohort}/certificates" in page
    assert f"/attendance/cohorts/{finished.cohort}" in page
