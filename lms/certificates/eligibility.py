"""Attendance and final project, read from the attendance domain, for eligibility."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from lms.attendance.projects import completed_final_projects
from lms.attendance.rates import attendance_summaries
from lms.courses.models import Cohort
from lms.enrolment.models import Enrolment


def attendance_and_project(
    cohort: Cohort, enrolments: Sequence[Enrolment], now: datetime
) -> list[tuple[float | None, list]]:
    """(attendance rate in percent, reasons not to issue) for each enrolment, in order.

    The rate is attendance's one computation (present and late attended; excused left out;
    cancelled and future lessons left out; an unmarked lesson that is over counts as missed).
    """
    summaries = attendance_summaries(enrolment_ids=[e.id for e in enrolments], now=now)
    projects = (
        completed_final_projects([cohort.id]) if cohort.course.requires_final_project else set()
    )
    results = []
    for enrolment in enrolments:
        summary = summaries.get(enrolment.id)
        reasons = []
        rate = summary.rate if summary is not None else None
        if summary is None or rate is None:
            reasons.append(_l("No lesson of this child counts yet."))
        elif not summary.meets_threshold:
            reasons.append(
                _l(
                    "Attendance %(rate)d %%, below the %(threshold)d %% the course asks for.",
                    rate=int(rate),
                    threshold=summary.threshold,
                )
            )
            if summary.unmarked:
                reasons.append(
                    lazy_ngettext(
                        "%(num)d lesson was never marked: it counts as missed until it is.",
                        "%(num)d lessons were never marked: they count as missed until they are.",
                        summary.unmarked,
                    )
                )
        if cohort.course.requires_final_project and (cohort.id, enrolment.child_id) not in projects:
            reasons.append(_l("The final project is not marked as completed."))
        results.append((rate, reasons))
    return results
