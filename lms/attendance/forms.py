"""Attendance forms: they check shape; the services check the world (windows, rosters, lists).

The roster has one radio group per child, named after the child (``status-<child id>``), and
a hidden ``seen-<child id>`` field holding "<version>:<status>" as the page showed it: the
service writes only the marks the form changed, and can tell who saved in between.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, Optional

from lms.attendance.marks import REASON_MAX
from lms.attendance.models import AttendanceStatus
from lms.attendance.roll_call import MarkEntry
from lms.forms import Form, choices

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
