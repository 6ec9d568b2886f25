"""The filters of the dashboard and of the exports page (GET forms: nothing changes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a choice: the field says so


class TermForm(FlaskForm):
    class Meta:
        csrf = False

    term = SelectField(_l("Term"))


class ExportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    term = SelectField(_l("Term"))
    cohort = SelectField(_l("Cohort"), coerce=_optional_int)
