"""Family forms: they check shape; the services check the world (ages, guardians, consent)."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from lms.accounts.forms import REQUIRED, email_field, phone_field
from lms.families.models import NAME_MAX, NOTES_MAX
from lms.forms import Form, choices


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PersonName:
    """A name in any script: at least one letter, no digits or control characters."""

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        if not any(char.isalpha() for char in field.data):
            raise ValidationError(_l("A name needs letters."))
        if any(char.isdigit() or unicodedata.category(char) == "Cc" for char in field.data):
            raise ValidationError(_l("A name cannot contain digits."))


def _is_arabic_letter(char: str) -> bool:
    return char.isalpha() and unicodedata.name(char, "").startswith("ARABIC")


class ArabicScript:
    """Letters in Arabic script only (with spaces, hyphens and apostrophes)."""

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        if any(char.isalpha() and not _is_arabic_letter(char) for char in field.data):
            raise ValidationError(_l("Write this name in Arabic letters, or leave it empty."))


def name_field(label, *, required: bool = True, arabic: bool = False, hint=None):
    validators = [
        InputRequired(REQUIRED) if required else Optional(),
        Length(max=NAME_MAX, message=_l("At most %(max)d characters.")),
        PersonName(),
    ]
    # dir="auto": a Latin name typed on the Arabic page (and the reverse) reads the right way.
    render_kw = {"maxlength": NAME_MAX, "autocomplete": "off", "dir": "auto"}
    if arabic:
        validators.append(ArabicScript())
        render_kw.update({"dir": "rtl", "lang": "ar"})
    return StringField(
        label, validators=validators, filters=[_strip], description=hint, render_kw=render_kw
    )


def _relationship_field():
    return StringField(
        _l("Relationship to the child"),
        validators=[
            InputRequired(REQUIRED),
            Length(max=60, message=_l("At most %(max)d characters.")),
        ],
        filters=[_strip],
        description=_l("For example: mother, grandfather, aunt, neighbour."),
        render_kw={"maxlength": 60, "dir": "auto"},
    )


def _person_name_field(label=None):
    return StringField(
        label or _l("Full name"),
        validators=[
            InputRequired(REQUIRED),
            Length(min=2, max=120, message=_l("Between %(min)d and %(max)d characters.")),
            PersonName(),
        ],
        filters=[_strip],
        render_kw={"maxlength": 120, "autocomplete": "off", "dir": "auto"},
    )


class DayField(DateField):
    """A date (the browser's date picker sends 2016-03-14); a bad one gets a clear message."""

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a real date, for example 14/03/2016.")) from None


class ChildForm(Form):
    first_name = name_field(_l("First name"))
    last_name = name_field(_l("Last name"))
    first_name_ar = name_field(
        _l("First name in Arabic letters"),
        required=False,
        arabic=True,
        hint=_l("Optional. Used on bilingual certificates."),
    )
    last_name_ar = name_field(_l("Last name in Arabic letters"), required=False, arabic=True)
    date_of_birth = DayField(
        _l("Date of birth"),
        validators=[InputRequired(_l("Enter the date of birth."))],
        render_kw={"autocomplete": "off"},
    )
    school_grade = StringField(
        _l("School grade"),
        validators=[Optional(), Length(max=40, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        description=_l("Optional. For example: CE2, 4th year of primary school."),
        render_kw={"maxlength": 40, "dir": "auto"},
    )
    may_leave_alone = BooleanField(
        _l("My child may leave alone at the end of a lesson."),
        description=_l("Otherwise a guardian or an authorised person must collect the child."),
    )


class NewChildForm(ChildForm):
    """The child and, since a child always has someone to call, the first emergency contact."""

    one_time = True  # creates something: one effect per submission

    emergency_name = _person_name_field()
    emergency_relationship = _relationship_field()
    emergency_phone = phone_field()


class PersonForm(Form):
    """An emergency contact or someone allowed to collect the child."""

    name = _person_name_field()
    relationship = _relationship_field()
    phone = phone_field()


YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


class HealthForm(Form):
    consent = RadioField(
        _l("May we keep health information about your child?"),
        choices=choices(
            [
                ("yes", _l("Yes: I consent to Active Labs keeping the health information below.")),
                ("no", _l("No: keep no health information about my child.")),
            ]
        ),
        validators=[InputRequired(_l("Choose yes or no."))],
    )
    allergies = TextAreaField(
        _l("Allergies"),
        validators=[Optional(), Length(max=NOTES_MAX, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        description=_l("Food, medicines, insects, materials… and what to do."),
        render_kw={"maxlength": NOTES_MAX, "rows": 3, "dir": "auto"},
    )
    medical_notes = TextAreaField(
        _l("Medical notes"),
        validators=[Optional(), Length(max=NOTES_MAX, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        description=_l("Only what the team needs to keep your child safe (asthma, epilepsy…)."),
        render_kw={"maxlength": NOTES_MAX, "rows": 3, "dir": "auto"},
    )


class PhotoConsentForm(Form):
    granted = RadioField(
        _l("May Active Labs take and publish photos and videos of your child?"),
        choices=choices(
            [
                ("yes", _l("Yes, I consent.")),
                ("no", _l("No.")),
            ]
        ),
        validators=[InputRequired(_l("Choose yes or no."))],
    )


class PhotoForm(Form):
    one_time = True  # a double click stores one photo

    image = FileField(
        _l("Photo (JPEG, PNG or WebP, at most 5 MB)"),
        validators=[FileRequired(_l("Choose a photo."))],
        description=_l("A clear photo of the face, as on a school card."),
        render_kw={"accept": "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"},
    )
    agreed = BooleanField(
        _l(
            "I agree that the instructors of my child's groups, the substitutes standing in "
            "for them and the coordinators see this photo on the register."
        ),
        validators=[InputRequired(_l("Tick the box to agree to who sees the photo."))],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class InviteGuardianForm(Form):
    one_time = True  # creates something: one effect per submission
    email = email_field(_l("The other parent's e-mail address"))
    children = MultiCheckboxField(_l("Children they will see and manage"), coerce=int)

    def validate_children(self, field) -> None:
        # Not InputRequired: its "required" flag would make the browser demand every box.
        if not field.data:
            raise ValidationError(_l("Choose at least one child."))


class ConfirmErasureForm(Form):
    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(REQUIRED), Length(max=128)],
        description=_l("To be sure it is you."),
        render_kw={"autocomplete": "current-password", "maxlength": 128},
    )
    understood = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[InputRequired(_l("Tick this box to confirm."))],
    )
