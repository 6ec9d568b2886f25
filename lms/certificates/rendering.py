"""Certificate PDFs: a pure function from plain values to bytes, with WeasyPrint.

Input is a mapping of plain values (no ORM object, no request, no app context):

    code                  "AL-7K3M-9QX2-HF4T" (canonical, see codes.py)
    verification_url      the public URL the QR code points to
    child_name            the child's name in Latin script
    child_name_ar         optional: the name in Arabic script, as the parent gave it
    course_title_fr       course title in French
    course_title_ar       course title in Arabic
    course_title_en       optional: in English (the French title is used when missing)
    track                 "coding", "robotics" or "3d_printing"
    lessons               number of lessons (int)
    hours                 number of hours (int, float, Decimal or numeric string)
    start_date, end_date  the cohort's dates (date or ISO "YYYY-MM-DD")
    issue_date            date of issue (date or ISO); also the PDF's creation date
    instructors           list of instructor names
    coordinator           the coordinator's name
    languages             optional: any of "fr", "ar", "en"; ("fr", "ar") by default

Same input, same bytes: nothing depends on the clock, the machine's fonts or hash seeds,
because a stored file that went missing is regenerated and compared by its SHA-256 (with
the same versions of WeasyPrint and of the fonts in lms/static/fonts).

Speed: most of the cost of a small document is parsing the stylesheet and loading the
fonts, done once per process here (``_Renderer``). Bulk issuing lays the whole cohort out in
one pass (``render_certificate_files``), shared between forked processes when the machine
has several CPUs, and writes each page as its own PDF. Writing page by page (rather than
splitting the finished PDF with pypdf) embeds in each file only the glyphs of its own page,
so a file from the bulk run is byte-identical to ``render_certificate`` of the same data:
the regeneration guarantee holds whichever way a file was first made.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import mimetypes
import threading
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import segno
from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal
from weasyprint import CSS, HTML
from weasyprint.document import DocumentMetadata
from weasyprint.images import SVGImage
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from lms.certificates import drawing, fontsubset, parallel, qr
from lms.certificates.codes import is_well_formed

PACKAGE = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE / "static"
TEMPLATE_DIR = PACKAGE / "templates" / "certificates"

TRACKS = ("coding", "robotics", "3d_printing")
LANGUAGES = ("fr", "en", "ar")  # column order, left to right
DEFAULT_LANGUAGES = ("fr", "ar")
# Babel locales for dates and numbers: Moroccan Arabic month names (ماي, يوليوز, غشت) and
# Western digits, as on Moroccan documents; British day-month order in English.
BABEL_LOCALES = {"fr": "fr_MA", "ar": "ar_MA", "en": "en_GB"}
ISSUER = "Active Labs — Technopark de Tanger"


REQUIRED_KEYS = (
    "code", "verification_url", "child_name", "course_title_fr", "course_title_ar", "track",
    "lessons", "hours", "start_date", "end_date", "issue_date", "instructors", "coordinator",
)  # fmt: skip


GENERATED = "generated:"  # the names of images made in memory for one rendering


class ResourceRefused(ValueError):
    """The certificate asked for something other than one of the app's own static files."""


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint URL fetcher that serves files under one folder and refuses anything else.

    Only ``file:`` URLs whose resolved path (symbolic links and ``..`` followed) is a file
    inside ``static_dir``; no network, no ``data:``, nothing else on disk. A refusal stops
    the rendering (``fail_on_errors``) instead of leaving a silent hole in the document.
    """

    def __init__(self, static_dir: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols=("file",), fail_on_errors=True)
        self.static_dir = Path(static_dir).resolve()
        # Images made for the document being rendered (QR codes), by their ``generated:``
        # names; set by the renderer around one rendering, under its lock.
        self.generated: dict[str, bytes] = {}

    def path_for(self, url: str) -> Path:
        """The file ``url`` names inside the static folder, or ResourceRefused."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            raise ResourceRefused(f"only the app's static files may be used: {url[:200]}")
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, ValueError, RuntimeError):
            raise ResourceRefused(f"no such static file: {url[:200]}") from None
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            raise ResourceRefused(f"outside the static folder: {url[:200]}")
        return path

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """Serve a static file or an image made for this rendering; refuse every other URL."""
        if url.startswith(GENERATED) and url in self.generated:
            kind = "image/svg+xml" if url.endswith(".svg") else "image/png"
            return URLFetcherResponse(url, self.generated[url], {"Content-Type": kind})
        path = self.path_for(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": content_type})


static_only_fetcher = StaticOnlyFetcher()


# --- Formatting helpers, used by the template ---------------------------------------------


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError("certificate dates are calendar dates, not datetimes")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _number(value: int | float | Decimal | str, language: str) -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        number = number.to_integral_value()
    return format_decimal(number, locale=BABEL_LOCALES[language])


def count(value: int | float | Decimal | str, language: str, **forms: str) -> str:
    """``value`` with its noun in the right plural form (CLDR categories: one, two, few...).

    Forms are templates with ``{n}``; a missing category falls back to ``other``.
    """
    category = Locale.parse(BABEL_LOCALES[language]).plural_form(Decimal(str(value)))
    form = forms.get(category, forms["other"])
    return form.replace("{n}", _number(value, language))


def long_date(value: dt.date, language: str, *, year: bool = True) -> str:
    """A date written out: "3 mars 2026", "3 مارس 2026", "3 March 2026" (or without year)."""
    locale = BABEL_LOCALES[language]
    if year:
        return format_date(value, "long", locale=locale)
    return format_skeleton("MMMMd", value, locale=locale)


def qr_code(url: str) -> segno.QRCode:
    """The QR code of ``url``: level M (15% may be damaged), raised when the version allows.

    M rather than Q keeps a 50-character URL at version 4 (33 modules), so each module is
    0.6 mm wide at 26 mm, easy for any phone; and the code is drawn on every certificate.
    Exactly ``segno.make(url, error="m", micro=False)``, its mask chosen faster (qr.py).
    """
    return qr.qr_code(url)


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG of one pixel per module, with its quiet zone of 4.

    Drawn at 26 mm without smoothing (``image-rendering: pixelated``), so it prints as sharp
    as a vector drawing; WeasyPrint drew the SVG path of the same code in 15 ms a page, the
    image costs nothing.
    """
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=1, border=4, dark="#1c2430", light="#ffffff")
    return buffer.getvalue()


# Sizes step down for long names and titles so that a certificate always fits on one page.
def _size_class(text: str, steps: tuple[int, ...]) -> str:
    for index, limit in enumerate(steps):
        if len(text) <= limit:
            return f"size-{index}"
    return f"size-{len(steps)}"


def _prepare(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check the input and derive what the template needs; ValueError on bad input."""
    missing = [key for key in REQUIRED_KEYS if data.get(key) in (None, "", [])]
    if missing:
        raise ValueError(f"certificate data lacks: {', '.join(sorted(missing))}")
    if not is_well_formed(data["code"]):
        raise ValueError(f"not a certificate code: {data['code']!r}")
    if data["track"] not in TRACKS:
        raise ValueError(f"unknown track: {data['track']!r}")
    languages = tuple(data.get("languages") or DEFAULT_LANGUAGES)
    if not languages or set(languages) - set(LANGUAGES):
        raise ValueError(f"languages must be among {LANGUAGES}: {languages!r}")
    start, end = _as_date(data["start_date"]), _as_date(data["end_date"])
    if end < start:
        raise ValueError("the end date is before the start date")
    instructors = [name for name in data["instructors"] if name]
    wide = len(languages) < 3  # two columns (or one) leave more room per line
    name_ar = data.get("child_name_ar") or None
    longest_name = max([data["child_name"], name_ar or ""], key=len)
    longest_title = max(
        [data["course_title_fr"], data["course_title_ar"], data.get("course_title_en") or ""],
        key=len,
    )
    return {
        **data,
        "child_name_ar": name_ar,
        "course_title_en": data.get("course_title_en") or data["course_title_fr"],
        "languages": [language for language in LANGUAGES if language in languages],
        "start_date": start,
        "end_date": end,
        "same_year": start.year == end.year,
        "issue_date": _as_date(data["issue_date"]),
        "instructors": instructors,
        **_signers(data, len(instructors)),
        "name_size": _size_class(longest_name, (17, 24, 34) if wide else (14, 20, 28)),
        "title_size": _size_class(longest_title, (40, 64, 90) if wide else (28, 44, 64)),
    }


def _signers(data: Mapping[str, Any], instructors: int) -> dict[str, Any]:
    """Which signature images the page shows: only those whose bytes came with the data."""
    images = dict(data.get("signature_images") or {})
    wanted = data.get("signatures") or {}
    shown = [name for name in wanted.get("instructors", [])[:instructors] if name in images]
    coordinator = wanted.get("coordinator")
    return {
        "signature_images": images,
        "instructor_signatures": shown,
        "coordinator_signature": coordinator if coordinator in images else None,
    }


def _metadata(certificates: Sequence[Mapping[str, Any]]) -> DocumentMetadata:
    """PDF metadata from the data only; the creation date is the issue date, not now."""
    first = certificates[0]
    issued = max(certificate["issue_date"] for certificate in certificates).isoformat()
    if len(certificates) == 1:
        title = f"Certificat {first['code']} — {first['child_name']}"
    else:
        title = f"Certificats Active Labs — {first['course_title_fr']} ({len(certificates)})"
    return DocumentMetadata(
        title=title,
        authors=[ISSUER],
        description=first["course_title_fr"],
        keywords=[certificate["code"] for certificate in certificates],
        generator="Active Labs LMS",
        created=issued,
        modified=issued,
        lang="fr",
    )


# --- The renderer: parsed once per process -------------------------------------------------


class _Renderer:
    """Template, stylesheet and fonts, loaded once: parsing the CSS and registering the
    @font-face fonts is most of the cost of a small document."""

    def __init__(self, static_dir: Path) -> None:
        self.fetcher = StaticOnlyFetcher(static_dir)
        self.base_url = self.fetcher.static_dir.as_uri() + "/"
        self.font_config = FontConfiguration()
        fontsubset.register_fonts(self.fetcher.static_dir / "fonts")
        fontsubset.install()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(count=count, long_date=long_date)
        self.template = self.env.get_template("document.html")
        self.stylesheet = CSS(
            string=(TEMPLATE_DIR / "document.css").read_text(encoding="utf-8"),
            base_url=self.base_url,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )
        # The three track backgrounds, parsed once; a fixed set, so the cache stays small.
        self.image_cache: dict = {}
        # Pango and the shared font configuration are not safe to use from several threads.
        self.lock = threading.Lock()

    def layout(self, certificates: list[dict[str, Any]]):
        """The laid-out document, one page per certificate (QR codes made here, in shares)."""
        self.fetcher.generated = {
            f"{GENERATED}qr/{c['code']}.png": qr_png(c["verification_url"]) for c in certificates
        }
        for c in certificates:
            for name, image in c["signature_images"].items():
                self.fetcher.generated[f"{GENERATED}signatures/{name}"] = image
        html = self.template.render(certificates=certificates, generated=GENERATED)
        # The track backgrounds stay parsed across renderings; each QR code is used once.
        cache = dict(self.image_cache)
        try:
            document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
                stylesheets=[self.stylesheet], font_config=self.font_config, cache=cache
            )
        finally:
            self.fetcher.generated = {}
        for url, image in cache.items():
            if url.startswith(self.base_url) and url not in self.image_cache:
                if isinstance(image, SVGImage):
                    image = drawing.replay(image)  # drawn once, copied on every page
                self.image_cache[url] = image
        if len(document.pages) != len(certificates):
            raise RuntimeError(
                f"{len(certificates)} certificates laid out on {len(document.pages)} pages"
            )
        return document

    def files(self, certificates: list[dict[str, Any]]) -> list[bytes]:
        """Lay the certificates out together, then write each page as its own PDF.

        Writing page by page embeds only the glyphs of that page, so a file never depends
        on which other certificates shared its layout pass.
        """
        document = self.layout(certificates)
        files = []
        for page, certificate in zip(document.pages, certificates, strict=True):
            single = document.copy([page])
            single.metadata = _metadata([certificate])
            files.append(single.write_pdf(pdf_identifier=certificate["code"].encode("ascii")))
        return files


# WeasyPrint copies the @font-face files into a temporary folder; a long-running server
# builds a fresh renderer now and then, in case something cleans old files out of /tmp.
RENDERER_MAX_AGE = 6 * 3600  # seconds
_renderers: dict[Path, tuple[_Renderer, float]] = {}
_renderers_lock = threading.Lock()


def _renderer(static_dir: Path) -> _Renderer:
    """This process's renderer for ``static_dir``, built on first use."""
    with _renderers_lock:
        renderer, built = _renderers.get(static_dir, (None, 0.0))
        if renderer is None or time.monotonic() - built > RENDERER_MAX_AGE:
            renderer = _Renderer(static_dir)
            _renderers[static_dir] = (renderer, time.monotonic())
        return renderer


# WeasyPrint makes about 4,000 objects per certificate, many in reference cycles; with
# Python's default threshold (a young collection every 700 allocations, a full one every 100)
# the collector scanned the whole heap of the process some 25 times per cohort: 10-20% of the
# time. While rendering, young objects are collected every 100,000 allocations instead.
GC_YOUNG_THRESHOLD = 100_000
_collections = {"renderings": 0, "thresholds": gc.get_threshold()}
_collections_lock = threading.Lock()


@contextlib.contextmanager
def _rarer_collections():
    """Python's cyclic collector runs rarely inside the block (thresholds restored after the
    last of the renderings that overlap, in threads rendering for other static folders)."""
    with _collections_lock:
        if not _collections["renderings"]:
            _collections["thresholds"] = thresholds = gc.get_threshold()
            gc.set_threshold(max(thresholds[0], GC_YOUNG_THRESHOLD), *thresholds[1:])
        _collections["renderings"] += 1
    try:
        yield
    finally:
        with _collections_lock:
            _collections["renderings"] -= 1
            if not _collections["renderings"]:
                gc.set_threshold(*_collections["thresholds"])


def render_certificate_files(
    certificates: Sequence[Mapping[str, Any]],
    *,
    static_dir: Path = STATIC_DIR,
    processes: int | None = None,
) -> list[bytes]:
    """One PDF per certificate, in order, each byte-identical to ``render_certificate``.

    The certificates are laid out in one pass and each page is written as its own PDF.
    ``processes`` > 1 shares them between forked copies of this process (see parallel.py);
    None lets parallel.automatic_processes choose. The files never depend on the sharing.
    """
    if not certificates:
        return []
    prepared = [_prepare(data) for data in certificates]
    renderer = _renderer(Path(static_dir))
    if processes is None:
        processes = parallel.automatic_processes(len(prepared))
    with renderer.lock, _rarer_collections():
        return parallel.map_shares(renderer.files, prepared, processes)


def render_certificate(data: Mapping[str, Any], *, static_dir: Path = STATIC_DIR) -> bytes:
    """The PDF of one certificate (A4 landscape, one page)."""
    return render_certificate_files([data], static_dir=static_dir)[0]


def render_certificates(
    certificates: Sequence[Mapping[str, Any]], *, static_dir: Path = STATIC_DIR
) -> bytes:
    """All certificates in one PDF, one page each (to print a whole cohort at once)."""
    if not certificates:
        raise ValueError("no certificates to render")
    prepared = [_prepare(data) for data in certificates]
    renderer = _renderer(Path(static_dir))
    with renderer.lock, _rarer_collections():
        document = renderer.layout(prepared)
        document.metadata = _metadata(prepared)
        return document.write_pdf()
