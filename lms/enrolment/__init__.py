"""Enrolment: children in cohorts, the waiting list, offers, fees and payments."""
