"""Certificate forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from lms.forms import Form

REASON_HINT = _l("Kept in the audit log.")


class IssueAllForm(Form):
    one_time = True  # creates something: one effect per submission
    english = BooleanField(_l("Add an English column"))


class IssueForm(Form):
    one_time = True  # creates something: one effect per submission
    reason = TextAreaField(
        _l("Reason to issue although the child is not eligible"),
        validators=[Optional(), Length(max=500, message=_l("At most %(max)d characters."))],
        description=REASON_HINT,
        render_kw={"maxlength": 500, "rows": 2},
    )
    english = BooleanField(_l("Add an English column"))


class RevokeForm(Form):
    reason = TextAreaField(
        _l("Why is this certificate revoked?"),
        validators=[
            InputRequired(_l("Say why the certificate is revoked.")),
            Length(max=500, message=_l("At most %(max)d characters.")),
        ],
        description=REASON_HINT,
        render_kw={"maxlength": 500, "rows": 2},
    )


class ReissueForm(Form):
    english = BooleanField(_l("Add an English column"))


class VerifyForm(Form):
    class Meta:
        csrf = False

    code = StringField(
        _l("Certificate code"),
        validators=[
            InputRequired(_l("Type the code printed on the certificate.")),
            Length(max=40, message=_l("At most %(max)d characters.")),
        ],
        description=_l("For example AL-7K3M-9QX2-HF4T, under the QR code."),
        render_kw={
            "maxlength": 40,
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "dir": "ltr",
        },
    )


class SignatureForm(Form):
    image = FileField(
        _l("Signature image (PNG or SVG)"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l("A scan or a drawing on a white or transparent background."),
        render_kw={"accept": "image/png,image/svg+xml,.png,.svg"},
    )
