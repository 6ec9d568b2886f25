"""Reading bank statements: CSV exports (with a bank's column mapping) and ISO 20022 camt.053
XML, into plain credits; debits, reversals and other currencies are left out."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from lms.enrolment.models import BankCsvMapping
from lms.errors import DomainError


@dataclass(frozen=True)
class Credit:
    """A credit read from a statement, before it is stored."""

    booked_on: date
    amount_centimes: int
    text: str
    payer_name: str | None = None
    bank_reference: str | None = None


class StatementError(DomainError):
    pass


MAX_FILE_BYTES = 5 * 1024 * 1024


def parse_amount(text: str) -> int | None:
    """Centimes of an amount as banks write it ("1 600,00", "1.600,00", "1600.00", "-25")."""
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text or "").replace("MAD", "").replace("DH", "")
    if "," in cleaned and "." in cleaned:
        decimal_mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        cleaned = cleaned.replace("." if decimal_mark == "," else ",", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _dialect(text: str):
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=";,\t|")
    except csv.Error:
        return csv.excel


def read_csv(data: bytes, mapping: BankCsvMapping) -> list[Credit]:
    """The credits of a CSV statement read with a bank's column mapping (debits are left out)."""
    text = _decode(data)
    rows = csv.DictReader(io.StringIO(text), dialect=_dialect(text))
    rows.fieldnames = [name.strip() for name in rows.fieldnames or []]
    wanted = [mapping.date_column, mapping.amount_column, mapping.text_column]
    wanted += [c for c in (mapping.name_column, mapping.reference_column) if c]
    missing = [name for name in wanted if name not in rows.fieldnames]
    if missing:
        raise StatementError(
            _l("The file has no column named %(names)s.", names=", ".join(missing)), field="file"
        )
    credits, problems = [], []
    for number, row in enumerate(rows, start=2):
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue
        amount = parse_amount(row.get(mapping.amount_column) or "")
        try:
            # A calendar day, not an instant: no zone to attach.
            booked_on = datetime.strptime(  # noqa: DTZ007
                (row.get(mapping.date_column) or "").strip(), mapping.date_format
            ).date()
        except ValueError:
            booked_on = None
        if amount is None or booked_on is None:
            problems.append(str(number))
            continue
        if amount <= 0:
            continue
        credits.append(
            Credit(
                booked_on=booked_on,
                amount_centimes=amount,
                text=(row.get(mapping.text_column) or "").strip(),
                payer_name=_cell(row, mapping.name_column),
                bank_reference=_cell(row, mapping.reference_column),
            )
        )
    if problems:
        raise StatementError(
            _l(
                "These lines have a date or an amount that cannot be read: %(lines)s. "
                "Check the date format and the columns. Nothing was imported.",
                lines=", ".join(problems[:10]) + ("…" if len(problems) > 10 else ""),
            ),
            field="file",
        )
    return credits


def _cell(row: dict, column: str | None) -> str | None:
    return ((row.get(column) or "").strip() or None) if column else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element, *path: str):
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _text(element, *path: str) -> str | None:
    found = _child(element, *path)
    return found.text.strip() if found is not None and found.text else None


def _children(element, name: str) -> list:
    return [c for c in element if _local(c.tag) == name] if element is not None else []


def read_camt053(data: bytes) -> list[Credit]:
    """The credits in dirhams of an ISO 20022 camt.053 statement (any version of the schema)."""
    if b"<!DOCTYPE" in data[:2048].upper() or b"<!ENTITY" in data.upper():
        raise StatementError(_l("This file is not a camt.053 statement."), field="file")
    try:
        # Documents declaring entities were refused above, so expansion attacks cannot
        # happen; the standard library's parser is enough for the rest.
        root = ElementTree.fromstring(data)  # noqa: S314
    except ElementTree.ParseError:
        raise StatementError(_l("This file is not a camt.053 statement."), field="file") from None
    if _local(root.tag) != "Document" or _child(root, "BkToCstmrStmt") is None:
        raise StatementError(_l("This file is not a camt.053 statement."), field="file")
    credits = []
    for statement in _children(_child(root, "BkToCstmrStmt"), "Stmt"):
        for entry in _children(statement, "Ntry"):
            if _text(entry, "CdtDbtInd") != "CRDT" or _text(entry, "RvslInd") == "true":
                continue
            booked = _text(entry, "BookgDt", "Dt") or (_text(entry, "BookgDt", "DtTm") or "")[:10]
            try:
                booked_on = date.fromisoformat(booked)
            except ValueError:
                raise StatementError(
                    _l("An entry of the statement has no booking date."), field="file"
                ) from None
            details = [
                tx for d in _children(entry, "NtryDtls") for tx in _children(d, "TxDtls")
            ] or [None]
            for tx in details:
                credit = _camt_credit(entry, tx, booked_on, several=len(details) > 1)
                if credit is not None:
                    credits.append(credit)
    return credits


def _camt_credit(entry, tx, booked_on: date, *, several: bool) -> Credit | None:
    amount_element = _child(tx, "Amt") if several and tx is not None else None
    if amount_element is None:
        amount_element = _child(entry, "Amt")
    if amount_element is None or amount_element.get("Ccy", "MAD") != "MAD":
        return None
    amount = parse_amount(amount_element.text or "")
    if amount is None or amount <= 0:
        return None
    texts = (
        [t.text.strip() for t in _children(_child(tx, "RmtInf"), "Ustrd") if t.text]
        if (tx is not None)
        else []
    )
    texts.append(_text(entry, "AddtlNtryInf") or "")
    name = None
    if tx is not None:
        name = _text(tx, "RltdPties", "Dbtr", "Nm") or _text(tx, "RltdPties", "Dbtr", "Pty", "Nm")
    reference = (
        (_text(tx, "Refs", "AcctSvcrRef") if tx is not None else None)
        or _text(entry, "AcctSvcrRef")
        or (_text(tx, "Refs", "EndToEndId") if tx is not None else None)
    )
    return Credit(
        booked_on=booked_on,
        amount_centimes=amount,
        text=" ".join(t for t in texts if t)[:500],
        payer_name=name,
        bank_reference=reference,
    )
