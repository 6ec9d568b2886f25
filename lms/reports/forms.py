"""The filters of the dashboard and of the exports page (GET forms: nothing changes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from lms.forms import Form, optional_int


class TermForm(Form):
    class Meta:
        csrf = False

    term = SelectField(_l("Term"))


class ExportFilterForm(Form):
    class Meta:
        csrf = False

    term = SelectField(_l("Term"))
    cohort = SelectField(_l("Cohort"), coerce=optional_int)
