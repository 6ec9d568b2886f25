"""Attendance pages: the roster and check-out, the cohort grid and its exports, the history
of a lesson, and the parents' view with absence notices."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from lms import exports as shared_exports
from lms.attendance import (
    exports,
    incidents,
    lesson_notes,
    notices,
    projects,
    queries,
    roll_call,
    substitutes,
)
from lms.attendance.forms import (
    STATUS_FIELD,
    AbsenceEmailsForm,
    AbsenceForm,
    CheckoutForm,
    FinalProjectForm,
    RosterForm,
    roster_entries,
)
from lms.attendance.loaders import (
    load_absence_lesson,
    load_child,
    load_cohort,
    load_lesson,
    load_roster_child,
)
from lms.attendance.models import AttendanceStatus, ChangeSource, CollectorKind
from lms.attendance.permissions import (
    can_report_absence,
    can_view_incident,
    can_write_lesson_note,
    is_correction,
    marking_opens_at,
    marking_refusal,
    substitutes_for,
)
from lms.attendance.roster import Roster, collectors_for, lesson_roster, roster_enrolments
from lms.clock import local_instant
from lms.courses.models import Cohort, Lesson
from lms.database import utcnow
from lms.families.children import children_of
from lms.families.models import Child
from lms.families.permissions import can_see_photo
from lms.forms import choices, render_form
from lms.i18n import current_language
from lms.querystring import paginate
from lms.roles import Role
from lms.security import role_required
from lms.web import record_reading

bp = Blueprint("attendance", __name__)
bp.add_app_template_global(AttendanceStatus.labels(), "attendance_status_names")

STAFF = (Role.INSTRUCTOR, Role.COORDINATOR)
STATUSES = list(AttendanceStatus)


# ---------------------------------------------------------------------------------------------
# The roster


def _display_names(roster: Roster) -> dict[int, str]:
    """Full names (two Adams are told apart at a glance), in Arabic script for Arabic readers
    when the parents gave it."""
    arabic = current_language() == "ar"

    def full(child: Child) -> str:
        if arabic and child.first_name_ar and child.last_name_ar:
            return f"{child.first_name_ar} {child.last_name_ar}"
        return f"{child.first_name} {child.last_name}"

    return {row.child.id: full(row.child) for row in roster.rows}


def _faces(roster: Roster) -> set[int]:
    """The children whose photo the viewer sees beside their name (the others: initials)."""
    return {
        row.child.id
        for row in roster.rows
        if row.child.has_photo and can_see_photo(current_user, row.child)
    }


def _render_roster(
    lesson: Lesson,
    form: RosterForm,
    *,
    chosen: dict[int, str | None] | None = None,
    seen: dict[int, str] | None = None,
    prefilled: bool = False,
    checkout_error: tuple[int, str] | None = None,
    status: int = 200,
):
    now = utcnow()
    roster = lesson_roster(lesson)
    chosen = chosen or {}
    seen = seen or {}
    lines = [
        {
            "row": row,
            "chosen": chosen.get(row.child.id, row.status),
            "seen": seen.get(row.child.id, f"{row.version}:{row.status or ''}"),
        }
        for row in roster.rows
    ]
    refusal = marking_refusal(current_user, lesson, now=now)
    note = lesson_notes.note_of(lesson)
    return (
        render_template(
            "attendance/roster.html",
            note=note,
            can_write_note=can_write_lesson_note(current_user, lesson, now=now)
            and (note is None or note.author_id == current_user.id)
            and not lesson.is_cancelled
            and now >= lesson.starts_at,
            can_record_incident=not lesson.is_cancelled and now >= marking_opens_at(lesson),
            substitute=substitutes_for(current_user, lesson, now=now),
            lesson=lesson,
            roster=roster,
            lines=lines,
            names=_display_names(roster),
            faces=_faces(roster),
            form=form,
            statuses=STATUSES,
            can_mark=refusal is None,
            refusal=refusal,
            correction=refusal is None and is_correction(lesson, now=now),
            prefilled=prefilled,
            checkout_error=checkout_error,
            collector_kinds=CollectorKind.labels(),
            now=now,
        ),
        status,
    )


@bp.route("/attendance/lessons/<int:lesson_id>", methods=["GET", "POST"])
@role_required(*STAFF)
def roster(lesson_id: int):
    lesson = load_lesson(lesson_id)
    form = RosterForm()
    if not form.is_submitted():
        if substitutes_for(current_user, lesson):
            # A substitute's reading of the roster goes into each child's access log, like
            # any staff access to a child's data: the one write this GET makes.
            record_reading()
            substitutes.log_substitute_reading(
                lesson, roster_enrolments(lesson), viewer=current_user
            )
        return _render_roster(lesson, form)
    entries, errors = roster_entries(request.form)
    chosen, seen = _posted_roster(entries)
    if form.validate_on_submit() and not errors:
        if form.action.data == "all_present":
            # Without JavaScript: the form comes back with everyone present (except absences
            # the parents reported); nothing is saved until the instructor saves.
            reported = {row.child.id for row in lesson_roster(lesson).rows if row.notice}
            for child_id in entries:
                if child_id not in reported:
                    chosen[child_id] = AttendanceStatus.PRESENT
            return _render_roster(lesson, form, chosen=chosen, seen=seen, prefilled=True)
        result = roll_call.save_roll_call(
            lesson, actor=current_user, entries=entries, reason=form.reason.data
        )
        if result.written:
            flash(
                ngettext(
                    "Attendance saved: %(num)d mark changed.",
                    "Attendance saved: %(num)d marks changed.",
                    result.written,
                ),
                "success",
            )
        else:
            flash(_("Nothing changed."), "info")
        if result.others:
            flash(_others_message(result), "warning")
        return redirect(url_for("attendance.roster", lesson_id=lesson.id))
    # Refused (by the form, the roster's shape or the roll call): the marks chosen stay.
    form.form_errors.extend(error for error in errors if error not in form.form_errors)
    return _render_roster(lesson, form, chosen=chosen, seen=seen, status=422)


def _posted_roster(entries: dict[int, roll_call.MarkEntry]):
    chosen = {child_id: entry.status for child_id, entry in entries.items()}
    seen = {
        child_id: f"{entry.seen_version}:{entry.seen_status or ''}"
        for child_id, entry in entries.items()
    }
    return chosen, seen


def _others_message(result: roll_call.RollCallResult) -> str:
    names = ", ".join(dict.fromkeys(save.name for save in result.others))
    at = format_time(result.others[-1].at, "short")
    return ngettext(
        "%(names)s saved this roster at %(time)s, after you opened it. Your change to "
        "%(num)d mark was applied on top; the other marks keep what they saved.",
        "%(names)s saved this roster at %(time)s, after you opened it. Your changes to "
        "%(num)d marks were applied on top; the other marks keep what they saved.",
        result.written,
        names=names,
        time=at,
    )


# The check-out form lives on the roster: a GET goes there, and a refused check-out shows the
# roster again with the reason beside the child (the app calls this view again to do so).
@bp.route(
    "/attendance/lessons/<int:lesson_id>/children/<int:child_id>/checkout",
    methods=["GET", "POST"],
)
@role_required(*STAFF)
def checkout(lesson_id: int, child_id: int):
    lesson = load_lesson(lesson_id)
    child = load_roster_child(lesson, child_id)
    form = CheckoutForm()
    form.collector.choices = choices(
        (collector.key, collector.name or "") for collector in collectors_for(child)
    )
    if form.validate_on_submit():
        at = None
        if form.at.data is not None:
            at = local_instant(lesson.local_start.date(), form.at.data)
        roll_call.check_out(lesson, child, actor=current_user, collector=form.collector.data, at=at)
        flash(_("%(name)s is checked out.", name=child.first_name), "success")
        return redirect(url_for("attendance.roster", lesson_id=lesson.id, _anchor="checkout"))
    if not form.is_submitted():
        return redirect(url_for("attendance.roster", lesson_id=lesson.id, _anchor="checkout"))
    message = " ".join(dict.fromkeys(str(e) for errors in form.errors.values() for e in errors))
    return _render_roster(lesson, RosterForm(), checkout_error=(child.id, message), status=422)


@bp.get("/attendance/lessons/<int:lesson_id>/history")
@role_required(*STAFF)
def history(lesson_id: int):
    lesson = load_lesson(lesson_id)
    return render_template(
        "attendance/history.html",
        lesson=lesson,
        changes=queries.lesson_history(lesson),
        source_names=ChangeSource.labels(),
    )


# ---------------------------------------------------------------------------------------------
# Cohorts: the list, the grid, its exports, final projects


@bp.get("/attendance/cohorts")
@role_required(*STAFF)
def cohort_list():
    page = paginate(queries.attendance_cohorts(current_user), per_page=30, max_per_page=100)
    return render_template("attendance/cohort_list.html", page=page)


@bp.get("/attendance/cohorts/<int:cohort_id>")
@role_required(*STAFF)
def grid(cohort_id: int):
    cohort = load_cohort(cohort_id)
    now = utcnow()
    return render_template(
        "attendance/grid.html",
        cohort=cohort,
        grid=queries.cohort_grid(cohort, now=now),
        form=FinalProjectForm(),
        now=now,
    )


def _export(cohort: Cohort, fmt: str) -> Response:
    grid = queries.cohort_grid(cohort)
    content, mimetype = exports.grid_file(grid, fmt=fmt, language=current_language())
    # A download of children's names and marks is written to the audit log: the one write a
    # GET may make, committed by the app after this view returns.
    record_reading()
    shared_exports.record_export(
        "attendance", actor=current_user, subject=cohort, fmt=fmt, rows=len(grid.rows)
    )
    return shared_exports.download(content, mimetype, f"attendance-cohort-{cohort.id}.{fmt}")


@bp.get("/attendance/cohorts/<int:cohort_id>/attendance.csv")
@role_required(*STAFF)
def grid_csv(cohort_id: int):
    return _export(load_cohort(cohort_id), "csv")


@bp.get("/attendance/cohorts/<int:cohort_id>/attendance.xlsx")
@role_required(*STAFF)
def grid_xlsx(cohort_id: int):
    return _export(load_cohort(cohort_id), "xlsx")


@bp.post("/attendance/cohorts/<int:cohort_id>/final-project")
@role_required(*STAFF)
def final_project(cohort_id: int):
    cohort = load_cohort(cohort_id)
    form = FinalProjectForm()
    done = url_for("attendance.grid", cohort_id=cohort.id, _anchor="final-project")
    if form.validate_on_submit():
        values = request.form.getlist("completed")
        if not all(value.isdigit() and len(value) < 12 for value in values):
            flash(_("The list was not sent correctly. Reload the page and try again."), "error")
            return redirect(done)
        changed = projects.set_final_projects(
            cohort, actor=current_user, completed={int(value) for value in values}
        )
        flash(
            _("Final projects saved.") if changed else _("Nothing changed."),
            "success" if changed else "info",
        )
    return redirect(done)


# ---------------------------------------------------------------------------------------------
# Parents


@bp.get("/attendance/family")
@role_required(Role.PARENT)
def family():
    now = utcnow()
    children = children_of(current_user)
    return render_template(
        "attendance/family.html",
        children=[(child, queries.child_attendance(child, now=now)) for child in children],
        emails_on=notices.absence_emails_enabled(current_user),
    )


@bp.get("/attendance/children/<int:child_id>")
@role_required(Role.PARENT, Role.COORDINATOR)
def child_page(child_id: int):
    child = load_child(child_id)
    now = utcnow()
    records = []
    if can_view_incident(current_user, child):
        if current_user.is_staff:
            record_reading()  # a coordinator's reading of incidents goes into the access log
        records = incidents.incidents_for(child, viewer=current_user)
    return render_template(
        "attendance/child.html",
        child=child,
        incidents=records,
        notes=lesson_notes.notes_for_child(child),
        cohorts=queries.child_attendance(child, now=now),
        can_report=can_report_absence(current_user, child),
        now=now,
    )


@bp.route(
    "/attendance/children/<int:child_id>/lessons/<int:lesson_id>/absence",
    methods=["GET", "POST"],
)
@role_required(Role.PARENT)
def report_absence(child_id: int, lesson_id: int):
    child, lesson = load_absence_lesson(child_id, lesson_id)
    form = AbsenceForm()
    if form.validate_on_submit():
        notices.report_absence(lesson, child, actor=current_user, reason=form.reason.data)
        message = _(
            "Thank you: the instructors will know %(name)s is absent.", name=child.first_name
        )
        flash(message, "success")
        return redirect(url_for("attendance.child_page", child_id=child.id))
    return render_form("attendance/absence_form.html", form, child=child, lesson=lesson)


@bp.route("/attendance/emails", methods=["GET", "POST"])
@role_required(Role.PARENT)
def email_settings():
    form = AbsenceEmailsForm()
    if not form.is_submitted():
        form.enabled.data = "yes" if notices.absence_emails_enabled(current_user) else "no"
    if form.validate_on_submit():
        notices.set_absence_emails(current_user, enabled=form.enabled.data == "yes")
        flash(_("Your choice is saved."), "success")
        return redirect(url_for("attendance.email_settings"))
    return render_form("attendance/email_settings.html", form)


# ---------------------------------------------------------------------------------------------
# Template helpers


@bp.app_template_global("roster_field")
def roster_field(child_id: int) -> str:
    return f"{STATUS_FIELD}{child_id}"


@bp.app_template_filter("first_name_in")
def first_name_in(child: Child) -> str:
    """The child's first name in Arabic script for Arabic readers, when the parents gave one."""
    return (child.first_name_ar if current_language() == "ar" else None) or child.first_name
