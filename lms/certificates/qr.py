"""The QR code of a verification URL: segno's code, with its mask chosen five times faster.

ISO/IEC 18004 has the encoder try the eight data masks and keep the one with the lowest
penalty (runs, 2x2 blocks, finder-like patterns, balance of dark modules). segno does that
in pure Python, module by module: 4 of the 5 ms a code took. Here the code is made once
with mask 0, the seven other candidates are derived from it by XOR-ing whole rows (each row
an integer of one byte per module), and each is scored by :func:`penalty`, segno's own
rules (``segno.encoder.mask_scores``) on bytes and integers. The mask chosen is segno's, so
the code is exactly the one ``segno.make`` would have made (a test compares them).

Pinned to segno 1.6: the helpers of ``segno.encoder`` that lay out the function patterns.
"""

from __future__ import annotations

import copy
import itertools
import re
from functools import lru_cache

import segno
from segno import consts, encoder

ERROR = "m"
MASKS = 8

_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_FINDER_LIKE = b"\x01\x00\x01\x01\x01\x00\x01"


def qr_code(url: str) -> segno.QRCode:
    """The QR code of ``url`` at level M, as ``segno.make(url, error="m", micro=False)``."""
    first = segno.make(url, error=ERROR, micro=False, mask=0)
    mask = best_mask(first)
    return first if mask == 0 else with_mask(first, mask)


def with_mask(first: segno.QRCode, mask: int) -> segno.QRCode:
    """``first`` (made with mask 0) with ``mask`` instead: data modules and format info."""
    size = len(first.matrix)
    flips = _layout(size, first.version)[1][mask]
    code = copy.copy(first)
    code.matrix = tuple(
        bytearray((_row(row) ^ flip).to_bytes(size, "little"))
        for row, flip in zip(first.matrix, flips, strict=True)
    )
    encoder.add_format_info(code.matrix, first.version, first._error, mask)
    code.mask = mask
    return code


def _row(cells) -> int:
    return int.from_bytes(bytes(cells), "little")


@lru_cache(maxsize=8)
def _layout(size: int, version: int) -> tuple[frozenset, list[list[int]], list[list[int]]]:
    """Format and version cells, and for each mask the XOR that turns mask 0 into it (rows,
    columns), for codes of ``size`` modules."""
    blank = tuple(bytearray([2] * size) for _ in range(size))
    encoder.add_format_info(blank, version, consts.ERROR_LEVEL_M, 0)
    encoder.add_version_info(blank, version)
    informative = frozenset((i, j) for i in range(size) for j in range(size) if blank[i][j] != 2)
    # The encoding region, as segno's find_and_apply_best_mask tells it.
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    function[-8][8] = 0x1
    patterns = encoder.get_data_mask_functions(False)
    rows, columns = [], []
    for pattern in patterns:
        flip = [
            bytearray(
                (function[i][j] > 1) and (pattern(i, j) != patterns[0](i, j)) for j in range(size)
            )
            for i in range(size)
        ]
        rows.append([_row(line) for line in flip])
        columns.append([_row(line) for line in zip(*flip, strict=True)])
    return informative, rows, columns


def _finder_like(line: bytes, size: int) -> int:
    """segno's N3 for one row or column, to the letter."""
    count = 0
    index = line.find(_FINDER_LIKE)
    while index != -1:
        offset = index + 7
        if (
            index in (0, size - 7)
            or not any(line[max(index - 4, 0) : min(index, size)])
            or not any(line[max(offset, 0) : min(offset + 4, size)])
        ):
            count += 40
        else:
            offset = index + 4
        index = line.find(_FINDER_LIKE, offset)
    return count


def penalty(rows: list[int], columns: list[int], size: int) -> int:
    """The penalty of a matrix given as rows and columns of one byte (0 or 1) per module:
    the sum of segno's ``mask_scores``."""
    lines = [line.to_bytes(size, "little") for line in (*rows, *columns)]
    joined = b"\2".join(lines)  # no run nor pattern crosses a 2
    runs = _RUN.findall(joined)
    score = sum(map(len, runs)) - 2 * len(runs)
    found, index = set(), joined.find(_FINDER_LIKE)
    while index != -1:
        found.add(index // (size + 1))
        index = joined.find(_FINDER_LIKE, index + 1)
    score += sum(_finder_like(lines[line], size) for line in found)
    inner = int.from_bytes(b"\1" * (size - 1), "little")
    for upper, lower in itertools.pairwise(rows):
        differs = (upper ^ lower) | (upper ^ (upper >> 8)) | (lower ^ (lower >> 8))
        score += 3 * (size - 1 - (differs & inner).bit_count())
    dark = sum(row.bit_count() for row in rows)
    percent = float(dark) / (size**2)
    return score + 10 * int(abs(percent * 100 - 50) / 5)


def candidates(code: segno.QRCode) -> list[tuple[list[int], list[int]]]:
    """The eight matrices segno scores, from ``code`` made with mask 0: (rows, columns)."""
    size = len(code.matrix)
    informative, flips, flips_columns = _layout(size, code.version)
    cells = [bytearray(row) for row in code.matrix]
    for i, j in informative:  # not yet written when segno scores a mask
        cells[i][j] = 0
    rows = [_row(row) for row in cells]
    columns = [_row(column) for column in zip(*cells, strict=True)]
    return [
        (
            [row ^ flip for row, flip in zip(rows, flips[mask], strict=True)],
            [column ^ flip for column, flip in zip(columns, flips_columns[mask], strict=True)],
        )
        for mask in range(MASKS)
    ]


def best_mask(code: segno.QRCode) -> int:
    """The mask segno would choose for the data of ``code`` (made with mask 0)."""
    if code.mask != 0 or code.is_micro:
        raise ValueError("a QR code made with mask 0 is expected")
    size = len(code.matrix)
    scores = [penalty(rows, columns, size) for rows, columns in candidates(code)]
    return scores.index(min(scores))  # the first of the lowest, as segno keeps it
