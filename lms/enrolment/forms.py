"""Enrolment forms: they check shape; the services check the world."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.courses.forms import AtLeastOne, CheckboxesField
from lms.enrolment.models import PaymentMethod
from lms.families.forms import DayField
from lms.forms import Form

REQUIRED = _l("This field is required.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def reason_field(label, *, required: bool = False, description=None):
    first = InputRequired(REQUIRED) if required else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=500, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        description=description,
        render_kw={"maxlength": 500, "rows": 3},
    )


def money_field(label, *, description=None, low: str = "0.01"):
    return DecimalField(
        label,
        places=2,
        validators=[
            InputRequired(_l("Enter an amount in dirhams, for example 350 or 350.50.")),
            NumberRange(
                min=Decimal(low), max=Decimal(100_000), message=_l("Between %(min)s and %(max)s.")
            ),
        ],
        description=description,
        render_kw={"inputmode": "decimal"},
    )


def centimes(amount: Decimal) -> int:
    """Dirhams typed in a form as centimes."""
    return int((amount * 100).to_integral_value())


class EnrolForm(Form):
    children = CheckboxesField(
        _l("Which children?"),
        coerce=int,
        choices=[],
        validators=[AtLeastOne(_l("Choose at least one child."))],
    )


class OfferAnswerForm(Form):
    """The button of an e-mailed offer link (accept or decline): nothing to fill in."""


class CoordinatorEnrolForm(Form):
    child_id = SelectField(_l("Child"), coerce=int, choices=[])
    override_age = BooleanField(_l("Set the age rule aside"))
    override_prerequisites = BooleanField(_l("Set the prerequisites aside"))
    reason = reason_field(
        _l("Reason"), description=_l("Needed when a rule is set aside; it is logged.")
    )


class CancelForm(Form):
    reason = reason_field(
        _l("Reason"), required=True, description=_l("Logged; the family is told the place ends.")
    )


class MoveForm(Form):
    cohort_id = SelectField(_l("New group"), coerce=int, choices=[])
    override_rules = BooleanField(_l("Set the age and prerequisite rules aside"))
    reason = reason_field(_l("Reason"), description=_l("Needed when the rules are set aside."))


class FeeWaiverForm(Form):
    amount = money_field(
        _l("Amount waived (MAD)"), low="0", description=_l("0 removes the waiver.")
    )
    reason = reason_field(_l("Reason"), description=_l("For example: scholarship. Logged."))


class PaymentForm(Form):
    amount = money_field(_l("Amount (MAD)"))
    method = SelectField(_l("Method"), choices=PaymentMethod.choices)
    reference = StringField(
        _l("Reference"),
        validators=[Optional(), Length(max=80, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        description=_l("Transfer or card slip number (optional)."),
        render_kw={"maxlength": 80},
    )
    paid_on = DayField(_l("Paid on"), validators=[InputRequired(_l("Enter a date."))])


class PrerequisiteWaiverForm(Form):
    child_id = SelectField(_l("Child"), coerce=int, choices=[])
    course_id = SelectField(_l("Prerequisite waived"), coerce=int, choices=[])
    reason = reason_field(_l("Reason"), required=True, description=_l("Logged."))
