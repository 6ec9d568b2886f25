"""After the lesson and around it: the lesson's note, recording an incident (both from the
roster page), and the coordinators' page of a group's substitutes."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts.models import User
from lms.attendance import incidents, lesson_notes, substitutes
from lms.attendance.forms import EndAssignmentForm, IncidentForm, LessonNoteForm, SubstituteForm
from lms.attendance.loaders import load_cohort, load_lesson
from lms.attendance.models import SubstituteAssignment
from lms.attendance.roster import lesson_roster
from lms.clock import local_instant, local_today
from lms.database import utcnow
from lms.extensions import db
from lms.families.models import Child
from lms.forms import choices, render_form
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("lessons", __name__)


# ---------------------------------------------------------------------------------------------
# The lesson's note


@bp.route("/attendance/lessons/<int:lesson_id>/note", methods=["GET", "POST"])
@role_required(Role.INSTRUCTOR)
def note(lesson_id: int):
    lesson = load_lesson(lesson_id)
    existing = lesson_notes.note_of(lesson)
    form = LessonNoteForm()
    if not form.is_submitted() and existing is not None:
        form.body.data = existing.body
    if form.validate_on_submit():
        if existing is None:
            lesson_notes.write_note(lesson, actor=current_user, body=form.body.data)
        else:
            lesson_notes.edit_note(existing, actor=current_user, body=form.body.data)
        flash(_("The lesson's note is saved; the families can read it."), "success")
        return redirect(url_for("attendance.roster", lesson_id=lesson.id, _anchor="note"))
    return render_form("attendance/note_form.html", form, lesson=lesson, note=existing)


# ---------------------------------------------------------------------------------------------
# Incidents


@bp.route("/attendance/lessons/<int:lesson_id>/incidents/new", methods=["GET", "POST"])
@role_required(Role.INSTRUCTOR, Role.COORDINATOR)
def new_incident(lesson_id: int):
    lesson = load_lesson(lesson_id)
    roster = lesson_roster(lesson)
    form = IncidentForm()
    form.child.choices = choices(
        [("", _("Choose the child"))] + [(row.child.id, row.child.full_name) for row in roster.rows]
    )
    if form.validate_on_submit():
        child = db.get_or_404(Child, form.child.data)
        now = utcnow()
        at = now if form.at.data is None else local_instant(lesson.local_start.date(), form.at.data)
        incidents.record_incident(
            lesson,
            child,
            actor=current_user,
            occurred_at=at,
            what_happened=form.what_happened.data,
            action_taken=form.action_taken.data,
            who_was_told=form.who_was_told.data,
            notify_parents=form.notify_parents.data,
            now=now,
        )
        if form.notify_parents.data:
            flash(_("The incident is recorded and the parents are told."), "success")
        else:
            flash(_("The incident is recorded."), "success")
        return redirect(url_for("attendance.roster", lesson_id=lesson.id))
    return render_form("attendance/incident_form.html", form, lesson=lesson)


# ---------------------------------------------------------------------------------------------
# Substitutes (coordinators)


@bp.route("/coordinator/cohorts/<int:cohort_id>/substitutes", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def cohort_substitutes(cohort_id: int):
    cohort = load_cohort(cohort_id)
    form = SubstituteForm()
    form.substitute.choices = choices(
        [("", _("Choose an instructor"))]
        + [(user.id, user.full_name) for user in substitutes.eligible_substitutes()]
    )
    if form.validate_on_submit():
        chosen = db.session.get(User, form.substitute.data) if form.substitute.data else None
        substitutes.assign_substitute(
            cohort,
            substitute=chosen,
            first_day=form.first_day.data,
            last_day=form.last_day.data,
            actor=current_user,
        )
        flash(_("The substitute is assigned and the families are told."), "success")
        return redirect(url_for("lessons.cohort_substitutes", cohort_id=cohort.id))
    return render_form(
        "attendance/substitutes.html",
        form,
        cohort=cohort,
        assignments=substitutes.assignments_of(cohort),
        today=local_today(),
    )


@bp.post("/coordinator/substitutes/<int:assignment_id>/end")
@role_required(Role.COORDINATOR)
def end_assignment(assignment_id: int):
    assignment = db.get_or_404(SubstituteAssignment, assignment_id)
    if EndAssignmentForm().validate_on_submit():
        substitutes.cancel_assignment(assignment, actor=current_user)
        flash(_("The assignment is ended: the substitute no longer sees the roster."), "success")
    return redirect(url_for("lessons.cohort_substitutes", cohort_id=assignment.cohort_id))
