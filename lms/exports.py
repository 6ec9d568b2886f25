"""Spreadsheet files for every domain: CSV (UTF-8 with a BOM, for Excel) and XLSX (openpyxl).

A table is a list of rows of plain values, the header first. Text that a family typed (a
child's name) may start like a formula: it is written as text, never run by a spreadsheet; a
character no cell can hold (a control character stored before the forms refused them) is
written as U+FFFD, so that any stored text gives a file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from lms.text import spreadsheet_cell

# A cell that starts like a formula is written as text: a name is what a parent typed.
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def safe_text(value) -> str:
    """``value`` as text that no spreadsheet takes for a formula."""
    value = "" if value is None else str(value)
    return "'" + value if _FORMULA_START.match(value) else value


def safe_row(values: Iterable) -> list:
    """Numbers stay numbers; everything else becomes safe text."""
    return [
        value
        if isinstance(value, int | float) and not isinstance(value, bool)
        else safe_text(value)
        for value in values
    ]


def csv_delimiter(language: str) -> str:
    """The semicolon is what Excel expects where the decimal separator is a comma (fr, ar)."""
    return "," if language == "en" else ";"


def csv_bytes(rows: Iterable[Sequence], *, delimiter: str = ";") -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads Arabic names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def sheet_title(text: str, default: str = "Export") -> str:
    """A worksheet name Excel accepts (31 characters, none of []:*?/\\)."""
    cleaned = spreadsheet_cell(str(text)).replace("\ufffd", " ")
    return re.sub(r"[\[\]:*?/\\]", " ", cleaned)[:31].strip() or default


def xlsx_bytes(
    rows: Iterable[Sequence],
    *,
    title: str,
    right_to_left: bool = False,
    freeze: str = "A2",
    widths: dict[str, int] | None = None,
) -> bytes:
    """An Excel workbook of one sheet: a bold header row, text kept as text."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(title)
    sheet.sheet_view.rightToLeft = right_to_left
    for values in rows:
        sheet.append([spreadsheet_cell(v) if isinstance(v, str) else v for v in values])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Text stays text: openpyxl would take a leading "=" for a formula.
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    sheet.freeze_panes = freeze
    for column, width in (widths or {}).items():
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def spreadsheet(
    rows: Sequence[Sequence], *, fmt: str, language: str, title: str, **xlsx_options
) -> tuple[bytes, str]:
    """The table as ``fmt`` ("csv" or "xlsx") for a reader of ``language``: (bytes, mimetype)."""
    if fmt == "csv":
        return csv_bytes(rows, delimiter=csv_delimiter(language)), CSV_MIMETYPE
    if fmt == "xlsx":
        content = xlsx_bytes(rows, title=title, right_to_left=language == "ar", **xlsx_options)
        return content, XLSX_MIMETYPE
    raise ValueError(f"unknown format {fmt!r}")


def download(content: bytes, mimetype: str, filename: str) -> Response:
    """A file the browser saves rather than shows."""
    return Response(
        content,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def record_export(kind: str, *, actor, fmt: str, rows: int, subject=None, **filters) -> None:
    """Write ``export.<kind>`` to the audit log: who, which file, which filter, how many rows."""
    from lms.audit.services import record

    record(
        f"export.{kind}",
        actor=actor,
        subject=subject,
        format=fmt,
        rows=rows,
        **{name: value for name, value in filters.items() if value is not None},
    )
