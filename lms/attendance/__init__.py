"""Attendance: roll call, check-out, absence notices, attendance rates and reports."""

from lms.attendance import wiring  # noqa: F401 - fills the families hooks at import time
