"""Payment receipts and credit notes as PDF (WeasyPrint), in the family's language.

``render_receipt`` and ``render_credit_note`` are pure functions over a dict of plain values;
the URL fetcher they give WeasyPrint serves the app's own static files and refuses everything else.
"""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from lms.courses.terms import term_of
from lms.enrolment.models import CreditNote, Payment, PaymentMethod
from lms.enrolment.transfers import transfer_reference
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


def _lab() -> dict:
    config = current_app.config
    return {
        "name": config["LAB_LEGAL_NAME"],
        "address": config["LAB_ADDRESS"],
        "ice": config["LAB_ICE"],
        "if": config["LAB_IF"],
        "rc": config["LAB_RC"],
        "bank": config["LAB_BANK_NAME"],
        "rib": config["LAB_RIB"],
        "holder": config["LAB_ACCOUNT_HOLDER"],
    }


def receipt_data(payment: Payment, *, language: str | None = None) -> dict:
    """Everything a receipt shows, as plain values."""
    enrolment = payment.enrolment
    child = enrolment.child
    guardians = [g.user for g in child.guardianships if g.user is not None]
    if language is None:
        language = guardians[0].locale if guardians else "fr"
    cohort = enrolment.cohort
    term = term_of(cohort.start_date)
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
        # Each parent's reference for the group's term, to write on a transfer of the rest.
        "transfer_references": [
            (guardian.full_name, transfer_reference(guardian.id, term)) for guardian in guardians
        ],
        "course_title": cohort.course.title(language),
        "group_start": cohort.start_date,
        "group_end": cohort.end_date,
        "fee_centimes": enrolment.fee_centimes,
        "discount_centimes": enrolment.discount_centimes,
        "waiver_centimes": enrolment.waiver_centimes,
        "paid_centimes": enrolment.paid_centimes,
        "refunded_centimes": payment.refunded_centimes,
        "balance_centimes": enrolment.balance_centimes,
        "recorded_by": payment.recorded_by.full_name if payment.recorded_by else None,
        "site": current_app.config["DEFAULT_SITE"],
        "lab": _lab(),
    }


def credit_note_data(note: CreditNote, *, language: str | None = None) -> dict:
    """Everything a credit note shows, as plain values: the note and the payment it credits."""
    payment = note.payment
    data = receipt_data(payment, language=language)
    data.update(
        credit_note_number=note.number,
        issued_on=note.issued_on,
        credit_centimes=note.amount_centimes,
        reason=note.reason,
        issued_by=note.created_by.full_name if note.created_by else None,
        payment_amount_centimes=payment.amount_centimes,
    )
    return data


def _pdf(template: str, data: dict) -> bytes:
    from weasyprint import HTML

    language = data["language"]
    with force_locale(babel_locale_for(language)):
        html = render_template(
            template,
            receipt=data,
            language=language,
            direction=text_direction(language),
            method_names=PaymentMethod.labels(),
        )
    static = Path(current_app.static_folder).resolve()
    return HTML(
        string=html, base_url=static.as_uri() + "/", url_fetcher=static_url_fetcher()
    ).write_pdf()


def render_receipt(data: dict) -> bytes:
    """The receipt's PDF, written in ``data["language"]`` (right to left in Arabic)."""
    return _pdf("enrolment/receipt.html", data)


def render_credit_note(data: dict) -> bytes:
    """The credit note's PDF, written in ``data["language"]``."""
    return _pdf("enrolment/credit_note.html", data)


def receipt_pdf(payment: Payment, *, language: str | None = None) -> bytes:
    """A payment's receipt as PDF."""
    return render_receipt(receipt_data(payment, language=language))


def credit_note_pdf(note: CreditNote, *, language: str | None = None) -> bytes:
    """A credit note as PDF."""
    return render_credit_note(credit_note_data(note, language=language))
