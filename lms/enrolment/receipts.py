"""Payment receipts as PDF (WeasyPrint), in the family's language.

``render_receipt`` is a pure function over a dict of plain values; the URL fetcher it gives
WeasyPrint serves the app's own static files and refuses everything else.
"""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from lms.enrolment.models import Payment, PaymentMethod
from lms.i18n import babel_locale_for, text_direction


class RefusedURL(ValueError):
    pass


def static_file(url: str) -> Path:
    """The file of the app's static folder that ``url`` names; RefusedURL for anything else."""
    static = Path(current_app.static_folder).resolve()
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"refused: {url}")
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(static) or not path.is_file():
        raise RefusedURL(f"refused: {url}")
    return path


@cache
def _fetcher_class():
    # WeasyPrint is imported when a PDF is made, not when the app starts.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesFetcher(URLFetcher):
        """Serves the app's static files (fonts, logo) and refuses every other URL."""

        def fetch(self, url, headers=None):
            path = static_file(url)
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), body=path.read_bytes(), headers={"Content-Type": kind}
            )

    return StaticFilesFetcher


def static_url_fetcher():
    """A WeasyPrint URL fetcher limited to the app's static folder."""
    return _fetcher_class()(allowed_protocols={"file"})


def receipt_data(payment: Payment, *, language: str | None = None) -> dict:
    """Everything a receipt shows, as plain values."""
    enrolment = payment.enrolment
    child = enrolment.child
    guardians = [g.user for g in child.guardianships if g.user is not None]
    if language is None:
        language = guardians[0].locale if guardians else "fr"
    cohort = enrolment.cohort
    return {
        "language": language,
        "receipt_number": payment.receipt_number,
        "paid_on": payment.paid_on,
        "amount_centimes": payment.amount_centimes,
        "method": payment.method,
        "reference": payment.reference,
        "child_name": child.full_name,
        "child_name_ar": child.full_name_ar,
        "payers": [guardian.full_name for guardian in guardians],
        "course_title": cohort.course.title(language),
        "group_start": cohort.start_date,
        "group_end": cohort.end_date,
        "fee_centimes": enrolment.fee_centimes,
        "discount_centimes": enrolment.discount_centimes,
        "waiver_centimes": enrolment.waiver_centimes,
        "paid_centimes": enrolment.paid_centimes,
        "balance_centimes": enrolment.balance_centimes,
        "recorded_by": payment.recorded_by.full_name if payment.recorded_by else None,
        "site": current_app.config["DEFAULT_SITE"],
        "lab": {
            "name": current_app.config["LAB_LEGAL_NAME"],
            "address": current_app.config["LAB_ADDRESS"],
            "ice": current_app.config["LAB_ICE"],
            "if": current_app.config["LAB_IF"],
            "rc": current_app.config["LAB_RC"],
        },
    }


def render_receipt(data: dict) -> bytes:
    """The receipt's PDF, written in ``data["language"]`` (right to left in Arabic)."""
    from weasyprint import HTML

    language = data["language"]
    with force_locale(babel_locale_for(language)):
        html = render_template(
            "enrolment/receipt.html",
            receipt=data,
            language=language,
            direction=text_direction(language),
            method_names=PaymentMethod.labels(),
        )
    static = Path(current_app.static_folder).resolve()
    return HTML(
        string=html, base_url=static.as_uri() + "/", url_fetcher=static_url_fetcher()
    ).write_pdf()


def receipt_pdf(payment: Payment, *, language: str | None = None) -> bytes:
    """A payment's receipt as PDF."""
    return render_receipt(receipt_data(payment, language=language))
