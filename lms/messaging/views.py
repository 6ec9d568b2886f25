"""Pages to write to families, read what was sent, and (parents) read what the lab wrote."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.clock import local_today
from lms.courses.models import PUBLIC_COHORT_STATUSES, Cohort, CohortInstructor, Course
from lms.courses.terms import term_by_key, term_of
from lms.extensions import db
from lms.forms import choices, render_form
from lms.i18n import current_language
from lms.messaging import services
from lms.messaging.forms import MessageForm
from lms.messaging.loaders import load_message
from lms.messaging.models import Audience
from lms.messaging.rendering import linkify
from lms.querystring import arg_choice, arg_int, paginate
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("messaging", __name__)

STAFF = (Role.INSTRUCTOR, Role.COORDINATOR)
# Cohorts that ended more than this long ago are no longer offered as an audience.
RECENT = timedelta(days=90)


@bp.app_template_filter("linkify")
def linkify_filter(text: str | None):
    return linkify(text)


@bp.app_context_processor
def audience_names() -> dict:
    return {"audience_names": Audience.labels()}


def _cohort_label(cohort: Cohort, language: str) -> str:
    return _(
        "%(course)s, from %(date)s",
        course=cohort.course.title(language),
        date=format_date(cohort.start_date, "medium"),
    )


def _fill_choices(form: MessageForm) -> None:
    language = current_language()
    today = local_today()
    query = (
        select(Cohort)
        .join(Course, Course.id == Cohort.course_id)
        .where(Cohort.status.in_(PUBLIC_COHORT_STATUSES), Cohort.end_date >= today - RECENT)
        .options(joinedload(Cohort.course))
        .order_by(Cohort.start_date, Course.title_fr, Cohort.id)
    )
    if not current_user.is_coordinator:
        query = query.where(
            Cohort.id.in_(
                select(CohortInstructor.cohort_id).where(
                    CohortInstructor.instructor_id == current_user.id
                )
            )
        )
    cohorts = db.session.scalars(query).all()
    form.cohort.choices = choices(
        [(None, "—"), *((c.id, _cohort_label(c, language)) for c in cohorts)]
    )
    audiences = [Audience.COHORT]
    if current_user.is_coordinator:
        audiences += [Audience.COURSE, Audience.WAITING_LISTS]
        courses = db.session.scalars(select(Course).order_by(Course.title_fr)).all()
        form.course.choices = choices([(None, "—"), *((c.id, c.title(language)) for c in courses)])
        current = term_of(today)
        terms = [current.previous(), current, current.next()]
        form.term.choices = choices([(t.key, f"{t.label} {t.school_year}") for t in terms])
        if not form.term.data:
            form.term.data = current.key
    else:
        form.course.choices = choices([(None, "—")])
        form.term.choices = choices([("", "—")])
    form.audience.choices = choices([(a.value, a.label) for a in audiences])


@bp.get("/messages/")
@role_required(*STAFF)
def message_list():
    page = paginate(services.staff_message_query(current_user), per_page=30, max_per_page=100)
    return render_template("messaging/list.html", page=page)


@bp.route("/messages/new", methods=["GET", "POST"])
@role_required(*STAFF)
def new_message():
    form = MessageForm()
    _fill_choices(form)
    if request.method == "GET":
        cohort_id = arg_int("cohort_id")
        if cohort_id is not None:
            form.cohort.data = cohort_id
        audience = arg_choice("audience", Audience.__members__.values())
        if audience:
            form.audience.data = audience
    preview = draft = None
    if form.validate_on_submit():
        cohort = db.session.get(Cohort, form.cohort.data) if form.cohort.data else None
        course = db.session.get(Course, form.course.data) if form.course.data else None
        term = term_by_key(form.term.data) if form.term.data else None
        draft = services.prepare(
            actor=current_user,
            audience=form.audience.data,
            subject=form.subject.data,
            body=form.body.data,
            cohort=cohort,
            course=course,
            term=term,
        )
        if form.send.data:
            message = services.send(draft, actor=current_user)
            flash(_("Message sent to %(num)d families.", num=message.recipient_count), "success")
            return redirect(url_for("messaging.message_detail", message_id=message.id))
        preview = services.preview(draft, actor=current_user, language=current_language())
    return render_form("messaging/new.html", form, preview=preview, draft=draft)


@bp.get("/messages/<int:message_id>")
@role_required(*STAFF)
def message_detail(message_id: int):
    return render_template("messaging/detail.html", message=load_message(message_id))


@bp.get("/family/messages")
@role_required(Role.PARENT)
def family_messages():
    page = paginate(services.parent_message_query(current_user), per_page=20, max_per_page=50)
    return render_template("messaging/family.html", page=page)
