"""Attendance pages: the roster and check-out, the cohort grid and its exports, the history
of a lesson, and the parents' view with absence notices."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms import exports as shared_exports
from lms.attendance import exports, services
from lms.attendance.forms import (
    STATUS_FIELD,
    AbsenceEmailsForm,
    AbsenceForm,
    CheckoutForm,
    FinalProjectForm,
    RosterForm,
    roster_entries,
)
from lms.attendance.models import (
    ATTENDANCE_STATUS_LABELS,
    CHANGE_SOURCE_LABELS,
    AttendanceStatus,
)
from lms.attendance.permissions import (
    can_report_absence,
    can_view_child_attendance,
    can_view_cohort_attendance,
    can_view_roster,
    is_correction,
    marking_refusal,
)
from lms.courses.models import Cohort, CohortInstructor, CohortStatus, Lesson, local_instant
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families.children import children_of
from lms.families.models import Child
from lms.forms import apply_domain_error, choices
from lms.i18n import current_language
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("attendance", __name__)
bp.add_app_template_global(ATTENDANCE_STATUS_LABELS, "attendance_status_names")

STAFF = (Role.INSTRUCTOR, Role.COORDINATOR)
STATUSES = list(AttendanceStatus)


@bp.after_request
def _no_store(response: Response) -> Response:
    # Children's names and marks never linger in a shared browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------
# Loaders


def load_lesson(lesson_id: int) -> Lesson:
    """A lesson with its cohort, course, room and team; 404, or 403 for staff who may not
    read its roster."""
    lesson = db.session.scalar(
        select(Lesson)
        .where(Lesson.id == lesson_id)
        .options(
            joinedload(Lesson.cohort).joinedload(Cohort.course),
            joinedload(Lesson.cohort).joinedload(Cohort.room),
            joinedload(Lesson.cohort)
            .selectinload(Cohort.staff)
            .joinedload(CohortInstructor.instructor),
            joinedload(Lesson.room_override),
        )
    )
    if lesson is None:
        abort(404)
    if not can_view_roster(current_user, lesson):
        abort(403)
    return lesson


def load_cohort(cohort_id: int) -> Cohort:
    """A cohort with its course and team; 404, or 403 for staff who may not read it."""
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(
            joinedload(Cohort.course),
            joinedload(Cohort.room),
            selectinload(Cohort.staff).joinedload(CohortInstructor.instructor),
        )
    )
    if cohort is None:
        abort(404)
    if not can_view_cohort_attendance(current_user, cohort):
        abort(403)
    return cohort


def load_child(child_id: int) -> Child:
    """A child whose attendance the current user may see (guardians, coordinators), or 404."""
    child = db.get_or_404(Child, child_id)
    if not can_view_child_attendance(current_user, child):
        abort(404)
    return child


def load_roster_child(lesson: Lesson, child_id: int) -> Child:
    """A child on the lesson's roster, or 404."""
    child = db.get_or_404(Child, child_id)
    if child.id not in services.roster_enrolments(lesson):
        abort(404)
    return child


# ---------------------------------------------------------------------------------------------
# The roster


def _display_names(roster: services.Roster) -> dict[int, str]:
    """First names, in Arabic script for Arabic readers when the parents gave one; a last
    initial where two children share a first name."""
    arabic = current_language() == "ar"

    def first(child: Child) -> str:
        return (child.first_name_ar if arabic else None) or child.first_name

    counts = Counter(first(row.child) for row in roster.rows)
    names = {}
    for row in roster.rows:
        name = first(row.child)
        if counts[name] > 1:
            last = (row.child.last_name_ar if arabic else None) or row.child.last_name
            name = f"{name} {last[:1]}."
        names[row.child.id] = name
    return names


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
    roster = services.lesson_roster(lesson)
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
    return (
        render_template(
            "attendance/roster.html",
            lesson=lesson,
            roster=roster,
            lines=lines,
            names=_display_names(roster),
            form=form,
            statuses=STATUSES,
            can_mark=refusal is None,
            refusal=refusal,
            correction=refusal is None and is_correction(lesson, now=now),
            prefilled=prefilled,
            checkout_error=checkout_error,
            now=now,
        ),
        status,
    )


@bp.get("/attendance/lessons/<int:lesson_id>")
@role_required(*STAFF)
def roster(lesson_id: int):
    lesson = load_lesson(lesson_id)
    return _render_roster(lesson, RosterForm())


def _posted_roster(entries: dict[int, services.MarkEntry]):
    chosen = {child_id: entry.status for child_id, entry in entries.items()}
    seen = {
        child_id: f"{entry.seen_version}:{entry.seen_status or ''}"
        for child_id, entry in entries.items()
    }
    return chosen, seen


def _others_message(result: services.RollCallResult) -> str:
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


@bp.post("/attendance/lessons/<int:lesson_id>")
@role_required(*STAFF)
def roster_save(lesson_id: int):
    lesson = load_lesson(lesson_id)
    form = RosterForm()
    entries, errors = roster_entries(request.form)
    chosen, seen = _posted_roster(entries)
    if not form.validate_on_submit() or errors:
        form.form_errors.extend(errors)
        return _render_roster(lesson, form, chosen=chosen, seen=seen, status=422)
    if form.action.data == "all_present":
        # Without JavaScript: the form comes back with everyone present (except absences the
        # parents reported); nothing is saved until the instructor saves.
        notices = {row.child.id for row in services.lesson_roster(lesson).rows if row.notice}
        for child_id in entries:
            if child_id not in notices:
                chosen[child_id] = AttendanceStatus.PRESENT
        return _render_roster(lesson, form, chosen=chosen, seen=seen, prefilled=True)
    try:
        result = services.save_roll_call(
            lesson, actor=current_user, entries=entries, reason=form.reason.data
        )
    except DomainError as error:
        apply_domain_error(form, error)
        return _render_roster(lesson, form, chosen=chosen, seen=seen, status=422)
    db.session.commit()
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


@bp.post("/attendance/lessons/<int:lesson_id>/children/<int:child_id>/checkout")
@role_required(*STAFF)
def checkout(lesson_id: int, child_id: int):
    lesson = load_lesson(lesson_id)
    child = load_roster_child(lesson, child_id)
    form = CheckoutForm()
    form.collector.choices = choices(
        (collector.key, collector.name or "") for collector in services.collectors_for(child)
    )
    if form.validate_on_submit():
        at = None
        if form.at.data is not None:
            at = local_instant(lesson.local_start.date(), form.at.data)
        try:
            services.check_out(
                lesson, child, actor=current_user, collector=form.collector.data, at=at
            )
        except DomainError as error:
            message = str(error.message)
        else:
            db.session.commit()
            flash(_("%(name)s is checked out.", name=child.first_name), "success")
            return redirect(url_for("attendance.roster", lesson_id=lesson.id, _anchor="checkout"))
    else:
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
    return _render_roster(lesson, RosterForm(), checkout_error=(child.id, message), status=422)


@bp.get("/attendance/lessons/<int:lesson_id>/history")
@role_required(*STAFF)
def history(lesson_id: int):
    lesson = load_lesson(lesson_id)
    return render_template(
        "attendance/history.html",
        lesson=lesson,
        changes=services.lesson_history(lesson),
        source_names=CHANGE_SOURCE_LABELS,
    )


# ---------------------------------------------------------------------------------------------
# Cohorts: the list, the grid, its exports, final projects


@bp.get("/attendance/cohorts")
@role_required(*STAFF)
def cohort_list():
    query = (
        select(Cohort)
        .where(Cohort.status.in_([CohortStatus.OPEN, CohortStatus.CLOSED, CohortStatus.COMPLETED]))
        .options(joinedload(Cohort.course), joinedload(Cohort.room))
        .order_by(Cohort.start_date.desc(), Cohort.id.desc())
    )
    if not current_user.is_coordinator:
        query = query.where(
            Cohort.id.in_(
                select(CohortInstructor.cohort_id).where(
                    CohortInstructor.instructor_id == current_user.id
                )
            )
        )
    page = db.paginate(query, per_page=30, max_per_page=100)
    return render_template("attendance/cohort_list.html", page=page)


@bp.get("/attendance/cohorts/<int:cohort_id>")
@role_required(*STAFF)
def grid(cohort_id: int):
    cohort = load_cohort(cohort_id)
    now = utcnow()
    return render_template(
        "attendance/grid.html",
        cohort=cohort,
        grid=services.cohort_grid(cohort, now=now),
        form=FinalProjectForm(),
        now=now,
    )


def _export(cohort: Cohort, fmt: str) -> Response:
    grid = services.cohort_grid(cohort)
    language = current_language()
    if fmt == "csv":
        content = exports.csv_bytes(grid, delimiter=shared_exports.csv_delimiter(language))
        mimetype = shared_exports.CSV_MIMETYPE
    else:
        content = exports.xlsx_bytes(
            grid, title=cohort.course.title(language), right_to_left=language == "ar"
        )
        mimetype = shared_exports.XLSX_MIMETYPE
    shared_exports.record_export(
        "attendance", actor=current_user, subject=cohort, fmt=fmt, rows=len(grid.rows)
    )
    db.session.commit()
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
    if form.validate_on_submit():
        values = request.form.getlist("completed")
        if not all(value.isdigit() and len(value) < 12 for value in values):
            flash(_("The list was not sent correctly. Reload the page and try again."), "error")
            return redirect(url_for("attendance.grid", cohort_id=cohort.id))
        try:
            changed = services.set_final_projects(
                cohort, actor=current_user, completed={int(value) for value in values}
            )
        except DomainError as error:
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(
                _("Final projects saved.") if changed else _("Nothing changed."),
                "success" if changed else "info",
            )
    return redirect(url_for("attendance.grid", cohort_id=cohort.id, _anchor="final-project"))


# ---------------------------------------------------------------------------------------------
# Parents


@bp.get("/attendance/family")
@role_required(Role.PARENT)
def family():
    now = utcnow()
    children = children_of(current_user)
    return render_template(
        "attendance/family.html",
        children=[(child, services.child_attendance(child, now=now)) for child in children],
        emails_on=services.absence_emails_enabled(current_user),
    )


@bp.get("/attendance/children/<int:child_id>")
@role_required(Role.PARENT, Role.COORDINATOR)
def child_page(child_id: int):
    child = load_child(child_id)
    now = utcnow()
    return render_template(
        "attendance/child.html",
        child=child,
        cohorts=services.child_attendance(child, now=now),
        can_report=can_report_absence(current_user, child),
        now=now,
    )


@bp.route(
    "/attendance/children/<int:child_id>/lessons/<int:lesson_id>/absence",
    methods=["GET", "POST"],
)
@role_required(Role.PARENT)
def report_absence(child_id: int, lesson_id: int):
    child = load_child(child_id)
    lesson = db.session.scalar(
        select(Lesson).where(Lesson.id == lesson_id).options(joinedload(Lesson.cohort))
    )
    if lesson is None or child.id not in services.roster_enrolments(lesson):
        abort(404)
    form = AbsenceForm()
    if form.validate_on_submit():
        try:
            services.report_absence(lesson, child, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            db.session.commit()
            message = _(
                "Thank you: the instructors will know %(name)s is absent.", name=child.first_name
            )
            flash(message, "success")
            return redirect(url_for("attendance.child_page", child_id=child.id))
    refused = form.is_submitted() and bool(form.errors or form.form_errors)
    return (
        render_template("attendance/absence_form.html", form=form, child=child, lesson=lesson),
        422 if refused else 200,
    )


@bp.route("/attendance/emails", methods=["GET", "POST"])
@role_required(Role.PARENT)
def email_settings():
    form = AbsenceEmailsForm()
    if request.method == "GET":
        form.enabled.data = "yes" if services.absence_emails_enabled(current_user) else "no"
    if form.validate_on_submit():
        services.set_absence_emails(current_user, enabled=form.enabled.data == "yes")
        db.session.commit()
        flash(_("Your choice is saved."), "success")
        return redirect(url_for("attendance.email_settings"))
    return render_template("attendance/email_settings.html", form=form), (
        422 if form.is_submitted() and form.errors else 200
    )


# ---------------------------------------------------------------------------------------------
# Template helpers


@bp.app_template_global("roster_field")
def roster_field(child_id: int) -> str:
    return f"{STATUS_FIELD}{child_id}"


@bp.app_template_filter("first_name_in")
def first_name_in(child: Child) -> str:
    """The child's first name in Arabic script for Arabic readers, when the parents gave one."""
    return (child.first_name_ar if current_language() == "ar" else None) or child.first_name
