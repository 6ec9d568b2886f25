"""Attendance and final project, read from the attendance domain, for eligibility."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lms.courses.models import Cohort
from lms.enrolment.models import Enrolment


def attendance_and_project(
    cohort: Cohort, enrolments: Sequence[Enrolment], now: datetime
) -> list[tuple[float | None, list]]:
    """(attendance rate, reasons not to issue) for each enrolment, in order."""
    raise NotImplementedError("wired to lms.attendance when it lands")
