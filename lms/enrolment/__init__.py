"""Enrolment: children in cohorts, the waiting list, offers, fees and payments."""

from lms.enrolment import wiring

wiring.install()
