"""Form helpers shared by every domain: the base form, rendering, choices, small parsers."""

from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm
from wtforms.fields import SelectChoice

from lms import web
from lms.errors import DomainError
from lms.submissions import claim_submission


class Form(FlaskForm):
    """The base of every form of the app.

    When a service refuses what a validated form asked (a ``DomainError``), the app shows the
    page again (see lms/web.py): then ``validate_on_submit`` answers False, so nothing is done
    twice, and the form that was sent carries the reason on its field, with what was typed.

    A form that creates something sets ``one_time = True``: the same submission sent twice
    has one effect, and the second answer leads where the first one did (lms/submissions.py).
    """

    one_time = False

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
    return int(value)
