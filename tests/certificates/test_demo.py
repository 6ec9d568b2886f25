"""The demo has a finished group with certificates, on any day of the year: a parent can
download one, a visitor can verify it, and the coordinator sees why others have none."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from lms.accounts.models import User
from lms.certificates import services
from lms.certificates.models import Certificate
from lms.courses.models import Cohort, CohortStatus
from lms.demo import DEMO_PASSWORD, seed_demo
from lms.extensions import db
from tests.conftest import login

KARIM = "karim.alaoui@example.ma"


def check_the_certificates(created: dict, today: datetime) -> None:
    """The demo's finished group and its certificates (tests/test_demo.py loads it)."""
    cohort = db.session.get(Cohort, created["certificates"]["cohort"])
    assert cohort.status == CohortStatus.COMPLETED
    assert cohort.end_date < today.date()
    issued = db.session.scalars(select(Certificate).where(Certificate.cohort_id == cohort.id)).all()
    holders = {certificate.child.first_name for certificate in issued}
    assert "Adam" in holders  # Karim's son is old enough whatever the day
    assert holders <= {"Yasmine", "Adam"}
    reasons = {
        result.enrolment.child.first_name: " ".join(str(reason) for reason in result.reasons)
        for result in services.eligibility(cohort)
        if not result.eligible
    }
    assert "projet final" in reasons["Ilyas"]
    assert "80 %" in reasons["Mohammed"]
    for certificate in issued:
        assert services.verify(certificate.code).state == "valid"


@time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=True)
def test_karim_downloads_his_sons_demo_certificate(app, client):
    with app.app_context():
        seed_demo()
        db.session.commit()
        karim = db.session.scalar(select(User).where(User.email == KARIM))
        adam = db.session.scalar(
            select(Certificate).where(Certificate.child.has(first_name="Adam"))
        )
        certificate_id, code = adam.id, adam.code
        db.session.expunge(karim)
    assert login(client, karim, password=DEMO_PASSWORD).status_code == 302
    page = client.get("/parent").get_data(as_text=True)
    assert "Impression 3D et Tinkercad" in page
    response = client.get(f"/certificates/{certificate_id}.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    client.post("/logout")
    verification = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "Adam" in verification
