"""Form helpers shared by every domain."""

from __future__ import annotations

from flask import render_template
from flask_wtf import FlaskForm
from wtforms.fields import SelectChoice

from lms.errors import DomainError


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal on the form: on its field if it names one, else on top."""
    field = getattr(form, error.field, None) if error.field else None
    # A plain str, so that the template escapes it: a lazy string counts as safe markup, and
    # messages quote what users typed (a room's name, a course's title).
    message = str(error.message)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def render_form(template: str, form: FlaskForm, **context):
    """Render a form page; 422 when it was submitted and refused, so tests and tools can tell."""
    refused = form.is_submitted() and bool(form.errors)
    return render_template(template, form=form, **context), 422 if refused else 200


def choices(pairs) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
