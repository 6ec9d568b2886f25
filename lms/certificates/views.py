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

from lms.certificates import services
from lms.certificates.codes import normalize_code
from lms.certificates.filenames import safe_filename
from lms.certificates.forms import IssueAllForm, IssueForm, ReissueForm, RevokeForm, VerifyForm
from lms.certificates.loaders import (
    load_certificate_for_download,
    load_certificate_to_manage,
    load_cohort_for_certificates,
    load_enrolment_for_certificate,
)
from lms.certificates.models import CertificateStatus
from lms.extensions import limiter
from lms.forms import flash_form_errors
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
    cohort = load_cohort_for_certificates(cohort_id)
    results = services.eligibility(cohort)
    certificates = services.cohort_certificates(cohort)
    eligible = [result for result in results if result.eligible]
    # What "Issue the certificates" would do: the eligible children without a valid one yet.
    waiting = [
        result
        for result in eligible
        if not any(c.status == "valid" for c in certificates.get(result.enrolment.id, []))
    ]
    return render_template(
        "certificates/cohort.html",
        cohort=cohort,
        results=results,
        certificates=certificates,
        issue_all_form=IssueAllForm(),
        issue_form=IssueForm(),
        revoke_form=RevokeForm(),
        reissue_form=ReissueForm(),
        eligible_count=len(eligible),
        waiting_count=len(waiting),
        # Their certificate would show the Latin name on its Arabic side too.
        without_arabic_name=[
            result.enrolment.child for result in waiting if not result.enrolment.child.full_name_ar
        ],
    )


@bp.post("/coordinator/cohorts/<int:cohort_id>/certificates/issue")
@role_required(Role.COORDINATOR)
def issue_all(cohort_id: int):
    cohort = load_cohort_for_certificates(cohort_id)
    form = IssueAllForm()
    if form.validate_on_submit():
        issued = services.issue_to_all_eligible(
            cohort, actor=current_user, languages=_languages(form)
        )
        if issued:
            flash(_("%(num)d certificates issued.", num=len(issued)), "success")
        else:
            flash(_("No new certificate: every eligible child already has one."), "info")
    return redirect(url_for("certificates.cohort_certificates", cohort_id=cohort.id))


@bp.post("/coordinator/enrolments/<int:enrolment_id>/certificate")
@role_required(Role.COORDINATOR)
def issue_one(enrolment_id: int):
    enrolment = load_enrolment_for_certificate(enrolment_id)
    form = IssueForm()
    if form.validate_on_submit():
        certificate = services.issue_certificate(
            enrolment,
            actor=current_user,
            override_reason=form.reason.data,
            languages=_languages(form),
        )
        flash(_("Certificate %(code)s issued.", code=certificate.code), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("certificates.cohort_certificates", cohort_id=enrolment.cohort_id))


@bp.post("/coordinator/certificates/<int:certificate_id>/revoke")
@role_required(Role.COORDINATOR)
def revoke(certificate_id: int):
    certificate = load_certificate_to_manage(certificate_id)
    form = RevokeForm()
    if form.validate_on_submit():
        services.revoke_certificate(certificate, actor=current_user, reason=form.reason.data)
        flash(_("Certificate %(code)s revoked.", code=certificate.code), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("certificates.cohort_certificates", cohort_id=certificate.cohort_id))


@bp.post("/coordinator/certificates/<int:certificate_id>/reissue")
@role_required(Role.COORDINATOR)
def reissue(certificate_id: int):
    certificate = load_certificate_to_manage(certificate_id)
    form = ReissueForm()
    if form.validate_on_submit():
        replacement = services.reissue_certificate(
            certificate, actor=current_user, languages=_languages(form)
        )
        flash(_("Certificate %(code)s issued in its place.", code=replacement.code), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("certificates.cohort_certificates", cohort_id=certificate.cohort_id))


@bp.get("/coordinator/cohorts/<int:cohort_id>/certificates.zip")
@role_required(Role.COORDINATOR)
def cohort_zip(cohort_id: int):
    cohort = load_cohort_for_certificates(cohort_id)
    try:
        archive = services.cohort_zip(cohort)
    except services.CertificateFileError:
        current_app.logger.error("cohort %s: a certificate file cannot be produced", cohort.id)
        abort(503)  # as for one certificate: logged, and no crash page
    name = f"certificats-{safe_filename(cohort.course.title_fr)}-{cohort.id}.zip"
    return Response(
        archive,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---------------------------------------------------------------------------------------------
# Parents (and coordinators): the PDF


@bp.get("/certificates/<int:certificate_id>.pdf")
@login_required
def download(certificate_id: int):
    certificate = load_certificate_for_download(certificate_id)
    try:
        pdf = services.certificate_pdf(certificate)
    except services.CertificateFileError:
        current_app.logger.error("certificate %s: file cannot be produced", certificate.id)
        abort(503)  # logged for the staff; the family is asked to come back, not shown a crash
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
