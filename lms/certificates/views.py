"""Certificate pages: coordinators issue and revoke; parents download; anyone verifies."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from lms.certificates import services
from lms.certificates.codes import normalize_code
from lms.certificates.filenames import safe_filename
from lms.certificates.forms import IssueAllForm, IssueForm, ReissueForm, RevokeForm, VerifyForm
from lms.certificates.models import Certificate, CertificateStatus
from lms.certificates.permissions import can_download_certificate
from lms.courses.models import Cohort
from lms.enrolment.models import Enrolment
from lms.errors import DomainError
from lms.extensions import db, limiter
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("certificates", __name__)


@bp.app_context_processor
def certificate_labels() -> dict:
    return {"certificate_status_names": CertificateStatus.labels()}


def _languages(form) -> tuple[str, ...]:
    return ("fr", "ar", "en") if form.english.data else ("fr", "ar")


# ---------------------------------------------------------------------------------------------
# Coordinators


@bp.get("/coordinator/cohorts/<int:cohort_id>/certificates")
@role_required(Role.COORDINATOR)
def cohort_certificates(cohort_id: int):
    cohort = db.get_or_404(
        Cohort, cohort_id, options=[selectinload(Cohort.course), selectinload(Cohort.lessons)]
    )
    results = services.eligibility(cohort)
    return render_template(
        "certificates/cohort.html",
        cohort=cohort,
        results=results,
        certificates=services.cohort_certificates(cohort),
        issue_all_form=IssueAllForm(),
        issue_form=IssueForm(),
        revoke_form=RevokeForm(),
        reissue_form=ReissueForm(),
        eligible_count=sum(1 for result in results if result.eligible),
    )


@bp.post("/coordinator/cohorts/<int:cohort_id>/certificates/issue")
@role_required(Role.COORDINATOR)
def issue_all(cohort_id: int):
    cohort = db.get_or_404(Cohort, cohort_id)
    form = IssueAllForm()
    if form.validate_on_submit():
        try:
            issued = services.issue_to_all_eligible(
                cohort, actor=current_user, languages=_languages(form)
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            if issued:
                flash(_("%(num)d certificates issued.", num=len(issued)), "success")
            else:
                flash(_("No new certificate: every eligible child already has one."), "info")
    return redirect(url_for("certificates.cohort_certificates", cohort_id=cohort_id))


@bp.post("/coordinator/enrolments/<int:enrolment_id>/certificate")
@role_required(Role.COORDINATOR)
def issue_one(enrolment_id: int):
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    form = IssueForm()
    if form.validate_on_submit():
        try:
            certificate = services.issue_certificate(
                enrolment,
                actor=current_user,
                override_reason=form.reason.data,
                languages=_languages(form),
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Certificate %(code)s issued.", code=certificate.code), "success")
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("certificates.cohort_certificates", cohort_id=enrolment.cohort_id))


def _coordinator_action(certificate_id: int, form_class, action, message):
    certificate = db.get_or_404(Certificate, certificate_id)
    form = form_class()
    if form.validate_on_submit():
        try:
            result = action(certificate, form)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(message(result), "success")
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("certificates.cohort_certificates", cohort_id=certificate.cohort_id))


@bp.post("/coordinator/certificates/<int:certificate_id>/revoke")
@role_required(Role.COORDINATOR)
def revoke(certificate_id: int):
    return _coordinator_action(
        certificate_id,
        RevokeForm,
        lambda certificate, form: services.revoke_certificate(
            certificate, actor=current_user, reason=form.reason.data
        ),
        lambda certificate: _("Certificate %(code)s revoked.", code=certificate.code),
    )


@bp.post("/coordinator/certificates/<int:certificate_id>/reissue")
@role_required(Role.COORDINATOR)
def reissue(certificate_id: int):
    return _coordinator_action(
        certificate_id,
        ReissueForm,
        lambda certificate, form: services.reissue_certificate(
            certificate, actor=current_user, languages=_languages(form)
        ),
        lambda certificate: _("Certificate %(code)s issued in its place.", code=certificate.code),
    )


@bp.get("/coordinator/cohorts/<int:cohort_id>/certificates.zip")
@role_required(Role.COORDINATOR)
def cohort_zip(cohort_id: int):
    cohort = db.get_or_404(Cohort, cohort_id)
    archive = services.cohort_zip(cohort)
    name = f"certificats-{safe_filename(cohort.course.title_fr)}-{cohort.id}.zip"
    return Response(
        archive,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---------------------------------------------------------------------------------------------
# Parents (and coordinators): the PDF


def load_certificate_for_download(certificate_id: int) -> Certificate:
    """The certificate, if the current user may download it; 404 otherwise."""
    certificate = db.get_or_404(Certificate, certificate_id)
    if not can_download_certificate(current_user, certificate):
        abort(404)
    return certificate


@bp.get("/certificates/<int:certificate_id>.pdf")
@login_required
def download(certificate_id: int):
    certificate = load_certificate_for_download(certificate_id)
    try:
        pdf = services.certificate_pdf(certificate)
    except services.CertificateFileError:
        current_app.logger.error("certificate %s: file cannot be produced", certificate.id)
        abort(500)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{services.download_name(certificate)}"',
            "Cache-Control": "private, no-store",
        },
    )


# ---------------------------------------------------------------------------------------------
# Anyone: verification


def _verify_limit() -> str:
    return current_app.config["VERIFY_LIMIT_PER_IP"]


@bp.get("/verify")
@limiter.limit(_verify_limit)
def verify():
    form = VerifyForm(request.args)
    result = None
    if request.args and form.validate():
        code = normalize_code(form.code.data)
        if code is not None:
            return redirect(url_for("certificates.verify_code", code=code))
        result = services.Verification(services.VerificationState.MALFORMED)
    status = 422 if request.args and (form.errors or result) else 200
    return render_template("certificates/verify.html", form=form, result=result), status


@bp.get("/verify/<code>")
@limiter.limit(_verify_limit)
def verify_code(code: str):
    result = services.verify(code[:60])
    form = VerifyForm(formdata=None, code=result.code or code[:40])
    status = 404 if result.state in ("unknown", "malformed") else 200
    return render_template("certificates/verify.html", form=form, result=result), status
