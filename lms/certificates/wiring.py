"""What certificates tell the domains below: a family's export and erasure (families), whether
a child holds a prerequisite (enrolment), and a link on the coordinators' cohort page
(courses)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from lms.courses import hooks as courses_hooks
from lms.enrolment import hooks as enrolment_hooks
from lms.families import hooks
from lms.families.models import Child
from lms.hooks import PageSection


def _export(user, children: Sequence[Child]) -> hooks.ExportSection:
    from lms.certificates.services import certificates_of_children

    return hooks.ExportSection(
        key="certificates",
        title=_l("Certificates"),
        data=[
            {
                "code": certificate.code,
                "child_id": certificate.child_id,
                "course": certificate.data.get("course_title_fr"),
                "status": certificate.status,
                "issued_at": certificate.issued_at.isoformat(),
                "revoked_at": certificate.revoked_at.isoformat()
                if certificate.revoked_at
                else None,
                "verification_url": certificate.data.get("verification_url"),
            }
            for certificate in certificates_of_children([child.id for child in children])
        ],
        labels={
            "code": _l("Code"),
            "child_id": _l("Child"),
            "course": _l("Workshop"),
            "status": _l("Status"),
            "issued_at": _l("Issued on"),
            "revoked_at": _l("Revoked on"),
            "verification_url": _l("Verification page"),
        },
    )


def _describe_erasure(child: Child) -> list:
    from lms.certificates.services import certificates_of_child

    count = len(certificates_of_child(child))
    if not count:
        return []
    return [
        ngettext(
            "%(num)d certificate: its PDF is deleted; checking its code will say the holder's "
            "data was erased.",
            "%(num)d certificates: their PDFs are deleted; checking their codes will say the "
            "holder's data was erased.",
            count,
        )
    ]


def _erase(child: Child) -> None:
    from lms.certificates.services import erase_holder

    erase_holder(child)


def holds_valid_certificate(child, course) -> bool:
    """The child holds a valid certificate of one of the course's cohorts."""
    from sqlalchemy import select

    from lms.certificates.models import Certificate, CertificateStatus
    from lms.courses.models import Cohort
    from lms.extensions import db

    return (
        db.session.scalar(
            select(Certificate.id)
            .join(Cohort, Cohort.id == Certificate.cohort_id)
            .where(
                Certificate.child_id == child.id,
                Cohort.course_id == course.id,
                Certificate.status == CertificateStatus.VALID,
                Certificate.holder_erased_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def _cohort_section(cohort) -> PageSection:
    from flask import url_for

    return PageSection(
        "_cohort_links_section.html",
        {
            "key": "certificates",
            "title": _l("Certificates"),
            "links": [
                (
                    _l("Eligibility and certificates"),
                    url_for("certificates.cohort_certificates", cohort_id=cohort.id),
                )
            ],
        },
    )


def install() -> None:
    """Register the certificates' answers to the lower domains' hooks (idempotent)."""
    hooks.export_sections.register(_export)
    hooks.child_erasures.register(hooks.Erasure(describe=_describe_erasure, erase=_erase))
    enrolment_hooks.holds_valid_certificate.provide(holds_valid_certificate)
    courses_hooks.cohort_page_sections.register(_cohort_section)
