"""Enrolment pages: parents enrol, withdraw and answer seat offers; coordinators run rosters,
waiting lists, fees and payments."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_time
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.courses.models import Cohort, CohortStatus, Course, course_prerequisites
from lms.database import utcnow
from lms.enrolment import fees, joining, leaving, offers, queries, receipts, rules, seats
from lms.enrolment.forms import (
    CancelForm,
    CoordinatorEnrolForm,
    EnrolForm,
    FeeWaiverForm,
    MoveForm,
    OfferAnswerForm,
    PaymentForm,
    PrerequisiteWaiverForm,
    centimes,
)
from lms.enrolment.loaders import (
    load_enrolment,
    load_family_enrolment,
    load_offer,
    load_open_cohort,
    load_payment,
    load_prerequisite_waiver,
    load_roster_cohort,
)
from lms.enrolment.models import (
    EndReason,
    Enrolment,
    EnrolmentStatus,
    PaymentMethod,
    PrerequisiteWaiver,
)
from lms.extensions import db
from lms.families.models import Child
from lms.forms import apply_domain_error, choices, render_form
from lms.money import format_money
from lms.querystring import arg_int
from lms.roles import Role
from lms.security import role_required, safe_next_url

bp = Blueprint("enrolment", __name__)


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
        "enrolment_status_names": EnrolmentStatus.labels(),
        "payment_method_names": PaymentMethod.labels(),
        "end_reason_names": EndReason.labels(),
    }


def _home() -> str:
    return url_for("dashboard.parent_home", _anchor="enrolments")


def _done(default: str) -> str:
    """Where a family's button goes once done: a safe ``next``, else ``default``."""
    return safe_next_url(request.form.get("next")) or default


# ---------------------------------------------------------------------------------------------
# Parents: enrol


def _result_message(result: joining.EnrolResult) -> tuple[str, str]:
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
    children = rules.children_for_enrolment(current_user)
    form = EnrolForm()
    form.children.choices = choices((child.id, child.full_name) for child in children)
    refused = None
    if form.validate_on_submit():
        chosen = [child for child in children if child.id in set(form.children.data)]
        results = joining.enrol_children(chosen, cohort, actor=current_user)
        messages = [_result_message(result) for result in results]
        if any(result.ok for result in results):
            for message, category in messages:
                flash(message, category)
            return redirect(_home())
        refused = zip(results, messages, strict=True)
    # Each child's situation (a dry run of the rules), for the page only: a child who cannot
    # take the group is shown disabled with its one reason beside its name. A refused child's
    # savepoint was rolled back, so the dry run sees what the enrolment saw.
    problems = {
        child.id: rules.enrolment_problem(child, cohort, actor=current_user) for child in children
    }
    if refused is not None:
        # Every child was refused (each in its own savepoint): the page again, with why, once:
        # beside the child when the page already says it there, else on the list of children.
        form.children.errors = [
            message
            for result, (message, _category) in refused
            if problems.get(result.child.id) is None
        ]
        if not form.children.errors:
            form.form_errors.append(
                _("No child could be enrolled: the reason is beside each name.")
            )
    if request.method == "GET":
        wanted = arg_int("child")
        eligible = [child.id for child in children if problems[child.id] is None]
        form.children.data = [wanted] if wanted in eligible else eligible[:1]
    return render_form(
        "enrolment/enrol.html", form, cohort=cohort, children=children, problems=problems
    )


# ---------------------------------------------------------------------------------------------
# Parents: withdraw, accept, decline


def _welcome(enrolment: Enrolment) -> str:
    return _("%(name)s has the seat: welcome to the group!", name=enrolment.child.first_name)


def _declined() -> str:
    return _("You declined the seat; it goes to the next child waiting.")


@bp.post("/enrolments/<int:enrolment_id>/withdraw")
@role_required(Role.PARENT)
def withdraw(enrolment_id: int):
    enrolment = load_family_enrolment(enrolment_id)
    name = enrolment.child.first_name
    if enrolment.status == EnrolmentStatus.WAITLISTED:
        message = _("%(name)s is no longer on the waiting list.", name=name)
    elif enrolment.status == EnrolmentStatus.OFFERED:
        message = _declined()
    else:
        message = _(
            "%(name)s is withdrawn from the group. A confirmation e-mail is on its way.",
            name=name,
        )
    leaving.withdraw(enrolment, actor=current_user)
    flash(message, "success")
    return redirect(_done(_home()))


@bp.post("/enrolments/<int:enrolment_id>/accept")
@role_required(Role.PARENT)
def accept(enrolment_id: int):
    enrolment = load_family_enrolment(enrolment_id)
    offers.accept_offer(enrolment, actor=current_user)
    flash(
        _("%(name)s has the seat: welcome to the group!", name=enrolment.child.first_name),
        "success",
    )
    return redirect(_done(_home()))


@bp.post("/enrolments/<int:enrolment_id>/decline")
@role_required(Role.PARENT)
def decline(enrolment_id: int):
    enrolment = load_family_enrolment(enrolment_id)
    offers.decline_offer(enrolment, actor=current_user)
    flash(_declined(), "success")
    return redirect(_done(_home()))


@bp.route("/offers/<token>", methods=["GET", "POST"])
@role_required(Role.PARENT)
def offer(token: str):
    """An e-mailed link: GET asks to confirm, the button POSTs the answer."""
    enrolment, action = load_offer(token)
    form = OfferAnswerForm()
    if form.validate_on_submit():
        if action == "accept":
            offers.accept_offer(enrolment, actor=current_user)
            flash(_welcome(enrolment), "success")
        else:
            offers.decline_offer(enrolment, actor=current_user)
            flash(_declined(), "success")
        return redirect(_home())
    # A lapsed or answered offer reads so (nothing is written: the job moves it on).
    refusal = offers.offer_refusal(enrolment)
    if refusal is not None:
        apply_domain_error(form, refusal)
    return render_form(
        "enrolment/offer.html", form, enrolment=enrolment, action=action, open=refusal is None
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


@bp.get("/coordinator/cohorts/<int:cohort_id>/enrolments")
@role_required(Role.COORDINATOR)
def cohort_enrolments(cohort_id: int):
    cohort = load_roster_cohort(cohort_id)
    return render_template(
        "enrolment/cohort_enrolments.html",
        cohort=cohort,
        roster=queries.cohort_roster(cohort),
        problems=seats.check_consistency([cohort]),
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


def _roster(cohort_id: int) -> str:
    return url_for("enrolment.cohort_enrolments", cohort_id=cohort_id)


@bp.route("/coordinator/cohorts/<int:cohort_id>/enrolments/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def coordinator_enrol(cohort_id: int):
    cohort = load_roster_cohort(cohort_id)
    form = CoordinatorEnrolForm()
    form.child_id.choices = _children_choices()
    if form.validate_on_submit():
        child = db.session.get(Child, form.child_id.data)
        enrolment = joining.enrol_by_coordinator(
            child,
            cohort,
            actor=current_user,
            override_age=form.override_age.data,
            override_prerequisites=form.override_prerequisites.data,
            reason=form.reason.data,
        )
        if enrolment.status == EnrolmentStatus.ENROLLED:
            flash(_("%(name)s is enrolled.", name=child.full_name), "success")
        else:
            flash(
                _("The group is full: %(name)s is on the waiting list.", name=child.full_name),
                "warning",
            )
        return redirect(_roster(cohort.id))
    return render_form("enrolment/coordinator_enrol.html", form, cohort=cohort)


@bp.route("/coordinator/enrolments/<int:enrolment_id>/cancel", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cancel(enrolment_id: int):
    enrolment = load_enrolment(enrolment_id)
    form = CancelForm()
    if form.validate_on_submit():
        leaving.cancel_enrolment(enrolment, actor=current_user, reason=form.reason.data)
        flash(_("The enrolment is cancelled and the family told."), "success")
        return redirect(_roster(enrolment.cohort_id))
    return render_form("enrolment/cancel.html", form, enrolment=enrolment)


def _move_targets(enrolment: Enrolment) -> list[Cohort]:
    return list(
        db.session.scalars(
            select(Cohort)
            .join(Cohort.course)
            .where(
                Cohort.id != enrolment.cohort_id,
                Cohort.status.in_((CohortStatus.OPEN, CohortStatus.CLOSED)),
                Cohort.end_date >= seats.local_day(utcnow()),
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
        for cohort in _move_targets(enrolment)
    )
    if form.validate_on_submit():
        moved = leaving.move_enrolment(
            enrolment,
            db.session.get(Cohort, form.cohort_id.data),
            actor=current_user,
            override_rules=form.override_rules.data,
            reason=form.reason.data,
        )
        flash(_("%(name)s is moved.", name=moved.child.full_name), "success")
        return redirect(_roster(moved.cohort_id))
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
        fees.set_fee_waiver(
            enrolment,
            actor=current_user,
            amount_centimes=centimes(form.amount.data),
            reason=form.reason.data,
        )
        flash(_("The fee is updated."), "success")
        return redirect(_roster(enrolment.cohort_id))
    return render_form("enrolment/fee_waiver.html", form, enrolment=enrolment)


@bp.route("/coordinator/enrolments/<int:enrolment_id>/payments/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def payment_new(enrolment_id: int):
    enrolment = load_enrolment(enrolment_id)
    form = PaymentForm()
    if request.method == "GET":
        form.paid_on.data = seats.local_day(utcnow())
        if enrolment.balance_centimes > 0:
            form.amount.data = enrolment.balance_centimes / 100
    if form.validate_on_submit():
        payment = fees.record_payment(
            enrolment,
            actor=current_user,
            amount_centimes=centimes(form.amount.data),
            method=form.method.data,
            reference=form.reference.data,
            paid_on=form.paid_on.data,
        )
        flash(_("Payment recorded: receipt %(number)s.", number=payment.receipt_number), "success")
        return redirect(_roster(enrolment.cohort_id))
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
        rules.grant_prerequisite_waiver(
            db.session.get(Child, form.child_id.data),
            db.session.get(Course, form.course_id.data),
            actor=current_user,
            reason=form.reason.data,
        )
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
    waiver = load_prerequisite_waiver(waiver_id)
    rules.revoke_prerequisite_waiver(waiver, actor=current_user)
    flash(_("The waiver is withdrawn."), "success")
    return redirect(url_for("enrolment.prerequisite_waivers"))
