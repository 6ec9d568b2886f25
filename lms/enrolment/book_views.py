"""The books (coordinators): credit notes on payments, and their PDFs (families too)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.enrolment import credit_notes, receipts
from lms.enrolment.forms import CreditNoteForm, centimes
from lms.enrolment.loaders import load_credit_note, load_payment_to_credit
from lms.forms import render_form
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("books", __name__)


@bp.route("/coordinator/payments/<int:payment_id>/credit-notes/new", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def credit_note_new(payment_id: int):
    payment = load_payment_to_credit(payment_id)
    form = CreditNoteForm()
    if request.method == "GET":
        suggested = credit_notes.suggested_refund(payment)
        if suggested:
            form.amount.data = suggested / 100
    if form.validate_on_submit():
        note = credit_notes.issue_credit_note(
            payment,
            actor=current_user,
            amount_centimes=centimes(form.amount.data),
            reason=form.reason.data,
        )
        flash(_("Credit note %(number)s issued.", number=note.number), "success")
        return redirect(
            url_for("enrolment.cohort_enrolments", cohort_id=payment.enrolment.cohort_id)
        )
    return render_form(
        "enrolment/credit_note_form.html",
        form,
        payment=payment,
        refund_due=credit_notes.refund_due(payment.enrolment),
    )


@bp.get("/credit-notes/<int:credit_note_id>/credit-note.pdf")
@login_required
def credit_note_pdf(credit_note_id: int):
    note = load_credit_note(credit_note_id)
    language = current_user.locale if current_user.is_parent else None
    response = Response(
        receipts.credit_note_pdf(note, language=language), mimetype="application/pdf"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="credit-note-{note.number}.pdf"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
