"""Issue, revoke, reissue, store, regenerate and verify certificates."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.contact import cohort_topic, notify
from lms.accounts.models import User
from lms.audit import services as audit
from lms.certificates import rendering, signatures
from lms.certificates.codes import new_code, normalize_code
from lms.certificates.filenames import safe_filename
from lms.certificates.models import Certificate, CertificateStatus
from lms.certificates.permissions import can_manage_certificates
from lms.clock import local_today
from lms.courses.models import Cohort, Lesson, LessonStatus
from lms.database import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child, Guardianship

STORAGE = "certificates"  # folder inside the instance folder
LANGUAGE_CHOICES = (("fr", "ar"), ("fr", "ar", "en"))


# ---------------------------------------------------------------------------------------------
# Eligibility


@dataclass
class Eligibility:
    """Whether an enrolment's child may receive the cohort's certificate, and why not."""

    enrolment: Enrolment
    reasons: list = field(default_factory=list)
    rate: float | None = None  # attendance rate in percent, when known

    @property
    def eligible(self) -> bool:
        return not self.reasons


def last_lesson_end(cohort: Cohort) -> datetime | None:
    """When the cohort's last scheduled lesson ends (None if it has none)."""
    return db.session.scalar(
        select(Lesson.ends_at)
        .where(Lesson.cohort_id == cohort.id, Lesson.status == LessonStatus.SCHEDULED)
        .order_by(Lesson.ends_at.desc())
        .limit(1)
    )


def certificate_enrolments(cohort: Cohort) -> list[Enrolment]:
    """The enrolments that can lead to a certificate: children enrolled until the end."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(
                Enrolment.cohort_id == cohort.id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
            .options(selectinload(Enrolment.child))
            .order_by(Enrolment.id)
        )
    )


def eligibility(cohort: Cohort, *, now: datetime | None = None) -> list[Eligibility]:
    """Each enrolled child of ``cohort`` with the reasons they may not have a certificate yet.

    Eligible when the cohort has held its last lesson, the child's attendance rate (the one
    computation in lms/attendance) meets the course's threshold, and, where the course asks
    for it, the final project is marked as completed.
    """
    now = now or utcnow()
    enrolments = certificate_enrolments(cohort)
    results = [Eligibility(enrolment) for enrolment in enrolments]
    end = last_lesson_end(cohort)
    if end is None or end > now:
        for result in results:
            result.reasons.append(_l("The cohort has not held its last lesson yet."))
    for result, (rate, reasons) in zip(
        results, _attendance_and_project(cohort, enrolments, now), strict=True
    ):
        result.rate = rate
        result.reasons.extend(reasons)
    return results


def _attendance_and_project(cohort: Cohort, enrolments: Sequence[Enrolment], now: datetime):
    """(rate, reasons) per enrolment from the attendance domain."""
    from lms.certificates.eligibility import attendance_and_project

    return attendance_and_project(cohort, enrolments, now)


def eligibility_of(enrolment: Enrolment, *, now: datetime | None = None) -> Eligibility:
    """The eligibility of one enrolment."""
    for result in eligibility(enrolment.cohort, now=now):
        if result.enrolment.id == enrolment.id:
            return result
    return Eligibility(enrolment, [_l("The child is not enrolled in this cohort.")])


# ---------------------------------------------------------------------------------------------
# The data a certificate shows


def verification_url(code: str) -> str:
    """The public address the QR code points to."""
    if has_request_context():
        return url_for("certificates.verify_code", code=code, _external=True)
    app = current_app._get_current_object()
    with app.test_request_context(base_url=app.config["BASE_URL"]):
        return url_for("certificates.verify_code", code=code, _external=True)


def _hours(lessons: Sequence[Lesson]) -> str:
    minutes = sum(
        int((lesson.ends_at - lesson.starts_at).total_seconds() // 60) for lesson in lessons
    )
    hours, rest = divmod(minutes, 60)
    return str(hours) if not rest else f"{minutes / 60:.1f}"


def certificate_data(
    enrolment: Enrolment,
    *,
    code: str,
    issued_on: date,
    coordinator: User,
    languages: Sequence[str],
) -> dict:
    """The plain values the PDF renders (no ORM objects): stored with the certificate."""
    child, cohort = enrolment.child, enrolment.cohort
    course = cohort.course
    held = [lesson for lesson in cohort.lessons if lesson.status == LessonStatus.SCHEDULED]
    staff = sorted(cohort.staff, key=lambda s: (s.role != "lead", s.instructor.full_name))
    arabic_name = (
        f"{child.first_name_ar} {child.last_name_ar}"
        if child.first_name_ar and child.last_name_ar
        else None
    )
    return {
        "code": code,
        "verification_url": verification_url(code),
        "child_name": f"{child.first_name} {child.last_name}",
        "child_name_ar": arabic_name,
        "course_title_fr": course.title_fr,
        "course_title_ar": course.title_ar or course.title_fr,
        "course_title_en": course.title_en or course.title_fr,
        "track": course.track,
        "lessons": len(held),
        "hours": _hours(held),
        "start_date": cohort.start_date.isoformat(),
        "end_date": cohort.end_date.isoformat(),
        "issue_date": issued_on.isoformat(),
        "instructors": [member.instructor.full_name for member in staff],
        "coordinator": coordinator.full_name,
        "languages": list(languages),
        **_signatures(coordinator, [member.instructor for member in staff]),
    }


def _signatures(coordinator: User, instructors: Sequence[User]) -> dict:
    """The signature images of the signers, by file name; nothing when none has one (the
    data, and so the PDF, of a certificate with typed names stays what it always was)."""
    names = [instructor.signature_image for instructor in instructors]
    if not coordinator.signature_image and not any(names):
        return {}
    return {"signatures": {"coordinator": coordinator.signature_image, "instructors": names}}


def _for_rendering(data: dict) -> dict:
    """The stored data with the bytes of its signature images, which the renderer needs."""
    wanted = data.get("signatures")
    if not wanted:
        return data
    names = [wanted.get("coordinator"), *wanted.get("instructors", [])]
    images = {name: signatures.read(name) for name in names if name}
    return {**data, "signature_images": {k: v for k, v in images.items() if v is not None}}


# ---------------------------------------------------------------------------------------------
# Storage


def _storage_root() -> Path:
    return Path(current_app.instance_path)


def _store(certificate: Certificate, pdf: bytes) -> None:
    relative = Path(STORAGE) / certificate.code[3:5] / f"{certificate.code}.pdf"
    path = _storage_root() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(pdf)
    partial.replace(path)
    certificate.pdf_path = str(relative)
    certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()


class CertificateFileError(RuntimeError):
    pass


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate's PDF: the stored file, or, if it went missing, the same bytes again.

    The SHA-256 recorded at issue is checked either way; a stored file that does not match is
    replaced by the regenerated one when that one matches.
    """
    if certificate.holder_erased_at is not None or not certificate.pdf_path:
        raise CertificateFileError("this certificate's file was erased")
    path = _storage_root() / certificate.pdf_path
    if path.is_file():
        pdf = path.read_bytes()
        if hashlib.sha256(pdf).hexdigest() == certificate.pdf_sha256:
            return pdf
    pdf = rendering.render_certificate(_for_rendering(certificate.data))
    if hashlib.sha256(pdf).hexdigest() != certificate.pdf_sha256:
        raise CertificateFileError(
            f"certificate {certificate.code}: the regenerated file differs from the issued one"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    return pdf


def download_name(certificate: Certificate) -> str:
    """A safe ASCII file name: the child's Latin name, the course, the code (never collides)."""
    data = certificate.data
    stem = safe_filename(f"{data.get('child_name', '')} {data.get('course_title_fr', '')}")
    return f"{stem}-{certificate.code}.pdf"


# ---------------------------------------------------------------------------------------------
# Issue, revoke, reissue


def _require_coordinator(actor: User) -> None:
    if not can_manage_certificates(actor):
        raise DomainError(_l("Only coordinators issue and revoke certificates."))


def _unique_code() -> str:
    while True:
        code = new_code()
        if db.session.scalar(select(Certificate.id).where(Certificate.code == code)) is None:
            return code


def valid_certificate(enrolment: Enrolment) -> Certificate | None:
    """The enrolment's valid certificate, if it has one."""
    return db.session.scalar(
        select(Certificate).where(
            Certificate.enrolment_id == enrolment.id,
            Certificate.status == CertificateStatus.VALID,
        )
    )


def _check_languages(languages: Sequence[str]) -> tuple[str, ...]:
    languages = tuple(languages)
    if languages not in LANGUAGE_CHOICES:
        raise DomainError(_l("A certificate is in French and Arabic, optionally English."))
    return languages


def _create(
    enrolments: Sequence[Enrolment],
    *,
    actor: User,
    languages: Sequence[str],
    override_reason: str | None = None,
    supersede: dict[int, Certificate] | None = None,
) -> list[Certificate]:
    """Render all in one pass, store one file each, record, e-mail the parents."""
    supersede = supersede or {}
    issued_on = local_today()
    now = utcnow()
    certificates = []
    for enrolment in enrolments:
        code = _unique_code()
        certificates.append(
            Certificate(
                code=code,
                enrolment=enrolment,
                child_id=enrolment.child_id,
                cohort_id=enrolment.cohort_id,
                status=CertificateStatus.VALID,
                languages=",".join(languages),
                data=certificate_data(
                    enrolment,
                    code=code,
                    issued_on=issued_on,
                    coordinator=actor,
                    languages=languages,
                ),
                issued_at=now,
                issued_by_id=actor.id,
                override_reason=override_reason,
            )
        )
    if not certificates:
        return []
    files = rendering.render_certificate_files([_for_rendering(c.data) for c in certificates])
    for certificate, pdf in zip(certificates, files, strict=True):
        old = supersede.get(certificate.enrolment.id)
        if old is not None:
            old.status = CertificateStatus.SUPERSEDED
            old.superseded_at = now
            db.session.flush()
        _store(certificate, pdf)
        db.session.add(certificate)
        db.session.flush()
        if old is not None:
            old.superseded_by_id = certificate.id
        audit.record(
            "certificate.reissued" if old is not None else "certificate.issued",
            actor=actor,
            subject=certificate,
            enrolment=certificate.enrolment_id,
            replaces=old.id if old is not None else None,
            reason=override_reason,
        )
        _tell_parents(certificate)
    db.session.flush()
    return certificates


def _tell_parents(certificate: Certificate) -> None:
    guardians = db.session.scalars(
        select(User)
        .join(Guardianship, Guardianship.user_id == User.id)
        .where(Guardianship.child_id == certificate.child_id, User.active.is_(True))
    )
    for guardian in guardians:
        notify(
            guardian,
            "certificate_issued",
            topic=cohort_topic(certificate.cohort_id),
            certificate=certificate,
            child_first_name=certificate.data["child_name"].split(" ")[0],
        )


def issue_to_all_eligible(
    cohort: Cohort, *, actor: User, languages: Sequence[str] = ("fr", "ar")
) -> list[Certificate]:
    """Issue the cohort's certificates to every eligible child who has none yet, in one pass."""
    _require_coordinator(actor)
    languages = _check_languages(languages)
    _lock_cohort(cohort)
    eligible = [
        result.enrolment
        for result in eligibility(cohort)
        if result.eligible and valid_certificate(result.enrolment) is None
    ]
    return _create(eligible, actor=actor, languages=languages)


def issue_certificate(
    enrolment: Enrolment,
    *,
    actor: User,
    override_reason: str | None = None,
    languages: Sequence[str] = ("fr", "ar"),
) -> Certificate:
    """Issue one certificate; a child who is not eligible needs an override with a reason.

    Issuing twice does nothing new: the existing valid certificate is returned.
    """
    _require_coordinator(actor)
    languages = _check_languages(languages)
    _lock_cohort(enrolment.cohort)
    existing = valid_certificate(enrolment)
    if existing is not None:
        return existing
    if enrolment.status != EnrolmentStatus.ENROLLED:
        raise DomainError(_l("Only an enrolled child can receive a certificate."))
    result = eligibility_of(enrolment)
    override_reason = (override_reason or "").strip() or None
    if not result.eligible and override_reason is None:
        raise DomainError(
            _l(
                "This child is not eligible: %(reasons)s Give a reason to issue anyway.",
                reasons=" ".join(str(reason) for reason in result.reasons),
            ),
            field="reason",
        )
    return _create(
        [enrolment],
        actor=actor,
        languages=languages,
        override_reason=override_reason if not result.eligible else None,
    )[0]


def revoke_certificate(certificate: Certificate, *, actor: User, reason: str) -> Certificate:
    """Revoke a valid certificate, with a reason. Revoked stays revoked."""
    _require_coordinator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_l("Say why the certificate is revoked."), field="reason")
    if certificate.status != CertificateStatus.VALID:
        raise DomainError(_l("Only a valid certificate can be revoked."))
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = actor.id
    certificate.revoke_reason = reason[:500]
    audit.record("certificate.revoked", actor=actor, subject=certificate, reason=reason)
    db.session.flush()
    return certificate


def reissue_certificate(
    certificate: Certificate, *, actor: User, languages: Sequence[str] | None = None
) -> Certificate:
    """A new certificate (new code, current names) replaces a valid one, marked superseded."""
    _require_coordinator(actor)
    if certificate.status != CertificateStatus.VALID:
        raise DomainError(_l("Only a valid certificate can be reissued."))
    if certificate.holder_erased_at is not None:
        raise DomainError(_l("The holder's data was erased."))
    languages = _check_languages(languages or certificate.language_list)
    _lock_cohort(certificate.cohort)
    return _create(
        [certificate.enrolment],
        actor=actor,
        languages=languages,
        override_reason=certificate.override_reason,
        supersede={certificate.enrolment_id: certificate},
    )[0]


def _lock_cohort(cohort: Cohort) -> None:
    """Serialize issuing for one cohort (PostgreSQL row lock; SQLite writes are serial)."""
    db.session.execute(select(Cohort.id).where(Cohort.id == cohort.id).with_for_update())


# ---------------------------------------------------------------------------------------------
# Reading


def cohort_certificates(cohort: Cohort) -> dict[int, list[Certificate]]:
    """The cohort's certificates by enrolment id, newest first."""
    by_enrolment: dict[int, list[Certificate]] = {}
    for certificate in db.session.scalars(
        select(Certificate)
        .where(Certificate.cohort_id == cohort.id)
        .order_by(Certificate.id.desc())
    ):
        by_enrolment.setdefault(certificate.enrolment_id, []).append(certificate)
    return by_enrolment


def certificates_of_children(child_ids: Sequence[int]) -> list[Certificate]:
    """Valid and revoked certificates of these children (what a parent sees), newest first."""
    if not child_ids:
        return []
    return list(
        db.session.scalars(
            select(Certificate)
            .where(
                Certificate.child_id.in_(child_ids),
                Certificate.status != CertificateStatus.SUPERSEDED,
                Certificate.holder_erased_at.is_(None),
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def cohort_zip(cohort: Cohort) -> bytes:
    """Every valid certificate of the cohort in one ZIP with safe, distinct ASCII names."""
    names: set[str] = set()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for certificate in db.session.scalars(
            select(Certificate)
            .where(
                Certificate.cohort_id == cohort.id,
                Certificate.status == CertificateStatus.VALID,
                Certificate.holder_erased_at.is_(None),
            )
            .order_by(Certificate.id)
        ):
            name = download_name(certificate)
            while name in names:  # codes are unique, so this never loops more than once
                name = f"{certificate.id}-{name}"
            names.add(name)
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, certificate_pdf(certificate))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Public verification


class VerificationState:
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    ERASED = "erased"
    UNKNOWN = "unknown"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Verification:
    """What a verifier is told: the state, and only what they need to know."""

    state: str
    code: str | None = None
    holder: str | None = None  # first name and last initial
    course_fr: str | None = None
    course_ar: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    issue_date: str | None = None
    revoked_at: datetime | None = None


def _short_name(full_name: str) -> str:
    first, _, rest = full_name.strip().partition(" ")
    return f"{first} {rest.strip()[:1]}." if rest.strip() else first


def verify(text: str) -> Verification:
    """Check a code typed or scanned by anyone: valid, revoked, superseded, erased, unknown.

    A mistyped code is caught by its check character before any lookup.
    """
    code = normalize_code(text or "")
    if code is None:
        return Verification(VerificationState.MALFORMED)
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None:
        return Verification(VerificationState.UNKNOWN, code=code)
    if certificate.holder_erased_at is not None:
        return Verification(VerificationState.ERASED, code=code)
    data = certificate.data
    common = {
        "code": code,
        "holder": _short_name(data["child_name"]),
        "course_fr": data["course_title_fr"],
        "course_ar": data["course_title_ar"],
        "start_date": data["start_date"],
        "end_date": data["end_date"],
        "issue_date": data["issue_date"],
    }
    if certificate.status == CertificateStatus.REVOKED:
        return Verification(VerificationState.REVOKED, revoked_at=certificate.revoked_at, **common)
    if certificate.status == CertificateStatus.SUPERSEDED:
        return Verification(VerificationState.SUPERSEDED, **common)
    return Verification(VerificationState.VALID, **common)


# ---------------------------------------------------------------------------------------------
# Erasure (called by the families domain through its hook)


def certificates_of_child(child: Child) -> list[Certificate]:
    return list(db.session.scalars(select(Certificate).where(Certificate.child_id == child.id)))


def erase_holder(child: Child) -> int:
    """The child's data was erased: delete the PDFs and the names; codes stay verifiable."""
    certificates = certificates_of_child(child)
    for certificate in certificates:
        if certificate.pdf_path:
            (_storage_root() / certificate.pdf_path).unlink(missing_ok=True)
        certificate.pdf_path = None
        certificate.pdf_sha256 = None
        certificate.data = {"code": certificate.code}
        certificate.holder_erased_at = utcnow()
    db.session.flush()
    return len(certificates)
