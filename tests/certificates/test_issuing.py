"""Issuing, revoking, reissuing, storing, regenerating, verifying, erasing certificates."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.certificates import services
from lms.certificates.models import Certificate, CertificateStatus
from lms.courses.models import Cohort
from lms.enrolment.models import Enrolment
from lms.errors import DomainError
from lms.extensions import db
from lms.families.data_rights import child_erasure_preview, erase_child
from lms.families.models import Child
from lms.notifications.models import OutboxMessage
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("attendance")


def cohort_of(finished) -> Cohort:
    return db.session.get(Cohort, finished.cohort)


def boss(finished) -> User:
    return db.session.get(User, finished.coordinator)


def test_issue_to_all_eligible_renders_stores_and_tells_parents(app, finished):
    with app.app_context():
        issued = services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished))
        db.session.commit()
        assert len(issued) == 3
        for certificate in issued:
            path = Path(app.instance_path) / certificate.pdf_path
            pdf = path.read_bytes()
            assert pdf.startswith(b"%PDF")
            assert hashlib.sha256(pdf).hexdigest() == certificate.pdf_sha256
            assert certificate.data["verification_url"].endswith(f"/verify/{certificate.code}")
        yasmine = next(c for c in issued if c.child_id == finished.children[0])
        assert yasmine.data["child_name_ar"] == "ياسمين العلوي"
        assert yasmine.data["instructors"] == ["Youssef Benali"]
        assert yasmine.data["coordinator"] == "Fatima Zahra El Amrani"
        assert yasmine.data["lessons"] == 11  # Wednesdays, 1 April to 10 June 2026
        # One e-mail per guardian per certificate, in the guardian's language.
        mails = db.session.scalars(select(OutboxMessage)).all()
        assert len(mails) == 3
        assert {m.template for m in mails} == {"certificate_issued"}
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "certificate.issued")
            )
            == 3
        )
        # Issuing twice does nothing new.
        assert services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished)) == []


def test_not_eligible_needs_a_reason(app, finished, attendance):
    attendance[finished.enrolments[1]] = (0.5, ["Attendance 50 %, below the 80 % threshold."])
    with app.app_context():
        issued = services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished))
        assert {c.enrolment_id for c in issued} == {finished.enrolments[0], finished.enrolments[2]}
        adam = db.session.get(Enrolment, finished.enrolments[1])
        with pytest.raises(DomainError) as error:
            services.issue_certificate(adam, actor=boss(finished))
        assert error.value.field == "reason"
        certificate = services.issue_certificate(
            adam, actor=boss(finished), override_reason="Absent for a hospital stay."
        )
        assert certificate.override_reason == "Absent for a hospital stay."
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.subject_id == certificate.id)
        ).one()
        assert entry.reason == "Absent for a hospital stay."


def test_cohort_not_ended_is_not_eligible(app, finished, monkeypatch):
    with app.app_context():
        cohort = cohort_of(finished)
        monkeypatch.setattr(services, "last_lesson_end", lambda cohort: None)
        results = services.eligibility(cohort)
        assert all(not r.eligible for r in results)
        assert "dernière séance" in str(results[0].reasons[0])


def test_only_coordinators_issue(app, finished, instructor):
    with app.app_context():
        teacher = db.session.get(User, instructor.id)
        with pytest.raises(DomainError):
            services.issue_to_all_eligible(cohort_of(finished), actor=teacher)


def test_revoke_then_verification_says_revoked(app, finished):
    with app.app_context():
        certificate = services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished))[0]
        with pytest.raises(DomainError):
            services.revoke_certificate(certificate, actor=boss(finished), reason="  ")
        services.revoke_certificate(certificate, actor=boss(finished), reason="Erreur de saisie")
        result = services.verify(certificate.code.lower().replace("-", " "))
        assert result.state == "revoked"
        assert result.revoked_at is not None
        with pytest.raises(DomainError):
            services.revoke_certificate(certificate, actor=boss(finished), reason="again")
        with pytest.raises(DomainError):
            services.reissue_certificate(certificate, actor=boss(finished))


def test_reissue_after_a_name_correction(app, finished):
    with app.app_context():
        old = services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished))[0]
        child = db.session.get(Child, old.child_id)
        child.last_name = "Alaoui-Tazi"
        new = services.reissue_certificate(old, actor=boss(finished), languages=("fr", "ar", "en"))
        assert new.code != old.code
        assert new.data["child_name"] == "Yasmine Alaoui-Tazi"
        assert new.data["languages"] == ["fr", "ar", "en"]
        assert old.status == CertificateStatus.SUPERSEDED
        assert old.superseded_by_id == new.id
        assert services.verify(old.code).state == "superseded"
        assert services.verify(new.code).state == "valid"
        assert services.valid_certificate(new.enrolment).id == new.id


def test_missing_file_is_regenerated_identically(app, finished):
    with app.app_context():
        certificate = services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished))[0]
        db.session.commit()
        path = Path(app.instance_path) / certificate.pdf_path
        original = path.read_bytes()
        path.unlink()
        assert services.certificate_pdf(certificate) == original
        assert path.read_bytes() == original
        path.write_bytes(b"%PDF tampered")
        assert services.certificate_pdf(certificate) == original


def test_verification_shows_only_what_a_verifier_needs(app, finished):
    with app.app_context():
        certificate = services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished))[0]
        result = services.verify(certificate.code)
        assert result.state == "valid"
        assert result.holder == "Yasmine A."
        assert result.course_fr == "Robotique LEGO"
        assert services.verify("AL-0000-0000-0000").state in ("unknown", "malformed")
        assert services.verify("not a code").state == "malformed"
        # A mistyped character is caught before any lookup.
        typo = certificate.code[:-1] + ("0" if certificate.code[-1] != "0" else "1")
        assert services.verify(typo).state == "malformed"


def test_erasing_the_child_keeps_the_code_and_says_erased(app, finished):
    with app.app_context():
        certificate = services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished))[0]
        db.session.commit()
        path = Path(app.instance_path) / certificate.pdf_path
        karim = db.session.get(User, finished.karim)
        child = db.session.get(Child, certificate.child_id)
        preview = child_erasure_preview(child)
        assert any("1 certificat" in str(line) for line in preview.from_other_domains)
        erase_child(child, actor=karim, password=PASSWORD)
        db.session.commit()
        assert not path.exists()
        assert services.verify(certificate.code).state == "erased"
        assert "Yasmine" not in str(db.session.get(Certificate, certificate.id).data)


def test_zip_names_are_safe_ascii_and_distinct(app, finished):
    with app.app_context():
        services.issue_to_all_eligible(cohort_of(finished), actor=boss(finished))
        archive = zipfile.ZipFile(io.BytesIO(services.cohort_zip(cohort_of(finished))))
        names = archive.namelist()
        assert len(names) == len(set(names)) == 3
        for name in names:
            assert name.isascii()
            assert "/" not in name
            assert name.endswith(".pdf")
        assert any(name.startswith("Yasmine-Alaoui-Robotique-LEGO-AL-") for name in names)
        assert any(name.startswith("rym-bnny-Robotique-LEGO-AL-") for name in names)
        assert all(archive.read(name).startswith(b"%PDF") for name in names)
