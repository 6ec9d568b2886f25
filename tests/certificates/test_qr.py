"""The QR codes of the certificates: segno's own, with the mask chosen faster."""

from __future__ import annotations

import io
import random
import string

import pytest
import segno
import zxingcpp
from PIL import Image
from segno import encoder

from lms.certificates import qr

ALPHABET = string.ascii_uppercase + string.digits + "-"


def urls(count: int, seed: int = 7) -> list[str]:
    """Verification URLs and longer ones, up to QR versions with version information (7+)."""
    rng = random.Random(seed)
    return [
        "https://lms.activelabs.ma/verify/"
        + "".join(rng.choice(ALPHABET) for _ in range(rng.choice((1, 12, 17, 22, 50, 90, 170))))
        for _ in range(count)
    ]


def test_the_code_is_the_one_segno_makes_for_every_mask_and_version():
    masks, versions = set(), set()
    for url in urls(240):
        expected = segno.make(url, error="m", micro=False)
        made = qr.qr_code(url)
        assert (made.matrix, made.mask, made.version, made.designator) == (
            expected.matrix,
            expected.mask,
            expected.version,
            expected.designator,
        ), url
        masks.add(made.mask)
        versions.add(made.version)
    assert masks == set(range(qr.MASKS))
    assert {4, 8, 10} <= versions


def test_each_candidate_scores_as_segno_scores_it():
    for url in urls(12, seed=3):
        first = segno.make(url, error="m", micro=False, mask=0)
        size = len(first.matrix)
        for rows, columns in qr.candidates(first):
            matrix = tuple(bytearray(row.to_bytes(size, "little")) for row in rows)
            assert [bytes(column) for column in zip(*matrix, strict=True)] == [
                column.to_bytes(size, "little") for column in columns
            ]
            assert qr.penalty(rows, columns, size) == encoder.evaluate_mask(matrix, size, size)


@pytest.mark.parametrize("url", urls(6, seed=11))
def test_the_code_decodes_to_the_url(url):
    buffer = io.BytesIO()
    qr.qr_code(url).save(buffer, kind="png", scale=6)
    assert [found.text for found in zxingcpp.read_barcodes(Image.open(buffer))] == [url]


def test_the_mask_is_chosen_from_a_code_made_with_mask_0():
    with pytest.raises(ValueError, match="mask 0"):
        qr.best_mask(segno.make("https://lms.activelabs.ma/verify/X", error="m", mask=3))
