"""Loaders of the enrolment pages: fetch the object, check the per-object permission, or abort.

A family's objects answer 404 to anyone else, so that a stranger learns nothing of them;
coordinators' objects answer 403 to a signed-in user who may not manage enrolments.
"""

from __future__ import annotations

from flask import abort, make_response, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.courses.models import Cohort, Course
from lms.courses.permissions import can_view_cohort
from lms.enrolment import card_payments
from lms.enrolment.models import (
    CardOrder,
    CreditNote,
    Enrolment,
    Payment,
    PrerequisiteWaiver,
    StatementLine,
)
from lms.enrolment.offers import INVALID_LINK, offer_link
from lms.enrolment.permissions import (
    can_act_for,
    can_manage_enrolments,
    can_view_card_order,
    can_view_payment,
)
from lms.extensions import db


def load_open_cohort(cohort_id: int) -> Cohort:
    """A cohort the current user may see (families enrol in it), or 404."""
    # One statement: the course and its prerequisites (the enrolment rules read them) come
    # joined to the cohort.
    cohort = (
        db.session.scalars(
            select(Cohort)
            .where(Cohort.id == cohort_id)
            .options(joinedload(Cohort.course).joinedload(Course.prerequisites))
        )
        .unique()
        .one_or_none()
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


def load_offer(token: str) -> tuple[Enrolment, str]:
    """The enrolment and answer (accept, decline) of an e-mailed offer link the current parent
    may give, or 404 (with a page that says the link is not valid)."""
    link = offer_link(token)
    if link is None:
        page = render_template("enrolment/offer.html", enrolment=None, error=INVALID_LINK)
        abort(make_response(page, 404))
    enrolment, action = link
    if not can_act_for(current_user, enrolment):
        abort(404)
    return enrolment, action


def load_payment(payment_id: int) -> Payment:
    """A payment the current user may see the receipt of, or 404."""
    payment = db.get_or_404(Payment, payment_id)
    if not can_view_payment(current_user, payment):
        abort(404)
    return payment


def load_credit_note(credit_note_id: int) -> CreditNote:
    """A credit note the current user may see (its payment's receipt), or 404."""
    note = db.get_or_404(CreditNote, credit_note_id)
    if not can_view_payment(current_user, note.payment):
        abort(404)
    return note


def load_payment_to_credit(payment_id: int) -> Payment:
    """Any payment, for a coordinator who gives money back on it; 404/403."""
    payment = db.get_or_404(Payment, payment_id)
    if not can_manage_enrolments(current_user):
        abort(403)
    return payment


def load_roster_cohort(cohort_id: int) -> Cohort:
    """A cohort with its course and room, for a coordinator who manages its enrolments; 404/403."""
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(joinedload(Cohort.course), joinedload(Cohort.room))
    )
    if cohort is None:
        abort(404)
    if not can_manage_enrolments(current_user):
        abort(403)
    return cohort


def load_enrolment(enrolment_id: int) -> Enrolment:
    """Any enrolment with its child, group and payments, for a coordinator; 404/403."""
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
    if not can_manage_enrolments(current_user):
        abort(403)
    return enrolment


def load_prerequisite_waiver(waiver_id: int) -> PrerequisiteWaiver:
    """A prerequisite waiver, for a coordinator who manages enrolments; 404/403."""
    waiver = db.get_or_404(PrerequisiteWaiver, waiver_id)
    if not can_manage_enrolments(current_user):
        abort(403)
    return waiver


def load_card_order(order_id: str) -> CardOrder:
    """A card order of the current parent (or any, for a coordinator), or 404."""
    order = card_payments.order_by_number(order_id)
    if order is None or not can_view_card_order(current_user, order):
        abort(404)
    return order


def load_statement_line(line_id: int) -> StatementLine:
    """A bank statement line, for a coordinator who manages enrolments; 404/403."""
    line = db.get_or_404(StatementLine, line_id)
    if not can_manage_enrolments(current_user):
        abort(403)
    return line
