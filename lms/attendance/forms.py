"""Attendance forms: they check shape; the services check the world (windows, rosters, lists).

The roster has one radio group per child, named after the child (``status-<child id>``), and
a hidden ``seen-<child id>`` field holding "<version>:<status>" as the page showed it: the
service writes only the marks the form changed, and can tell who saved in between.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, Optional

from lms.attendance.marks import REASON_MAX
from lms.attendance.models import INCIDENT_TEXT_MAX, INCIDENT_TOLD_MAX, NOTE_MAX, AttendanceStatus
from lms.attendance.roll_call import MarkEntry
from lms.forms import Form, choices, optional_int

STATUS_FIELD = "status-"
SEEN_FIELD = "seen-"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RosterForm(Form):
    """The roster: the CSRF token, what to do, and a coordinator's reason for a correction;
    the marks themselves are read by ``roster_entries``."""

    action = HiddenField()
    reason = StringField(
        _l("Why are you correcting these marks?"),
        validators=[Optional(), Length(max=REASON_MAX, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        render_kw={"maxlength": REASON_MAX},
    )


def _parse_seen(value: str | None) -> tuple[int, str | None] | None:
    version, _, status = (value or "0:").partition(":")
    if not version.isdigit() or len(version) > 9:
        return None
    if status and status not in AttendanceStatus.__members__.values():
        return None
    return int(version), status or None


def roster_entries(formdata: MultiDict) -> tuple[dict[int, MarkEntry], list]:
    """The marks of a submitted roster, {child id: entry}, and the shape errors found."""
    entries: dict[int, MarkEntry] = {}
    errors = []
    statuses = set(AttendanceStatus.__members__.values())
    for name in formdata:
        if not name.startswith(SEEN_FIELD):
            continue
        key = name.removeprefix(SEEN_FIELD)
        seen = _parse_seen(formdata.get(name))
        if not key.isdigit() or len(key) > 12 or seen is None:
            errors.append(_l("The roster was not sent correctly. Reload the page and try again."))
            continue
        status = formdata.get(f"{STATUS_FIELD}{key}") or None
        if status is not None and status not in statuses:
            errors.append(_l("Choose present, late, absent or excused."))
            continue
        entries[int(key)] = MarkEntry(status=status, seen_status=seen[1], seen_version=seen[0])
    return entries, list(dict.fromkeys(str(error) for error in errors))


class CheckoutForm(Form):
    """Who collected the child (choices are the child's own list) and at what time."""

    collector = SelectField(
        _l("Collected by"),
        validators=[InputRequired(_l("Choose who collected the child."))],
        validate_choice=False,  # the service checks the choice against the child's list
    )
    at = TimeField(
        _l("Time"),
        validators=[Optional()],
        description=_l("Leave empty for now."),
    )


class AbsenceForm(Form):
    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Optional(), Length(max=REASON_MAX, message=_l("At most %(max)d characters."))],
        filters=[_strip],
        description=_l("The instructors will see it. Do not write medical details here."),
        render_kw={"maxlength": REASON_MAX, "rows": 3},
    )


class FinalProjectForm(Form):
    """The CSRF token; the children who completed the project come as ``completed`` values."""


class AbsenceEmailsForm(Form):
    enabled = RadioField(
        _l("E-mail me when one of my children is marked absent without notice"),
        choices=choices([("yes", _l("Yes")), ("no", _l("No"))]),
        validators=[InputRequired(_l("Choose yes or no."))],
    )


# ---------------------------------------------------------------------------------------------
# After the lesson: the note, an incident; a substitute


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters."))


class LessonNoteForm(Form):
    """The lesson's note (the service refuses an empty one, on this field). One-time: the
    first submission creates the note, a copy of it must not edit it again."""

    one_time = True

    body = TextAreaField(
        _l("What the group did, and what to bring next time"),
        validators=[_at_most(NOTE_MAX)],
        filters=[_strip],
        description=_l("The families of the group read it as you write it."),
        render_kw={"maxlength": NOTE_MAX, "rows": 6},
    )


class IncidentForm(Form):
    """An incident during the lesson: the child (from the roster), when, what, who was told."""

    one_time = True

    child = SelectField(
        _l("Child"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose the child."))],
        validate_choice=False,  # the service checks the child against the roster
    )
    at = TimeField(_l("Time"), validators=[Optional()], description=_l("Leave empty for now."))
    what_happened = TextAreaField(
        _l("What happened"),
        validators=[_at_most(INCIDENT_TEXT_MAX)],
        filters=[_strip],
        render_kw={"maxlength": INCIDENT_TEXT_MAX, "rows": 4},
    )
    action_taken = TextAreaField(
        _l("What was done (first aid, rest, a call...)"),
        validators=[_at_most(INCIDENT_TEXT_MAX)],
        filters=[_strip],
        render_kw={"maxlength": INCIDENT_TEXT_MAX, "rows": 3},
    )
    who_was_told = StringField(
        _l("Who was told (optional)"),
        validators=[Optional(), _at_most(INCIDENT_TOLD_MAX)],
        filters=[_strip],
        render_kw={"maxlength": INCIDENT_TOLD_MAX},
    )
    notify_parents = BooleanField(
        _l("Tell the parents now"),
        default=True,
        description=_l("They get a message on the channels they chose, naming the child."),
    )


class SubstituteForm(Form):
    """A substitute for a group: who, and the days (one day: one lesson)."""

    one_time = True

    substitute = SelectField(
        _l("Substitute instructor"),
        coerce=optional_int,
        validators=[InputRequired(_l("Choose an instructor."))],
        validate_choice=False,  # the service checks that it is an active instructor
    )
    first_day = DateField(_l("First day"), validators=[InputRequired(_l("Give the first day."))])
    last_day = DateField(
        _l("Last day"),
        validators=[Optional()],
        description=_l("Leave empty for one lesson."),
    )


class EndAssignmentForm(Form):
    """The CSRF token of the button that ends an assignment."""
