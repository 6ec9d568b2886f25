"""The message form: who it is for, a subject, a plain-text body."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.forms import Form, optional_int
from lms.messaging.models import BODY_MAX, REPLY_MAX, SUBJECT_MAX


class MessageForm(Form):
    one_time = True  # creates something: one effect per submission
    audience = SelectField(_l("To"), validators=[DataRequired()])
    cohort = SelectField(_l("Cohort"), coerce=optional_int, validators=[Optional()])
    course = SelectField(_l("Course"), coerce=optional_int, validators=[Optional()])
    term = SelectField(_l("Term"), validators=[Optional()])
    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(_l("Write a subject.")), Length(max=SUBJECT_MAX)],
        render_kw={"maxlength": SUBJECT_MAX, "autocomplete": "off"},
    )
    body = TextAreaField(
        _l("Message"),
        description=_l(
            "Plain text. Web addresses (https://...) become links. At most %(num)d characters.",
            num=BODY_MAX,
        ),
        # The service counts after line ends are made single (\r\n -> \n); this only stops
        # a request far too big to be a message.
        validators=[DataRequired(_l("Write the message.")), Length(max=2 * BODY_MAX)],
        render_kw={"maxlength": BODY_MAX, "rows": 10},
    )
    preview = SubmitField(_l("Preview"))
    send = SubmitField(_l("Send to the families"))


class ReplyForm(Form):
    one_time = True  # sends something: one effect per submission
    body = TextAreaField(
        _l("Your reply"),
        # The service counts after line ends are made single; this only stops a request far
        # too big to be a reply.
        validators=[
            DataRequired(_l("Write the reply.")),
            Length(
                max=2 * REPLY_MAX,
                message=_l("A reply holds at most %(max)d characters.", max=REPLY_MAX),
            ),
        ],
        render_kw={"maxlength": REPLY_MAX, "rows": 4},
    )
    send = SubmitField(_l("Send the reply"))
