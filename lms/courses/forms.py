"""Catalogue and timetable forms: they check shape; the services check the world."""

from __future__ import annotations

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from lms.courses.models import CohortStatus, InstructionLanguage, Level, Track
from lms.forms import Form, choices, optional_int

REQUIRED = _l("This field is required.")
WHOLE_NUMBER = _l("Enter a whole number.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AtLeastOne:
    """A multiple choice with at least one box ticked (no ``required`` flag on the group)."""

    def __init__(self, message) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if not field.data:
            raise StopValidation(self.message)


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def weekday_names(width: str = "wide") -> list[str]:
    """Monday to Sunday in the request's language."""
    names = get_day_names(width, locale=get_locale())
    return [names[day] for day in range(7)]


def weekday_choices():
    return choices(enumerate(weekday_names()))


def text(label, *, max_length: int, required: bool = False, **kwargs):
    first = InputRequired(REQUIRED) if required else Optional()
    return StringField(
        label,
        validators=[first, Length(max=max_length, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        render_kw={"maxlength": max_length},
        **kwargs,
    )


def long_text(label, *, required: bool = False, **kwargs):
    first = InputRequired(REQUIRED) if required else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=4000, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        **kwargs,
    )


def whole_number(label, *, low: int, high: int, default=None, required: bool = True, **kwargs):
    first = InputRequired(WHOLE_NUMBER) if required else Optional()
    return IntegerField(
        label,
        default=default,
        validators=[
            first,
            NumberRange(min=low, max=high, message=_l("Between %(min)s and %(max)s.")),
        ],
        render_kw={"inputmode": "numeric", "min": low, "max": high},
        **kwargs,
    )


def date_field(label, *, required: bool = True, **kwargs):
    first = InputRequired(_l("Enter a date.")) if required else Optional()
    return DateField(label, validators=[first], **kwargs)


def time_field(label, **kwargs):
    return TimeField(label, validators=[InputRequired(_l("Enter a time, for example 14:30."))])


class CourseForm(Form):
    title_fr = text(_l("Title in French"), max_length=120, required=True)
    summary_fr = long_text(_l("Summary in French"), required=True)
    title_ar = text(_l("Title in Arabic"), max_length=120, description=_l("Optional."))
    summary_ar = long_text(_l("Summary in Arabic"), description=_l("Optional."))
    title_en = text(_l("Title in English"), max_length=120, description=_l("Optional."))
    summary_en = long_text(_l("Summary in English"), description=_l("Optional."))
    track = SelectField(_l("Track"), choices=choices(Track.choices()))
    level = SelectField(_l("Level"), choices=choices(Level.choices()))
    min_age = whole_number(_l("Minimum age"), low=1, high=99)
    max_age = whole_number(_l("Maximum age"), low=1, high=99)
    price = DecimalField(
        _l("Price (MAD)"),
        places=2,
        default=0,
        validators=[
            InputRequired(_l("Enter a price; 0 means free.")),
            NumberRange(min=0, max=100_000, message=_l("Between %(min)s and %(max)s.")),
        ],
        description=_l("For the whole cohort. 0 means free."),
        render_kw={"inputmode": "decimal"},
    )
    attendance_threshold = whole_number(
        _l("Attendance needed for the certificate (%)"), low=0, high=100, default=80
    )
    requires_final_project = BooleanField(_l("A final project is needed for the certificate"))
    prerequisites = CheckboxesField(_l("Prerequisite courses"), coerce=int, choices=[])
    published = BooleanField(_l("Published in the catalogue"))


class RoomForm(Form):
    name = text(_l("Name"), max_length=80, required=True)
    name_ar = text(
        _l("Name on the Arabic pages"),
        max_length=80,
        description=_l("Leave empty to show the name above there too."),
    )
    site = text(_l("Site"), max_length=120, required=True)
    capacity = whole_number(_l("Capacity (children)"), low=1, high=500)


class ClosureForm(Form):
    one_time = True  # creates something: one effect per submission
    starts_on = date_field(_l("First day"))
    ends_on = date_field(
        _l("Last day"), required=False, description=_l("Leave empty for a single day.")
    )
    label = text(_l("Reason"), max_length=120, required=True, description=_l("E.g. Throne Day."))
    cancel_lessons = BooleanField(
        _l("Cancel the lessons already planned on these days"),
        default=True,
        description=_l("Each group's families are told by e-mail."),
    )


class CohortForm(Form):
    course_id = SelectField(_l("Course"), coerce=int, choices=[])
    room_id = SelectField(_l("Room"), coerce=int, choices=[])
    lead_instructor_id = SelectField(_l("Lead instructor"), coerce=int, choices=[])
    assistant_ids = CheckboxesField(_l("Assistants"), coerce=int, choices=[])
    capacity = whole_number(_l("Capacity (children)"), low=1, high=500, default=12)
    language = SelectField(
        _l("Language of instruction"), choices=choices(InstructionLanguage.choices())
    )
    start_date = date_field(_l("First day"))
    end_date = date_field(_l("Last day"))
    weekdays = CheckboxesField(
        _l("Weekdays"),
        coerce=int,
        choices=weekday_choices,
        validators=[AtLeastOne(_l("Choose at least one weekday."))],
    )
    start_time = time_field(_l("Start time"))
    duration_minutes = whole_number(_l("Duration (minutes)"), low=15, high=480, default=90)
    enrolment_opens_on = date_field(
        _l("Enrolment opens on"), required=False, description=_l("Leave empty: open now.")
    )
    enrolment_closes_on = date_field(
        _l("Enrolment closes after"),
        required=False,
        description=_l("Leave empty: open until the last day."),
    )
    status = SelectField(
        _l("Status"),
        choices=choices(
            [
                (CohortStatus.DRAFT, _l("Draft (not shown to families)")),
                (CohortStatus.OPEN, CohortStatus.OPEN.label),
            ]
        ),
    )


class CohortStatusForm(Form):
    status = HiddenField(validators=[InputRequired()])


class LessonMoveForm(Form):
    date = date_field(_l("Date"))
    start_time = time_field(_l("Start time"))
    duration_minutes = whole_number(_l("Duration (minutes)"), low=15, high=480)
    room_id = SelectField(_l("Room"), coerce=int, choices=[])
    note = text(
        _l("Message to families"),
        max_length=200,
        description=_l("Optional. Included in the e-mail and the calendar."),
    )


class LessonCancelForm(Form):
    note = text(
        _l("Reason"),
        max_length=200,
        description=_l("Optional. Included in the e-mail and the calendar."),
    )


class CatalogueFilterForm(Form):
    """The catalogue's filters: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    age = IntegerField(
        _l("Age"),
        validators=[Optional(), NumberRange(min=1, max=99, message=_l("Enter an age in years."))],
        render_kw={"inputmode": "numeric", "min": 1, "max": 99},
    )
    child = SelectField(_l("For my child"), coerce=optional_int, choices=[], validate_choice=False)
    track = SelectField(_l("Track"), choices=[], default="")
    weekday = SelectField(_l("Day"), choices=[], default="")
    time_of_day = SelectField(_l("Time of day"), choices=[], default="")
    language = SelectField(_l("Language"), choices=[], default="")


class TimetableFilterForm(Form):
    """The coordinators' timetable: which week, which room, which instructor."""

    class Meta:
        csrf = False

    week = DateField(_l("Week of"), validators=[Optional()])
    room = SelectField(_l("Room"), coerce=optional_int, choices=[], validate_choice=False)
    instructor = SelectField(
        _l("Instructor"), coerce=optional_int, choices=[], validate_choice=False
    )
