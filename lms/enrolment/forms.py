"""Enrolment forms: they check shape; the services check the world."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from lms.courses.forms import AtLeastOne, CheckboxesField
from lms.enrolment.models import PaymentMethod
from lms.families.forms import DayField
from lms.forms import Form, choices

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
    one_time = True  # creates something: one effect per submission
    children = CheckboxesField(
        _l("Which children?"),
        coerce=int,
        choices=[],
        validators=[AtLeastOne(_l("Choose at least one child."))],
    )


class OfferAnswerForm(Form):
    """The button of an e-mailed offer link (accept or decline): nothing to fill in."""


class CoordinatorEnrolForm(Form):
    one_time = True  # creates something: one effect per submission
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
    one_time = True  # creates something: one effect per submission
    amount = money_field(_l("Amount (MAD)"))
    method = SelectField(_l("Method"), choices=lambda: choices(PaymentMethod.choices()))
    reference = StringField(
        _l("Reference"),
        validators=[Optional(), Length(max=80, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        description=_l("Transfer or card slip number (optional)."),
        render_kw={"maxlength": 80},
    )
    paid_on = DayField(_l("Paid on"), validators=[InputRequired(_l("Enter a date."))])


class CreditNoteForm(Form):
    one_time = True  # creates something: one effect per submission
    amount = money_field(_l("Amount given back (MAD)"))
    reason = reason_field(
        _l("Reason"),
        required=True,
        description=_l("For example: withdrawn before the first lesson. Printed on the note."),
    )


class PrerequisiteWaiverForm(Form):
    one_time = True  # creates something: one effect per submission
    child_id = SelectField(_l("Child"), coerce=int, choices=[])
    course_id = SelectField(_l("Prerequisite waived"), coerce=int, choices=[])
    reason = reason_field(_l("Reason"), required=True, description=_l("Logged."))


# ---------------------------------------------------------------------------------------------
# Card payments and bank statements


class CardPaymentForm(Form):
    """A parent's "pay by card" button: for a term, or for one enrolment."""

    one_time = True
    term = HiddenField()
    enrolment = HiddenField()


class StatementImportForm(Form):
    one_time = True
    kind = SelectField(
        _l("File"),
        choices=choices([("camt053", _l("camt.053 statement (XML)")), ("csv", _l("CSV export"))]),
        default="camt053",
    )
    file = FileField(_l("Statement file"), validators=[FileRequired(_l("Choose the file."))])
    bank = StringField(
        _l("Bank"),
        filters=[_strip],
        validators=[Optional(), Length(max=60)],
        description=_l("CSV only: the columns are remembered for this bank."),
    )
    date_column = StringField(_l("Date column"), filters=[_strip], validators=[Length(max=60)])
    amount_column = StringField(_l("Amount column"), filters=[_strip], validators=[Length(max=60)])
    text_column = StringField(
        _l("Description column"), filters=[_strip], validators=[Length(max=60)]
    )
    name_column = StringField(
        _l("Payer's name column (optional)"), filters=[_strip], validators=[Length(max=60)]
    )
    reference_column = StringField(
        _l("Bank reference column (optional)"), filters=[_strip], validators=[Length(max=60)]
    )
    date_format = SelectField(
        _l("Date format"),
        choices=choices(
            [
                ("%d/%m/%Y", "31/12/2026"),
                ("%d-%m-%Y", "31-12-2026"),
                ("%Y-%m-%d", "2026-12-31"),
                ("%d/%m/%y", "31/12/26"),
            ]
        ),
        default="%d/%m/%Y",
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data == "csv":
            if not self.bank.data:
                self.bank.errors.append(_l("Name the bank, so its columns are remembered."))
                valid = False
            for name in ("date_column", "amount_column", "text_column"):
                if not getattr(self, name).data:
                    getattr(self, name).errors.append(REQUIRED)
                    valid = False
        return valid


class StatementMatchForm(Form):
    family = SelectField(_l("Family and term"), validators=[InputRequired(REQUIRED)])
