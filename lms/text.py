"""The one rule for text that people type: what the app stores, prints and exports.

Control characters (other than tab and line breaks) are refused: a NUL is an error on
PostgreSQL, and a vertical tab breaks the spreadsheets the staff download. A carriage return
is what a browser sends for a line break and is simply turned into a line feed. In one-line
fields (names, titles, rooms, relationships) the bidirectional embedding, override and isolate
characters are refused too: printed on a roster or a certificate they can reverse or hide a
name. The marks Arabic text uses (U+200E, U+200F) stay allowed.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation

# Bidirectional embeddings and overrides (U+202A..U+202E) and isolates (U+2066..U+2069).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ALLOWED_CONTROLS = frozenset("\t\n")
# Characters openpyxl cannot write into a cell (the XML 1.0 exclusions).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def normalise_line_breaks(value: str) -> str:
    """CR LF and lone CR become LF: what a person meant by a line break."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def refused_character(value: str, *, one_line: bool) -> str | None:
    """The first character of ``value`` the app does not store, or None."""
    for char in value:
        if char in ALLOWED_CONTROLS or char == "\r":
            if one_line and char in "\r\n":
                return "\n"
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or (one_line and char in BIDI_CONTROLS):
            return char
    return None


def describe(char: str) -> str:
    """A character as a person can look it up: U+000B."""
    return f"U+{ord(char):04X}"


class CleanText:
    """The text rule as a WTForms validator (the base form adds it to every text field)."""

    def __init__(self, *, one_line: bool) -> None:
        self.one_line = one_line

    def __call__(self, form, field) -> None:
        if not isinstance(field.data, str):
            return
        if not self.one_line:
            field.data = normalise_line_breaks(field.data)
        char = refused_character(field.data, one_line=self.one_line)
        if char is None:
            return
        if char == "\n":
            message = _l("Please write this on one line.")
        elif char in BIDI_CONTROLS:
            message = _l(
                "This text contains an invisible character that changes the writing direction "
                "(%(code)s). Please type it again without it.",
                code=describe(char),
            )
        else:
            message = _l(
                "This text contains an invisible control character (%(code)s), often pasted "
                "by mistake. Please type it again without it.",
                code=describe(char),
            )
        raise StopValidation(str(message))


def spreadsheet_cell(value: str) -> str:
    """``value`` without the characters a spreadsheet cell cannot hold (a second defence:
    the forms already refuse them, but older rows or imports may hold some)."""
    return _XLSX_ILLEGAL.sub("\ufffd", value)
