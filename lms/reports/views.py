"""The coordinators' dashboard, the lists behind its figures, and the exports."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms import exports as files
from lms.courses.models import (
    PUBLIC_COHORT_STATUSES,
    Cohort,
    CohortInstructor,
    Course,
    Track,
)
from lms.courses.terms import Term
from lms.extensions import db
from lms.forms import choices
from lms.i18n import current_language
from lms.querystring import arg_choice, arg_int, paginate
from lms.reports import books as term_books
from lms.reports import exports, services
from lms.reports.dashboard import cohort_label, render_dashboard, term_charts, term_form
from lms.reports.forms import ExportFilterForm
from lms.reports.loaders import load_office_export_cohort, load_roster_cohort, load_term
from lms.reports.permissions import can_export_office_files
from lms.roles import Role
from lms.security import role_required
from lms.web import record_reading

bp = Blueprint("reports", __name__)

STAFF = (Role.INSTRUCTOR, Role.COORDINATOR)
FEE_STATUSES = ("outstanding", "paid", "all")


@bp.app_context_processor
def report_names() -> dict:
    return {"track_names": Track.labels()}


@bp.get("/coordinator/reports/")
@role_required(Role.COORDINATOR)
def dashboard():
    return render_dashboard()


@bp.get("/coordinator/reports/cohorts")
@role_required(Role.COORDINATOR)
def cohorts():
    term = load_term()
    return render_template(
        "reports/cohorts.html", term=term, report=services.term_report(term), form=term_form(term)
    )


@bp.get("/coordinator/reports/at-risk")
@role_required(Role.COORDINATOR)
def at_risk():
    term = load_term()
    return render_template(
        "reports/at_risk.html", term=term, report=services.term_report(term), form=term_form(term)
    )


@bp.get("/coordinator/reports/waiting-lists")
@role_required(Role.COORDINATOR)
def waiting_lists():
    term = load_term()
    report = services.term_report(term)
    with_lists = [f for f in report.cohorts if f.tally.waiting or f.tally.offered]
    return render_template(
        "reports/waiting_lists.html",
        term=term,
        report=report,
        cohorts=with_lists,
        lines=services.waiting_lists(f.cohort for f in with_lists),
        form=term_form(term),
    )


@bp.get("/coordinator/reports/fees")
@role_required(Role.COORDINATOR)
def fees():
    term = load_term()
    status = arg_choice("status", FEE_STATUSES) if "status" in request.args else "outstanding"
    if status is None:
        abort(404)
    report = services.term_report(term)
    return render_template(
        "reports/fees.html",
        term=term,
        report=report,
        status=status,
        lines=report.fee_lines(status),
        form=term_form(term),
    )


@bp.get("/coordinator/reports/books")
@role_required(Role.COORDINATOR)
def books():
    term = load_term()
    show = arg_choice("show", term_books.FIGURES)
    if show is None and "show" in request.args:
        abort(404)
    figures = term_books.term_books(term)
    return render_template(
        "reports/books.html",
        term=term,
        books=figures,
        show=show,
        rows=figures.behind(show) if show else [],
        form=term_form(term),
    )


@bp.get("/coordinator/reports/books.<fmt>")
@role_required(Role.COORDINATOR)
def books_export(fmt: str):
    if fmt not in files.FORMATS:
        abort(404)
    term = load_term()
    # A download is written to the audit log: this GET records what was read.
    record_reading()
    rows = term_books.journal_rows(term_books.term_books(term), language=current_language())
    return _send(
        rows,
        kind="books",
        fmt=fmt,
        title=_("Books"),
        filename=f"books-{term.key}.{fmt}",
        term=term.key,
    )


@bp.get("/coordinator/reports/certificates")
@role_required(Role.COORDINATOR)
def certificates():
    term = load_term()
    return render_template(
        "reports/certificates.html",
        term=term,
        certificates=services.term_certificates(term),
        form=term_form(term),
    )


@bp.get("/coordinator/reports/families")
@role_required(Role.COORDINATOR)
def families():
    term = load_term()
    page = paginate(services.new_family_query(term), per_page=50, max_per_page=200)
    return render_template("reports/families.html", term=term, page=page, form=term_form(term))


@bp.get("/coordinator/reports/children")
@role_required(Role.COORDINATOR)
def children():
    term = load_term()
    report = services.term_report(term)
    return render_template(
        "reports/children.html",
        term=term,
        report=report,
        charts=term_charts(report),
        form=term_form(term),
    )


# ---------------------------------------------------------------------------------------------
# Exports


def _staff_cohorts(term: Term) -> list[Cohort]:
    query = (
        select(Cohort)
        .join(Course, Course.id == Cohort.course_id)
        .where(
            Cohort.starting_in(term),
            Cohort.status.in_(PUBLIC_COHORT_STATUSES),
        )
        .options(joinedload(Cohort.course))
        .order_by(Course.title_fr, Cohort.start_date, Cohort.id)
    )
    if not current_user.is_coordinator:
        query = query.where(
            Cohort.id.in_(
                select(CohortInstructor.cohort_id).where(
                    CohortInstructor.instructor_id == current_user.id
                )
            )
        )
    return list(db.session.scalars(query))


@bp.get("/exports/")
@role_required(*STAFF)
def export_page():
    form = ExportFilterForm(request.args)
    current = services.current_term()
    terms = services.selectable_terms(current)
    form.term.choices = choices((t.key, f"{t.label} {t.school_year}") for t in terms)
    term = services.resolve_term(form.term.data) or current
    if form.term.data not in {t.key for t in terms}:
        form.term.data = current.key
        term = current
    cohorts_ = _staff_cohorts(term)
    language = current_language()
    form.cohort.choices = choices(
        [
            (None, _("Every cohort of the term")),
            *((c.id, cohort_label(c, language)) for c in cohorts_),
        ]
    )
    form.validate()
    cohort = next((c for c in cohorts_ if c.id == form.cohort.data), None)
    return render_template(
        "reports/exports.html",
        form=form,
        term=term,
        cohort=cohort,
        cohorts=[cohort] if cohort else cohorts_,
        office=can_export_office_files(current_user),
        kinds=exports.KINDS,
    )


def _send(rows: list[list], *, kind: str, fmt: str, title: str, filename: str, **audit):
    language = current_language()
    safe = [list(map(str, rows[0]))] + [files.safe_row(row) for row in rows[1:]]
    content, mimetype = files.spreadsheet(safe, fmt=fmt, language=language, title=title)
    files.record_export(kind, actor=current_user, fmt=fmt, rows=len(rows) - 1, **audit)
    return files.download(content, mimetype, filename)


@bp.get("/exports/cohorts/<int:cohort_id>/roster.<fmt>")
@role_required(*STAFF)
def roster_export(cohort_id: int, fmt: str):
    if fmt not in files.FORMATS:
        abort(404)
    cohort = load_roster_cohort(cohort_id)
    # A download is written to the audit log, and a coordinator's reading of the medical
    # notes in it to the children's access log: this GET records what was read.
    record_reading()
    rows = exports.roster_rows(cohort, viewer=current_user, language=current_language())
    return _send(
        rows,
        kind="roster",
        fmt=fmt,
        title=cohort.course.title(current_language()),
        filename=f"roster-cohort-{cohort.id}.{fmt}",
        subject=cohort,
    )


@bp.get("/exports/<kind>.<fmt>")
@role_required(Role.COORDINATOR)
def office_export(kind: str, fmt: str):
    if kind not in exports.OFFICE_EXPORTS or fmt not in files.FORMATS:
        abort(404)
    cohort_id = arg_int("cohort")
    cohort = load_office_export_cohort(cohort_id) if cohort_id else None
    scope = exports.Scope(term=load_term(), cohort=cohort)
    # A download is written to the audit log: this GET records what was read.
    record_reading()
    rows = exports.OFFICE_EXPORTS[kind](scope, language=current_language())
    label = cohort.id if cohort else scope.term.key
    return _send(
        rows,
        kind=kind.replace("-", "_"),
        fmt=fmt,
        title=kind,
        filename=f"{kind}-{label}.{fmt}",
        **scope.filters,
    )
