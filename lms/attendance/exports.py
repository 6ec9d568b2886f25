"""A cohort's attendance grid as CSV (UTF-8 with a BOM, for Excel) and as XLSX (openpyxl).

Both files say the same thing, in the language of the person downloading them: one row per
child, one column per lesson, then the child's figures; a last row with each lesson's rate.
"""

from __future__ import annotations

import math

from flask_babel import format_date
from flask_babel import gettext as _

from lms import exports
from lms.attendance.models import AttendanceStatus
from lms.attendance.queries import CohortGrid
from lms.attendance.rates import Outcome

_text = exports.safe_text


def _cell(status: str | None, outcome: Outcome) -> str:
    if outcome == Outcome.OUTSIDE:
        return "—"
    if outcome in (Outcome.CANCELLED, Outcome.UNMARKED):
        return str(outcome.label)
    if status is None:
        return ""
    return str(AttendanceStatus(status).label)


def _rate(value: float | None) -> int | str:
    """Whole percent, rounded down like every rate the lab shows (see lms.templating.percent)."""
    return "" if value is None else math.floor(value)


def grid_table(grid: CohortGrid) -> list[list]:
    """The grid as rows of plain values (the header first)."""
    project = grid.cohort.course.requires_final_project
    header = [_("Child"), _("Name in Arabic")]
    header += [
        _(
            "Lesson %(num)d, %(date)s",
            num=lesson.number,
            date=format_date(lesson.starts_at, "short"),
        )
        for lesson in grid.lessons
    ]
    header += [_("Attended"), _("Counted"), _("Excused"), _("Rate (%)"), _("Threshold (%)")]
    header += [_("Threshold still reachable")]
    if project:
        header.append(_("Final project completed"))
    rows = [header]
    for row in grid.rows:
        summary = row.summary
        line = [_text(row.child.full_name), _text(row.child.full_name_ar)]
        line += [_cell(*row.cells[lesson.id]) for lesson in grid.lessons]
        line += [
            summary.attended,
            summary.counted,
            summary.excused,
            _rate(summary.rate),
            summary.threshold,
            _("Yes") if summary.reachable else _("No"),
        ]
        if project:
            line.append(_("Yes") if row.final_project else _("No"))
        rows.append(line)
    footer = [_("Rate of the lesson (%)"), ""]
    footer += [_rate(grid.lesson_rate(lesson.id)) for lesson in grid.lessons]
    rows.append(footer)
    return rows


def grid_file(grid: CohortGrid, *, fmt: str, language: str) -> tuple[bytes, str]:
    """The grid as a CSV or XLSX file for a reader of ``language``: (bytes, mimetype)."""
    return exports.spreadsheet(
        grid_table(grid),
        fmt=fmt,
        language=language,
        title=grid.cohort.course.title(language) or "Attendance",
        freeze="C2",
        widths={"A": 28, "B": 22},
    )
