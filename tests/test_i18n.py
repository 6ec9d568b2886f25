"""Languages: complete catalogs, locale formatting, escaping of translated strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import flash, get_flashed_messages, render_template_string
from flask_babel import force_locale, format_datetime
from flask_babel import lazy_gettext as _l

TRANSLATIONS = Path(__file__).resolve().parents[1] / "lms" / "translations"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_catalog_is_complete(language):
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    missing = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert missing == []
    assert fuzzy == []
    assert template <= {m.id for m in catalog if m.id}, "run `make translations`"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_placeholders_survive_translation(language):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    import re

    for message in catalog:
        if not message.id or isinstance(message.id, tuple):
            continue
        assert sorted(re.findall(r"%\(\w+\)\w", message.id)) == sorted(
            re.findall(r"%\(\w+\)\w", message.string)
        ), message.id


# Arabic agrees verbs, adjectives and pronouns with a person's gender, and the data holds no
# gender: a sentence about a child (or a guardian) is built on a noun instead (تسجيل, غياب,
# مغادرة, مكان...), so that it reads right for Yasmine and for Adam. These are masculine forms
# the catalogue once used about the person a message names.
PERSON = re.compile(r"%\((?:name|child)\)s|\{child\}")
MASCULINE = (
    "مسجل", "غادر", "حصل", "يحتاج", "بلغ", "تغيّب", "سيتغيب", "أن يتغيب", "وحده", "أمره",
    "ميلاده", "مرحَّبًا به", "لم يعد %(name)s", "لم يعد {child}", "لم يُسجَّل", "سيلتحق",
    "قبل %(name)s", "أطفاله", "استلمه", "ملفه", "أصيب",
)  # fmt: skip
LETTER = "\u0600-\u06ff"
MASCULINE_WORD = re.compile(
    "|".join(rf"(?<![{LETTER}]){re.escape(word)}(?![{LETTER}])" for word in MASCULINE)
)
NEUTRAL_LABELS = {
    "Present": "حضور",
    "Late": "تأخر",
    "Absent": "غياب",
    "Excused": "غياب مبرر",
    "Left alone": "مغادرة دون مرافق",
}


def test_arabic_sentences_about_a_child_do_not_take_a_gender():
    with (TRANSLATIONS / "ar" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="ar")
    gendered = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in NEUTRAL_LABELS and not message.context:
            assert message.string == NEUTRAL_LABELS[message.id]
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        gendered += [
            (message.id, form)
            for form in forms
            if PERSON.search(form) and MASCULINE_WORD.search(form)
        ]
    assert gendered == []


def test_compiled_catalogs_exist():
    for language in ("fr", "ar", "en"):
        assert (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").exists(), (
            "make translations-compile"
        )


def test_times_are_shown_in_casablanca_including_ramadan(ctx):
    # Morocco is UTC+1 most of the year and UTC+0 during Ramadan (2026: about 15 Feb - 22 Mar).
    with force_locale("fr_MA"):
        assert format_datetime(datetime(2026, 1, 15, 14, 0, tzinfo=UTC), "HH:mm") == "15:00"
        assert format_datetime(datetime(2026, 3, 5, 14, 0, tzinfo=UTC), "HH:mm") == "14:00"
    with force_locale("ar_MA"):
        text = format_datetime(datetime(2026, 1, 15, 14, 0, tzinfo=UTC), "d MMMM y HH:mm")
        assert text == "15 يناير 2026 15:00"


def test_lazy_translations_with_user_data_are_escaped(app):
    with app.test_request_context():
        message = _l("Hello %(name)s", name="<script>x</script>")
        html = render_template_string("{{ m }}", m=message)
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        flash(message)
        again = render_template_string("{{ m }}", m=get_flashed_messages()[0])
        assert "<script>" not in again
