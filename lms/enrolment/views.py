"""Enrolment pages: parents enrol, withdraw and answer seat offers; coordinators run rosters,
waiting lists, fees and payments."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.courses.loaders import load_cohort as load_coordinator_cohort
from lms.courses.models import Cohort, CohortStatus, Course, course_prerequisites
from lms.courses.permissions import can_view_cohort
from lms.enrolment import receipts, services
from lms.enrolment.forms import (
    CancelForm,
    CoordinatorEnrolForm,
    EnrolForm,
    FeeWaiverForm,
    MoveForm,
    PaymentForm,
    PrerequisiteWaiverForm,
    centimes,
)
from lms.enrolment.models import (
    ENROLMENT_STATUS_LABELS,
    PAYMENT_METHOD_LABELS,
    EndReason,
    Enrolment,
    EnrolmentStatus,
    Payment,
    PrerequisiteWaiver,
)
from lms.enrolment.permissions import can_act_for, can_view_payment
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child
from lms.forms import apply_domain_error, choices, render_form
from lms.money import format_money
from lms.roles import Role
from lms.security import role_required, safe_next_url

bp = Blueprint("enrolment", __name__)

END_REASON_LABELS = {
    EndReason.WITHDRAWN_BY_PARENT: _l("Withdrawn by the family"),
    EndReason.OFFER_DECLINED: _l("Seat declined"),
    EndReason.OFFER_EXPIRED: _l("Offer expired"),
    EndReason.CANCELLED_BY_COORDINATOR: _l("Cancelled by the lab"),
    EndReason.COHORT_CANCELLED: _l("Group cancelled"),
    EndReason.MOVED: _l("Moved to another group"),
    EndReason.CHILD_ERASED: _l("Child's data erased"),
}


@bp.app_template_filter("mad")
def money(amount_centimes: int) -> str:
    """An amount in centimes as dirhams in the reader's language."""
    return format_money(amount_centimes)


@bp.app_template_filter("moment")
def moment(instant) -> str:
    """An instant as "Wednesday 9 September 2026 at 09:00" (lab time, reader's language)."""
    return _(
        "%(date)s at %(time)s",
        date=format_date(instant, "full"),
        time=format_time(instant, "short"),
    )


@bp.app_context_processor
def enrolment_names():
    return {
        "enrolment_status_names": ENROLMENT_STATUS_LABELS,
        "payment_method_names": PAYMENT_METHOD_LABELS,
        "end_reason_names": END_REASON_LABELS,
    }


def _settle(cohorts) -> None:
    """Lapsed offers of these cohorts move on before the page shows them."""
    if services.expire_offers(list(cohorts)):
        db.session.commit()


def _back(default: str) -> str:
    return safe_next_url(request.form.get("next")) or default


def _home() -> str:
    return url_for("dashboard.parent_home", _anchor="enrolments")


# ---------------------------------------------------------------------------------------------
# Loaders


def load_open_cohort(cohort_id: int) -> Cohort:
    """A cohort families may see, or 404."""
    cohort = db.session.scalar(
        select(Cohort).where(Cohort.id == cohort_id).options(joinedload(Cohort.course))
    )
    if cohort is None or not can_view_cohort(current_user, cohort):
        abort(404)
    return cohort


def load_family_enrolment(enrolment_id: int) -> Enrolment:
    """An enrolment of one of the current parent's children, or 404."""
    enrolment = db.get_or_404(Enrolment, enrolment_id)
    if not can_act_for(current_user, enrolment):
        abort(404)
    return enrolment


def load_enrolment(enrolment_id: int) -> Enrolment:
    """Any enrolment, with its child and group (coordinators' pages), or 404."""
    enrolment = db.session.scalar(
        select(Enrolment)
        .where(Enrolment.id == enrolment_id)
        .options(
            joinedload(Enrolment.child),
            joinedload(Enrolment.cohort).joinedload(Cohort.course),
            selectinload(Enrolment.payments),
        )
    )
    if enrolment is None:
        abort(404)
    return enrolment


def load_payment(payment_id: int) -> Payment:
    """A payment the current user may see the receipt of, or 404."""
    payment = db.get_or_404(Payment, payment_id)
    if not can_view_payment(current_user, payment):
        abort(404)
    return payment


# ---------------------------------------------------------------------------------------------
# Parents: enrol


def _result_message(result: services.EnrolResult) -> tuple[str, str]:
    """The flash message of one child's result, and its category."""
    name = result.child.first_name
    if result.error is not None:
        return str(result.error.message), "error"
    if result.enrolment.status == EnrolmentStatus.ENROLLED:
        return _(
            "%(name)s is enrolled. A confirmation e-mail with the lesson dates is on its way.",
            name=name,
        ), "success"
    return _(
        "The group is full: %(name)s is number %(position)d on the waiting list. We will "
        "e-mail you as soon as a seat is free.",
        name=name,
        position=result.position or 0,
    ), "warning"


@bp.route("/cohorts/<int:cohort_id>/enrol", methods=["GET", "POST"])
@role_required(Role.PARENT)
def enrol(cohort_id: int):
    cohort = load_open_cohort(cohort_id)
    _settle([cohort])
    children = services.children_for_enrolment(current_user)
    form = EnrolForm()
    form.children.choices = choices((child.id, child.full_name) for child in children)
    if form.validate_on_submit():
        chosen = [child for child in children if child.id in set(form.children.data)]
        results = services.enrol_children(chosen, cohort, actor=current_user)
        messages = [_result_message(result) for result in results]  # before commit expires them
        db.session.commit()
        if any(result.ok for result in results):
            for message, category in messages:
                flash(message, category)
            return redirect(_home())
        form.children.errors = [message for message, _category in messages]
    # Each child's situation, shown next to its box (a dry run of the rules).
    problems = {
        child.id: services.enrolment_problem(child, cohort, actor=current_user)
        for child in children
    }
    if request.method == "GET":
        wanted = request.args.get("child", type=int)
        eligible = [child.id for child in children if problems[child.id] is None]
        form.children.data = [wanted] if wanted in eligible else eligible[:1]
    return render_form(
        "enrolment/enrol.html", form, cohort=cohort, children=children, problems=problems
    )


# ---------------------------------------------------------------------------------------------
# Parents: withdraw, accept, decline


def _run_for_family(enrolment: Enrolment, action, success: str):
    try:
        action(enrolment, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(_back(_home()))


@bp.post("/enrolments/<int:enrolment_id>/withdraw")
@role_required(Role.PARENT)
def withdraw(enrolment_id: int):
    enrolment = load_family_enrolment(enrolment_id)
    name = enrolment.child.first_name
    if enrolment.status == EnrolmentStatus.WAITLISTED:
        message = _("%(name)s is no longer on the waiting list.", name=name)
    elif enrolment.status == EnrolmentStatus.OFFERED:
        message = _("You declined the seat; it goes to the next child waiting.")
    else:
        message = _(
            "%(name)s is withdrawn from the group. A confirmation e-mail is on its way.",
            name=name,
        )
    return _run_for_family(enrolment, services.withdraw, message)


@bp.post("/enrolments/<int:enrolment_id>/accept")
@role_required(Role.PARENT)
def accept(enrolment_id: int):
    enrolment = load_family_enrolment(enrolment_id)
    message = _("%(name)s has the seat: welcome to the group!", name=enrolment.child.first_name)
    return _run_for_family(enrolment, services.accept_offer, message)


@bp.post("/enrolments/<int:enrolment_id>/decline")
@role_required(Role.PARENT)
def decline(enrolment_id: int):
    enrolment = load_family_enrolment(enrolment_id)
    message = _("You declined the seat; it goes to the next child waiting.")
    return _run_for_family(enrolment, services.decline_offer, message)


@bp.route("/offers/<token>", methods=["GET", "POST"])
@role_required(Role.PARENT)
def offer(token: str):
    try:
        enrolment, action = services.offer_from_token(token)
    except DomainError as error:
        return render_template("enrolment/offer.html", enrolment=None, error=error.message), 404
    if not can_act_for(current_user, enrolment):
        abort(404)
    _settle([enrolment.cohort])
    if request.method == "POST":
        run = services.accept_offer if action == "accept" else services.decline_offer
        try:
            run(enrolment, actor=current_user)
        except DomainError as error:
            db.session.rollback()
            return render_template(
                "enrolment/offer.html", enrolment=enrolment, action=action, error=error.message
            ), 409
        db.session.commit()
        if action == "accept":
            flash(
                _("%(name)s has the seat: welcome to the group!", name=enrolment.child.first_name),
                "success",
            )
        else:
            flash(_("You declined the seat; it goes to the next child waiting."), "success")
        return redirect(_home())
    refusal = services.offer_refusal(enrolment)
    return render_template(
        "enrolment/offer.html",
        enrolment=enrolment,
        action=action,
        error=refusal.message if refusal else None,
    )


@bp.get("/payments/<int:payment_id>/receipt.pdf")
@login_required
def receipt(payment_id: int):
    payment = load_payment(payment_id)
    language = current_user.locale if current_user.is_parent else None
    pdf = receipts.receipt_pdf(payment, language=language)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="receipt-{payment.receipt_number}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------------------------
# Coordinators: a group's roster


def _coordinator_cohort(cohort_id: int) -> Cohort:
    return load_coordinator_cohort(cohort_id)


@bp.get("/coordinator/cohorts/<int:cohort_id>/enrolments")
@role_required(Role.COORDINATOR)
def cohort_enrolments(cohort_id: int):
    cohort = _coordinator_cohort(cohort_id)
    _settle([cohort])
    return render_template(
        "enrolment/cohort_enrolments.html",
        cohort=cohort,
        roster=services.cohort_roster(cohort),
        problems=services.check_consistency([cohort]),
    )


def _children_choices() -> list:
    rows = db.session.execute(
        select(Child.id, Child.first_name, Child.last_name, Child.date_of_birth)
        .where(Child.erased_at.is_(None))
        .order_by(Child.last_name, Child.first_name, Child.id)
    ).all()
    return choices(
        (id_, _("%(name)s (born %(date)s)", name=f"{last} {first}", date=born.isoformat()))
        for id_, first, last, born in rows
    )


@bp.route("/coordinator/cohorts/<int:cohort_id>/enrolments/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def coordinator_enrol(cohort_id: int):
    cohort = _coordinator_cohort(cohort_id)
    form = CoordinatorEnrolForm()
    form.child_id.choices = _children_choices()
    if form.validate_on_submit():
        child = db.session.get(Child, form.child_id.data)
        try:
            enrolment = services.enrol_by_coordinator(
                child,
                cohort,
                actor=current_user,
                override_age=form.override_age.data,
                override_prerequisites=form.override_prerequisites.data,
                reason=form.reason.data,
            )
        except DomainError as error:
            db.session.rollback()
            if error.field == "children":
                error.field = "child_id"
            apply_domain_error(form, error)
        else:
            db.session.commit()
            if enrolment.status == EnrolmentStatus.ENROLLED:
                flash(_("%(name)s is enrolled.", name=child.full_name), "success")
            else:
                flash(
                    _(
                        "The group is full: %(name)s is on the waiting list.",
                        name=child.full_name,
                    ),
                    "warning",
                )
            return redirect(url_for("enrolment.cohort_enrolments", cohort_id=cohort.id))
    return render_form("enrolment/coordinator_enrol.html", form, cohort=cohort)


@bp.route("/coordinator/enrolments/<int:enrolment_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cancel(enrolment_id: int):
    enrolment = load_enrolment(enrolment_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_enrolment(enrolment, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The enrolment is cancelled and the family told."), "success")
            return redirect(url_for("enrolment.cohort_enrolments", cohort_id=enrolment.cohort_id))
    return render_form("enrolment/cancel.html", form, enrolment=enrolment)


def _move_targets(enrolment: Enrolment) -> list[Cohort]:
    return list(
        db.session.scalars(
            select(Cohort)
            .join(Cohort.course)
            .where(
                Cohort.id != enrolment.cohort_id,
                Cohort.status.in_((CohortStatus.OPEN, CohortStatus.CLOSED)),
                Cohort.end_date >= services.local_day(services.utcnow()),
            )
            .options(joinedload(Cohort.course))
            .order_by(Course.title_fr, Cohort.start_date, Cohort.id)
        )
    )


@bp.route("/coordinator/enrolments/<int:enrolment_id>/move", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def move(enrolment_id: int):
    enrolment = load_enrolment(enrolment_id)
    form = MoveForm()
    targets = _move_targets(enrolment)
    form.cohort_id.choices = choices(
        (
            cohort.id,
            _(
                "%(course)s, from %(date)s (%(num)d seats free)",
                course=cohort.course.title_fr,
                date=cohort.start_date.isoformat(),
                num=cohort.seats_left,
            ),
        )
        for cohort in targets
    )
    if form.validate_on_submit():
        target = db.session.get(Cohort, form.cohort_id.data)
        try:
            moved = services.move_enrolment(
                enrolment,
                target,
                actor=current_user,
                override_rules=form.override_rules.data,
                reason=form.reason.data,
            )
        except DomainError as error:
            db.session.rollback()
            if error.field == "children":
                error.field = "cohort_id"
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s is moved.", name=moved.child.full_name), "success")
            return redirect(url_for("enrolment.cohort_enrolments", cohort_id=moved.cohort_id))
    return render_form("enrolment/move.html", form, enrolment=enrolment)


@bp.route("/coordinator/enrolments/<int:enrolment_id>/fee-waiver", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def fee_waiver(enrolment_id: int):
    enrolment = load_enrolment(enrolment_id)
    form = FeeWaiverForm()
    if request.method == "GET":
        form.amount.data = enrolment.waiver_centimes / 100
        form.reason.data = enrolment.waiver_reason
    if form.validate_on_submit():
        try:
            services.set_fee_waiver(
                enrolment,
                actor=current_user,
                amount_centimes=centimes(form.amount.data),
                reason=form.reason.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The fee is updated."), "success")
            return redirect(url_for("enrolment.cohort_enrolments", cohort_id=enrolment.cohort_id))
    return render_form("enrolment/fee_waiver.html", form, enrolment=enrolment)


@bp.route("/coordinator/enrolments/<int:enrolment_id>/payments/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def payment_new(enrolment_id: int):
    enrolment = load_enrolment(enrolment_id)
    form = PaymentForm()
    if request.method == "GET":
        form.paid_on.data = services.local_day(services.utcnow())
        if enrolment.balance_centimes > 0:
            form.amount.data = enrolment.balance_centimes / 100
    if form.validate_on_submit():
        try:
            payment = services.record_payment(
                enrolment,
                actor=current_user,
                amount_centimes=centimes(form.amount.data),
                method=form.method.data,
                reference=form.reference.data,
                paid_on=form.paid_on.data,
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(
                _("Payment recorded: receipt %(number)s.", number=payment.receipt_number),
                "success",
            )
            return redirect(url_for("enrolment.cohort_enrolments", cohort_id=enrolment.cohort_id))
    return render_form("enrolment/payment_form.html", form, enrolment=enrolment)


# ---------------------------------------------------------------------------------------------
# Coordinators: prerequisite waivers


@bp.route("/coordinator/prerequisite-waivers", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def prerequisite_waivers():
    form = PrerequisiteWaiverForm()
    form.child_id.choices = _children_choices()
    prerequisite_ids = select(course_prerequisites.c.prerequisite_id)
    form.course_id.choices = choices(
        db.session.execute(
            select(Course.id, Course.title_fr)
            .where(Course.id.in_(prerequisite_ids))
            .order_by(Course.title_fr)
        ).all()
    )
    if form.validate_on_submit():
        child = db.session.get(Child, form.child_id.data)
        course = db.session.get(Course, form.course_id.data)
        try:
            services.grant_prerequisite_waiver(
                child, course, actor=current_user, reason=form.reason.data
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The waiver is saved."), "success")
            return redirect(url_for("enrolment.prerequisite_waivers"))
    waivers = db.session.scalars(
        select(PrerequisiteWaiver)
        .join(Child, Child.id == PrerequisiteWaiver.child_id)
        .options(
            joinedload(PrerequisiteWaiver.child),
            joinedload(PrerequisiteWaiver.course),
            joinedload(PrerequisiteWaiver.granted_by),
        )
        .order_by(PrerequisiteWaiver.granted_at.desc(), PrerequisiteWaiver.id.desc())
    ).all()
    return render_form("enrolment/prerequisite_waivers.html", form, waivers=waivers)


@bp.post("/coordinator/prerequisite-waivers/<int:waiver_id>/revoke")
@role_required(Role.COORDINATOR)
def prerequisite_waiver_revoke(waiver_id: int):
    waiver = db.get_or_404(PrerequisiteWaiver, waiver_id)
    services.revoke_prerequisite_waiver(waiver, actor=current_user)
    db.session.commit()
    flash(_("The waiver is withdrawn."), "success")
    return redirect(url_for("enrolment.prerequisite_waivers"))
