"""Fetch what a report or an export is about, checking who may read it (404/403)."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from lms.courses.models import Cohort
from lms.courses.terms import Term
from lms.extensions import db
from lms.querystring import arg_key
from lms.reports import services
from lms.reports.permissions import can_export_office_files, can_export_roster


def load_term() -> Term:
    """The term asked for with ?term=2026-autumn (the current one by default); 404 if unknown."""
    key = arg_key("term")
    if key is None and request.args.get("term", "").strip():
        abort(404, description=_("There is no such term."))
    term = services.resolve_term(key)
    if term is None:
        abort(404, description=_("There is no such term."))
    return term


def load_roster_cohort(cohort_id: int) -> Cohort:
    """A cohort whose roster the current user may download; 404 or 403."""
    cohort = db.get_or_404(Cohort, cohort_id)
    if not can_export_roster(current_user, cohort):
        abort(403)
    return cohort


def load_office_export_cohort(cohort_id: int) -> Cohort:
    """A cohort an office file (contacts, enrolments, payments...) may be limited to; 404/403."""
    cohort = db.get_or_404(Cohort, cohort_id)
    if not can_export_office_files(current_user):
        abort(403)
    return cohort
