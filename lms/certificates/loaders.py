"""Fetch what a certificate page is about, checking who may see it (404/403)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy.orm import selectinload

from lms.certificates.models import Certificate
from lms.certificates.permissions import can_download_certificate, can_manage_certificates
from lms.courses.models import Cohort
from lms.enrolment.models import Enrolment
from lms.extensions import db


def load_cohort_for_certificates(cohort_id: int) -> Cohort:
    """A cohort whose certificates the current user manages (coordinators); 404 or 403."""
    cohort = db.get_or_404(
        Cohort, cohort_id, options=[selectinload(Cohort.course), selectinload(Cohort.lessons)]
    )
    if not can_manage_certificates(current_user):
        abort(403)
    return cohort


def load_enrolment_for_certificate(enrolment_id: int) -> Enrolment:
    """An enrolment the current user may issue a certificate for (coordinators); 404 or 403."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    if not can_manage_certificates(current_user):
        abort(403)
    return enrolment


def load_certificate_to_manage(certificate_id: int) -> Certificate:
    """A certificate the current user may revoke or reissue (coordinators); 404 or 403."""
    certificate = db.get_or_404(Certificate, certificate_id)
    if not can_manage_certificates(current_user):
        abort(403)
    return certificate


def load_certificate_for_download(certificate_id: int) -> Certificate:
    """The certificate, if the current user may download it; 404 otherwise."""
    certificate = db.get_or_404(Certificate, certificate_id)
    if not can_download_certificate(current_user, certificate):
        abort(404)
    return certificate
