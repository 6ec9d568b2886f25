"""Form helpers shared by every domain: the base form, rendering, choices, small parsers."""

from __future__ import annotations

from datetime import date

from flask import flash, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields import (
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import StopValidation

from lms import web
from lms.errors import DomainError
from lms.submissions import claim_submission
from lms.text import CleanText

# The dates and whole numbers any form accepts before its own validators say more (a date of
# birth in the future): beyond them the database (a 32-bit integer on PostgreSQL) or date
# arithmetic (a week after 9999-12-31) would fail instead of answering.
EARLIEST_DATE = date(1000, 1, 1)
LATEST_DATE = date(8999, 12, 31)
LARGEST_NUMBER = 2**31 - 1

_ONE_LINE = CleanText(one_line=True)
_MULTI_LINE = CleanText(one_line=False)


def _date_in_range(form, field) -> None:
    if isinstance(field.data, date) and not EARLIEST_DATE <= field.data <= LATEST_DATE:
        raise StopValidation(
            str(
                _l(
                    "Please give a date between %(first)s and %(last)s.",
                    first=EARLIEST_DATE.year,
                    last=LATEST_DATE.year,
                )
            )
        )


def _number_in_range(form, field) -> None:
    if field.data is not None and abs(field.data) > LARGEST_NUMBER:
        raise StopValidation(str(_l("This number is too large.")))


def shape_validators(field) -> list:
    """The checks every field of a kind gets (text rule, date and number ranges)."""
    if isinstance(field, TextAreaField):
        return [_MULTI_LINE]
    if isinstance(field, StringField) and not isinstance(field, PasswordField):
        return [_ONE_LINE]
    if isinstance(field, DateField):
        return [_date_in_range]
    if isinstance(field, IntegerField | DecimalField):
        return [_number_in_range]
    return []


class Form(FlaskForm):
    """The base of every form of the app.

    Every text field follows the app's text rule (lms/text.py), every date and number stays
    in a range the database and the calendar can hold.

    When a service refuses what a validated form asked (a ``DomainError``), the app shows the
    page again (see lms/web.py): then ``validate_on_submit`` answers False, so nothing is done
    twice, and the form that was sent carries the reason on its field, with what was typed.

    A form that creates something sets ``one_time = True``: the same submission sent twice
    has one effect, and the second answer leads where the first one did (lms/submissions.py).
    """

    one_time = False

    def __init__(self, *args, one_time: bool | None = None, **kwargs) -> None:
        # A form that both creates and edits is made one-time by the page that creates.
        super().__init__(*args, **kwargs)
        if one_time is not None:
            self.one_time = one_time
        # The app's text rule and ranges run first, so that no other check (one that asks
        # the database, one that adds days to a date) ever sees a value they refuse.
        for field in self._fields.values():
            checks = shape_validators(field)
            if checks:
                field.validators = [*checks, *field.validators]

    def refusal_key(self) -> tuple:
        return (type(self).__qualname__, self._prefix)

    def validate_on_submit(self, extra_validators=None) -> bool:
        refusal = web.current_refusal()
        if refusal is not None:
            if refusal.form_key == self.refusal_key() or (
                refusal.form_key is None and self.is_submitted()
            ):
                self.validate(extra_validators=extra_validators)
                apply_domain_error(self, refusal.error)
            return False
        valid = super().validate_on_submit(extra_validators=extra_validators)
        if valid:
            if self.one_time:
                claim_submission()
            web.acting_form(self.refusal_key())
        return valid


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal on the form: on its field if it names one, else on top."""
    field = getattr(form, error.field, None) if error.field else None
    # A plain str, so that the template escapes it: a lazy string counts as safe markup, and
    # messages quote what users typed (a room's name, a course's title).
    message = str(error.message)
    if field is not None and hasattr(field, "errors"):
        if message not in field.errors:
            field.errors = [*field.errors, message]
    elif message not in form.form_errors:
        form.form_errors.append(message)


def render_form(template: str, form: FlaskForm, **context):
    """Render a form page; 422 when it was submitted and refused, so tests and tools can tell."""
    refused = form.is_submitted() and bool(form.errors)
    return render_template(template, form=form, **context), 422 if refused else 200


def choices(pairs) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def optional_int(value) -> int | None:
    """A SelectField ``coerce``: None when nothing was chosen, else the integer.

    A value that is not a number raises ValueError, which WTForms shows as an invalid choice.
    """
    if value is None or value in ("", "None"):
        return None
    number = int(value)
    if abs(number) > LARGEST_NUMBER:
        raise ValueError("out of range")
    return number


def flash_form_errors(form) -> None:
    """A form's errors as one flash, for a button POST that goes back instead of showing the
    form again."""
    flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
