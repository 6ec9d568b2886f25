"""Attendance: roll call, check-out, absence notices, attendance rates and reports."""
