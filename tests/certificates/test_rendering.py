"""Certificate PDFs: content, Arabic text, QR code, determinism, one pass for many."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import time_machine
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from lms.certificates import rendering
from lms.certificates.rendering import (
    STATIC_DIR,
    count,
    long_date,
    qr_code,
    render_certificate,
    render_certificate_files,
    render_certificates,
)

from .conftest import certificate_data

A4_LANDSCAPE = (841.89, 595.28)  # points
PDFTOPPM = shutil.which("pdftoppm")

# Arabic diacritics (harakat, shadda, superscript alef) and the tatweel.
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")


def pdf_pages(pdf: bytes) -> list:
    return PdfReader(io.BytesIO(pdf)).pages


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pdf_pages(pdf))


def fold_arabic(text: str) -> str:
    """Presentation forms to letters (NFKC), diacritics and tatweel removed."""
    return _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", text))


def assert_arabic_words_in(text: str, phrase: str) -> None:
    """Each word of ``phrase`` is in ``text``, in logical or in visual (reversed) order.

    A PDF stores glyphs in visual order, left to right. pypdf puts right-to-left runs back in
    logical order, but a run mixed with digits or Latin can come out partly in visual order;
    and the marks of a shaped word may be attached to a neighbouring glyph. So each word is
    compared on its own, either way round, after folding presentation forms and diacritics.
    The letters themselves must be the right Arabic characters: a missing font would give
    nothing or U+FFFD, a wrong encoding other code points.
    """
    folded = fold_arabic(text)
    for word in fold_arabic(phrase).split():
        assert word in folded or word[::-1] in folded, (word, folded)


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Base font names of the page's fonts, with whether the font program is embedded."""
    fonts = {}
    for page in pdf_pages(pdf):
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descriptor
    return fonts


# --- Content ---------------------------------------------------------------------------------


def test_one_a4_landscape_page():
    pages = pdf_pages(render_certificate(certificate_data()))
    assert len(pages) == 1
    width, height = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert (width, height) == pytest.approx(A4_LANDSCAPE, abs=0.1)


def test_pdf_contains_the_code_both_names_and_the_course():
    data = certificate_data()
    text = pdf_text(render_certificate(data))
    assert data["code"] in text
    assert "Yasmine El Amrani" in text
    assert_arabic_words_in(text, "ياسمين العمراني")
    assert "Robotique LEGO — niveau 1" in text
    assert_arabic_words_in(text, "روبوتيك ليغو المستوى")
    assert "Certificat de réussite" in text
    assert "Active Labs" in text
    assert "Technopark de Tanger" in text
    assert "12 séances" in text
    assert "du 3 mars au 26 mai 2026" in text
    assert "Karim Bennani, Salma Idrissi" in text
    assert "Nadia Tazi" in text
    assert data["verification_url"] in text


def test_arabic_column_text_comes_out_as_arabic_letters():
    text = pdf_text(render_certificate(certificate_data()))
    assert_arabic_words_in(text, "شهادة إتمام")
    assert_arabic_words_in(text, "تُمنح هذه الشهادة")
    assert_arabic_words_in(text, "مسار الروبوتيك")
    assert_arabic_words_in(text, "حصة ساعة مارس ماي")
    assert_arabic_words_in(text, "تكنوبارك طنجة")
    assert "\ufffd" not in text


def test_without_an_arabic_name_the_arabic_column_shows_the_latin_name():
    text = pdf_text(render_certificate(certificate_data(child_name_ar=None)))
    assert text.count("Yasmine El Amrani") == 2  # French column and Arabic column
    assert "ياسمين" not in fold_arabic(text)


def test_english_only_when_the_certificate_asks_for_it():
    default = pdf_text(render_certificate(certificate_data()))
    assert "Certificate of Completion" not in default
    english = pdf_text(render_certificate(certificate_data(languages=("fr", "ar", "en"))))
    assert "Certificate of Completion" in english
    assert "LEGO Robotics — level 1" in english
    assert "12 lessons" in english
    assert "Certificat de réussite" in english
    assert_arabic_words_in(english, "شهادة إتمام")


def test_english_title_falls_back_to_the_french_one():
    data = certificate_data(course_title_en=None, languages=("fr", "en"))
    text = pdf_text(render_certificate(data))
    assert text.count("Robotique LEGO — niveau 1") == 2
    assert "شهادة" not in text


@pytest.mark.parametrize("track", ["coding", "robotics", "3d_printing"])
def test_every_track_renders(track):
    text = pdf_text(render_certificate(certificate_data(track=track)))
    label = {"coding": "Programmation", "robotics": "Robotique", "3d_printing": "Impression 3D"}
    assert f"Parcours {label[track]}" in text


def test_long_names_and_titles_still_fit_on_one_page():
    data = certificate_data(
        child_name="Anne-Sophie Marie-Christine de La Tour d’Auvergne-Lauraguais",
        child_name_ar="عبد الرحمن بن محمد بن عبد الله الإدريسي الحسني العلمي",
        course_title_fr="Programmation de robots autonomes avec capteurs, moteurs et "
        "intelligence artificielle embarquée — niveau avancé",
        course_title_ar="برمجة الروبوتات المستقلة باستعمال أجهزة الاستشعار والمحركات "
        "والذكاء الاصطناعي المدمج — المستوى المتقدم",
        instructors=["Karim Bennani", "Salma Idrissi", "Youssef Alaoui"],
        languages=("fr", "ar", "en"),
    )
    assert len(pdf_pages(render_certificate(data))) == 1


def test_fonts_are_our_own_and_embedded():
    fonts = embedded_fonts(render_certificate(certificate_data(languages=("fr", "ar", "en"))))
    assert fonts
    assert all(embedded for embedded in fonts.values())
    # Subset prefix, then the family names of document.css: never a system font.
    names = {name.split("+", 1)[1] for name in fonts}
    assert names <= {
        "AL-Amiri-Bold",
        "AL-Sans",
        "AL-Sans-Bold",
        "AL-Sans-Arabic",
        "AL-Sans-Arabic-Bold",
    }
    assert {"AL-Amiri-Bold", "AL-Sans-Arabic"} <= names


def test_font_files_are_licensed_and_light():
    fonts = STATIC_DIR / "fonts"
    files = sorted(fonts.glob("*.ttf"))
    assert len(files) == 5
    assert sum(path.stat().st_size for path in files) < 1.5 * 1024 * 1024
    for licence in ("Amiri-OFL.txt", "Noto-OFL.txt"):
        assert "SIL OPEN FONT LICENSE Version 1.1" in (fonts / licence).read_text()


def test_metadata_comes_from_the_data():
    data = certificate_data()
    metadata = PdfReader(io.BytesIO(render_certificate(data))).metadata
    assert metadata["/CreationDate"] == "D:20260530"
    assert metadata["/ModDate"] == "D:20260530"
    assert metadata["/Title"] == f"Certificat {data['code']} — Yasmine El Amrani"
    assert metadata["/Keywords"] == data["code"]


# --- QR code ---------------------------------------------------------------------------------


def decode(image: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def test_qr_code_encodes_the_verification_url():
    url = certificate_data()["verification_url"]
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=6)
    assert decode(Image.open(buffer)) == [url]
    assert qr_code(url).version <= 4  # modules of 0.6 mm or more at 26 mm


@pytest.mark.skipif(
    PDFTOPPM is None,
    reason="pdftoppm (Debian package poppler-utils) is needed to rasterise the PDF",
)
def test_qr_code_in_the_pdf_decodes_to_the_verification_url(tmp_path):
    data = certificate_data()
    (tmp_path / "certificate.pdf").write_bytes(render_certificate(data))
    subprocess.run(  # noqa: S603 - fixed arguments
        [PDFTOPPM, "-png", "-r", "150", "-singlefile", "certificate.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    assert decode(Image.open(tmp_path / "page.png")) == [data["verification_url"]]


# --- Determinism -----------------------------------------------------------------------------


def test_same_data_gives_the_same_bytes():
    data = certificate_data()
    assert render_certificate(data) == render_certificate(dict(data))


def test_the_clock_does_not_matter():
    data = certificate_data()
    first = render_certificate(data)
    with time_machine.travel(dt.datetime(2031, 7, 1, 12, tzinfo=dt.UTC), tick=False):
        assert render_certificate(data) == first


def test_dates_may_be_given_as_iso_strings():
    data = certificate_data()
    as_strings = {
        **data,
        **{key: data[key].isoformat() for key in ("start_date", "end_date", "issue_date")},
    }
    assert render_certificate(as_strings) == render_certificate(data)


def test_another_process_with_another_hash_seed_gives_the_same_bytes():
    data = certificate_data()
    stored = {
        **data,
        **{key: data[key].isoformat() for key in ("start_date", "end_date", "issue_date")},
    }
    script = (
        "import hashlib, json, sys\n"
        "from lms.certificates.rendering import render_certificate\n"
        "print(hashlib.sha256(render_certificate(json.loads(sys.stdin.read()))).hexdigest())\n"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script],
        input=json.dumps(stored),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == hashlib.sha256(render_certificate(data)).hexdigest()


def test_a_fresh_renderer_gives_the_same_bytes(monkeypatch):
    data = certificate_data()
    first = render_certificate(data)
    renderer = rendering._renderer(rendering.STATIC_DIR)
    monkeypatch.setattr(rendering, "RENDERER_MAX_AGE", -1)
    assert render_certificate(data) == first
    assert rendering._renderer(rendering.STATIC_DIR) is not renderer


def test_different_data_gives_different_bytes():
    data = certificate_data()
    assert render_certificate(data) != render_certificate({**data, "child_name": "Yasmina"})


# --- Many certificates in one pass ------------------------------------------------------------

NAMES = [
    ("Yasmine El Amrani", "ياسمين العمراني"),
    ("Adam Benjelloun", "آدم بنجلون"),
    ("Lina Chraibi", None),
    ("Zoé Lefèvre", None),
    ("Omar Tazi", "عمر التازي"),
]


def cohort() -> list[dict]:
    return [certificate_data(child_name=latin, child_name_ar=arabic) for latin, arabic in NAMES]


def test_one_pass_gives_one_pdf_per_child_with_its_own_name():
    certificates = cohort()
    files = render_certificate_files(certificates)
    assert len(files) == len(certificates)
    for pdf, data in zip(files, certificates, strict=True):
        assert len(pdf_pages(pdf)) == 1
        text = pdf_text(pdf)
        assert data["code"] in text
        assert data["child_name"] in text
        if data["child_name_ar"]:
            assert_arabic_words_in(text, data["child_name_ar"])
        others = [other for other in certificates if other is not data]
        assert not any(other["child_name"] in text for other in others)
        assert not any(other["code"] in text for other in others)


def test_a_file_from_the_bulk_pass_is_identical_to_rendering_it_alone():
    # What makes a missing stored file regenerable byte for byte, whichever way it was made.
    certificates = cohort()
    files = render_certificate_files(certificates)
    for pdf, data in zip(files, certificates, strict=True):
        assert pdf == render_certificate(data)


def test_sharing_a_cohort_between_processes_gives_the_same_files():
    certificates = cohort() + cohort()
    in_one_process = render_certificate_files(certificates, processes=1)
    assert render_certificate_files(certificates, processes=2) == in_one_process


def test_a_failure_in_a_child_process_is_raised(monkeypatch):
    parent = os.getpid()
    files = rendering._Renderer.files

    def fail_in_child(self, certificates):
        if os.getpid() != parent:
            raise MemoryError("out of memory")
        return files(self, certificates)

    monkeypatch.setattr(rendering._Renderer, "files", fail_in_child)
    with pytest.raises(MemoryError, match="out of memory"):
        render_certificate_files(cohort() + cohort(), processes=2)


def test_all_certificates_in_one_document():
    certificates = cohort()
    pdf = render_certificates(certificates)
    pages = pdf_pages(pdf)
    assert len(pages) == len(certificates)
    for page, data in zip(pages, certificates, strict=True):
        assert data["child_name"] in page.extract_text()
    assert render_certificates(certificates) == pdf


def test_nothing_to_render():
    assert render_certificate_files([]) == []
    with pytest.raises(ValueError, match="no certificates"):
        render_certificates([])


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"child_name": ""}, "lacks: child_name"),
        ({"instructors": []}, "lacks: instructors"),
        ({"code": "AL-0000-0000-0001"}, "not a certificate code"),
        ({"track": "cooking"}, "unknown track"),
        ({"languages": ("fr", "de")}, "languages must be among"),
        ({"end_date": dt.date(2026, 1, 1)}, "end date is before"),
    ],
)
def test_bad_data_is_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        render_certificate(certificate_data(**overrides))


def test_datetimes_are_not_dates():
    with pytest.raises(TypeError, match="calendar dates"):
        render_certificate(certificate_data(issue_date=dt.datetime(2026, 5, 30, tzinfo=dt.UTC)))


# --- Wording helpers -------------------------------------------------------------------------

ARABIC_LESSONS = {"one": "حصة واحدة", "two": "حصتان", "few": "{n} حصص", "other": "{n} حصة"}


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "حصة واحدة"),
        (2, "حصتان"),
        (3, "3 حصص"),
        (10, "10 حصص"),
        (11, "11 حصة"),
        (24, "24 حصة"),
        (100, "100 حصة"),
        (103, "103 حصص"),
    ],
)
def test_arabic_counts_agree_with_the_number(number, expected):
    assert count(number, "ar", **ARABIC_LESSONS) == expected


@pytest.mark.parametrize(
    ("number", "language", "expected"),
    [
        (1, "fr", "1 heure"),
        (1.5, "fr", "1,5 heure"),
        (22.5, "fr", "22,5 heures"),
        ("24.0", "fr", "24 heures"),
        (1, "en", "1 hour"),
        (22.5, "en", "22.5 hours"),
    ],
)
def test_french_and_english_counts(number, language, expected):
    forms = {"fr": ("{n} heure", "{n} heures"), "en": ("{n} hour", "{n} hours")}[language]
    assert count(number, language, one=forms[0], other=forms[1]) == expected


def test_dates_in_each_language():
    day = dt.date(2026, 8, 5)
    assert long_date(day, "fr") == "5 août 2026"
    assert long_date(day, "en") == "5 August 2026"
    assert long_date(day, "ar") == "5 غشت 2026"  # Moroccan month name, Western digits
    assert long_date(day, "fr", year=False) == "5 août"
