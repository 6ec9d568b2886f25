"""Account forms: they check shape; the services check the world."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, ValidationError

from lms.forms import Form, choices
from lms.i18n import LANGUAGE_NAMES
from lms.phones import PhoneNumber
from lms.security import password_problems

REQUIRED = _l("This field is required.")


def _language_choices():
    return choices((code, LANGUAGE_NAMES[code]) for code in ("fr", "ar", "en"))


def email_field(label=None):
    return EmailField(
        label or _l("E-mail address"),
        validators=[
            InputRequired(REQUIRED),
            Length(max=254, message=_l("At most %(max)d characters.")),
            Email(
                message=_l("Enter a valid e-mail address, for example nom@exemple.ma."),
                check_deliverability=False,
            ),
        ],
        render_kw={"autocomplete": "email", "maxlength": 254},
    )


def name_field(label=None):
    return StringField(
        label or _l("Full name"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=2, max=120, message=_l("Between %(min)d and %(max)d characters.")),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "name", "maxlength": 120},
    )


def phone_field(required: bool = True):
    first = InputRequired(REQUIRED) if required else Optional()
    return StringField(
        _l("Phone number"),
        validators=[
            first,
            Length(max=30, message=_l("At most %(max)d characters.")),
            PhoneNumber(),
        ],
        description=_l("A Moroccan number, or an international one starting with +."),
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": 30},
    )


def new_password_field(label=None):
    return PasswordField(
        label or _l("New password"),
        validators=[InputRequired(REQUIRED)],
        description=_l("At least 10 characters. A short sentence is easy to remember."),
        render_kw={"autocomplete": "new-password", "maxlength": 128},
    )


def confirm_field(other: str = "password"):
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            InputRequired(REQUIRED),
            EqualTo(other, message=_l("The two passwords are different.")),
        ],
        render_kw={"autocomplete": "new-password", "maxlength": 128},
    )


class PasswordPolicyMixin:
    """Checks the ``password`` field against the password policy."""

    def validate_password(self, field) -> None:
        email = getattr(self, "email", None)
        name = getattr(self, "full_name", None)
        problems = password_problems(
            field.data or "",
            email=email.data if email is not None else None,
            name=name.data if name is not None else None,
        )
        if problems:
            raise ValidationError(problems[0])


class RegistrationForm(PasswordPolicyMixin, Form):
    full_name = name_field()
    email = email_field()
    phone = phone_field()
    password = new_password_field(_l("Password"))
    confirm = confirm_field()
    language = SelectField(_l("Preferred language"), choices=_language_choices)
    accept_privacy = BooleanField(
        _l("I have read and accept the privacy notice."),
        validators=[InputRequired(_l("You must accept the privacy notice to open an account."))],
    )
    next = HiddenField()


class LoginForm(Form):
    email = email_field()
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "current-password", "maxlength": 128},
    )
    remember = BooleanField(_l("Remember me on this device"))
    next = HiddenField()


class ForgotPasswordForm(Form):
    email = email_field()


class ResetPasswordForm(PasswordPolicyMixin, Form):
    password = new_password_field()
    confirm = confirm_field()


class ChangePasswordForm(PasswordPolicyMixin, Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(REQUIRED), Length(max=128)],
        render_kw={"autocomplete": "current-password", "maxlength": 128},
    )
    password = new_password_field()
    confirm = confirm_field()


class ProfileForm(Form):
    full_name = name_field()
    phone = phone_field(required=False)
    language = SelectField(_l("Language"), choices=_language_choices)


class EmailChangeForm(Form):
    email = email_field(_l("New e-mail address"))
    password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )


class ConfirmEmailForm(Form):
    """The button that opens a confirmation link (a link only shows the page)."""


class LanguageForm(Form):
    language = SelectField(_l("Language"), choices=_language_choices)
    next = HiddenField()

    def validate_language(self, field) -> None:
        if field.data not in current_app.config["LANGUAGES"]:
            raise ValidationError(_l("Unknown language."))


class StaffForm(Form):
    full_name = name_field()
    email = email_field()
    phone = phone_field(required=False)
    role = SelectField(
        _l("Role"),
        choices=choices([("instructor", _l("Instructor")), ("coordinator", _l("Coordinator"))]),
    )
    language = SelectField(_l("Language of e-mails"), choices=_language_choices)


class StaffEditForm(Form):
    full_name = name_field()
    phone = phone_field(required=False)
    role = SelectField(
        _l("Role"),
        choices=choices([("instructor", _l("Instructor")), ("coordinator", _l("Coordinator"))]),
    )
    language = SelectField(_l("Language of e-mails"), choices=_language_choices)
