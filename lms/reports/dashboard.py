"""The term's dashboard: its charts and the tables beside them, shown on the reports' page and
as the coordinators' home; the term chooser every report page carries."""

from __future__ import annotations

from collections import Counter

from flask import render_template
from flask_babel import format_date
from flask_babel import gettext as _

from lms.courses.models import Cohort, Track
from lms.courses.terms import Term
from lms.forms import choices
from lms.i18n import current_language, text_direction
from lms.reports import charts, services
from lms.reports.forms import TermForm
from lms.reports.loaders import load_term
from lms.templating import percent

# Above this many cohorts the fill chart shows courses (the list page has every cohort).
COHORT_BARS_MAX = 15


def term_form(term: Term) -> TermForm:
    """The term chooser above every report page, set to ``term``."""
    terms = services.selectable_terms(services.current_term())
    if term not in terms:
        terms.insert(0, term)
    form = TermForm(formdata=None, term=term.key)
    form.term.choices = choices((t.key, f"{t.label} {t.school_year}") for t in terms)
    return form


def cohort_label(cohort: Cohort, language: str) -> str:
    """A cohort as a chart or a list names it: its course and its start."""
    return f"{cohort.course.title(language)} · {format_date(cohort.start_date, 'd MMM')}"


def term_charts(report: services.TermReport) -> dict:
    """The charts of a term's report, with the tables that say the same in words."""
    language = current_language()
    rtl = text_direction(language) == "rtl"
    if len(report.cohorts) <= COHORT_BARS_MAX:
        fill_rows = [(cohort_label(f.cohort, language), f.tally) for f in report.cohorts]
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


def render_dashboard(**extra):
    """The dashboard of the term asked for (the coordinators' home page too, which adds the
    channels' figures in ``extra``)."""
    term = load_term()
    report = services.term_report(term)
    return render_template(
        "reports/dashboard.html",
        term=term,
        report=report,
        form=term_form(term),
        charts=term_charts(report),
        **extra,
    )
