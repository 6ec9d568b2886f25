"""The audit page's filters (a GET form: no CSRF token, nothing changes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from lms.forms import Form


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    actor = StringField(
        _l("Done by (e-mail)"),
        validators=[Optional(), Length(max=254)],
        render_kw={"maxlength": 254, "autocomplete": "off"},
    )
    subject_type = StringField(
        _l("Object type"), validators=[Optional(), Length(max=40)], render_kw={"maxlength": 40}
    )
    subject_id = IntegerField(
        _l("Object number"),
        validators=[Optional(), NumberRange(min=1, message=_l("A positive number."))],
    )
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
