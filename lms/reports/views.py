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


<<<<<<< HEAD
=======
def _term() -> Term:
    """The term asked for with ?term=2026-autumn (the current one by default); 404 if unknown."""
    term = services.resolve_term(request.args.get("term"))
    if term is None:
        abort(404, description=_("There is no such term."))
    return term


def _term_form(term: Term) -> TermForm:
    terms = services.selectable_terms(services.current_term())
    if term not in terms:
        terms.insert(0, term)
    form = TermForm(formdata=None, term=term.key)
    form.term.choices = choices((t.key, f"{t.label} {t.school_year}") for t in terms)
    return form


def _cohort_label(cohort: Cohort, language: str) -> str:
    return f"{cohort.course.title(language)} · {format_date(cohort.start_date, 'd MMM')}"


def _charts(report: services.TermReport) -> dict:
    language = current_language()
    rtl = text_direction(language) == "rtl"
    if len(report.cohorts) <= COHORT_BARS_MAX:
        fill_rows = [(_cohort_label(f.cohort, language), f.tally) for f in report.cohorts]
    else:
        fill_rows = [(g.course.title(language), g.tally) for g in report.courses]
    fill = charts.horizontal_bars(
        [
            charts.Bar(
                label,
                tally.fill_rate or 0,
                f"{tally.seats_taken}/{tally.capacity} · {percent(tally.fill_rate)}",
                low=(tally.fill_rate or 0) < 50,
            )
            for label, tally in fill_rows
        ],
        rtl=rtl,
        title=_("Fill rates"),
        description=_("Seats taken out of the seats of each group, in percent."),
        id_="chart-fill",
    )
    thresholds = Counter(f.cohort.course.attendance_threshold for f in report.cohorts)
    threshold = thresholds.most_common(1)[0][0] if thresholds else None
    attendance = charts.line_chart(
        [charts.Point(format_date(week.monday, "d MMM"), week.rate) for week in report.weeks],
        rtl=rtl,
        title=_("Attendance week by week"),
        description=_("The share of counted lessons that were attended, each week of the term."),
        id_="chart-attendance",
        reference=threshold,
        tick_label=percent,
        reference_label=_("Certificate threshold (%(rate)s)", rate=percent(threshold))
        if threshold is not None
        else "",
    )
    ages = charts.vertical_bars(
        [charts.Bar(str(age), count, str(count)) for age, count in report.ages],
        rtl=rtl,
        title=_("Children by age"),
        description=_("How many enrolled children have each age."),
        id_="chart-ages",
        axis_label=_("Age (years)"),
    )
    biggest = max((count for _track, count in report.track_children), default=0)
    tracks = charts.horizontal_bars(
        [
            charts.Bar(str(Track(track).label), count, str(count))
            for track, count in report.track_children
        ],
        rtl=rtl,
        title=_("Children by track"),
        description=_("How many enrolled children follow each track."),
        id_="chart-tracks",
        maximum=biggest or 1,
        label_width=150,
    )
    return {
        "fill": fill,
        "fill_rows": fill_rows,
        "fill_table": [
            (label, t.seats_taken, t.capacity, percent(t.fill_rate)) for label, t in fill_rows
        ],
        "week_table": [
            (format_date(w.monday, "d MMMM"), w.attended, w.counted, percent(w.rate))
            for w in report.weeks
        ],
        "track_table": [(Track(track).label, n) for track, n in report.track_children],
        "attendance": attendance,
        "threshold": threshold,
        "ages": ages,
        "tracks": tracks,
    }


def render_dashboard():
    """The dashboard of the term asked for (the coordinators' home page too)."""
    term = _term()
    report = services.term_report(term)
    return render_template(
        "reports/dashboard.html",
        term=term,
        report=report,
        form=_term_form(term),
        charts=_charts(report),
    )


>>>>>>> courses
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
    status = request.args.get("status", "outstanding")
    if status not in FEE_STATUSES:
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
    page = db.paginate(services.new_family_query(term), per_page=50, max_per_page=200)
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
    cohort_id = request.args.get("cohort", type=int)
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
