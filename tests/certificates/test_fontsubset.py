"""Our fonts are cut for each PDF by copying glyph records, the same with or without HarfBuzz."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from lms.certificates import fontsubset
from lms.certificates.rendering import STATIC_DIR, render_certificate

from .conftest import certificate_data

FONTS = sorted((STATIC_DIR / "fonts").glob("*.ttf"))


def _outline(font: TTFont, gid: int):
    glyph = font["glyf"][font.getGlyphOrder()[gid]]
    glyph.expand(font["glyf"])
    if glyph.isComposite():
        return [(c.glyphName, c.x, c.y) for c in glyph.components]
    if glyph.numberOfContours == 0:
        return []
    return list(glyph.coordinates), list(glyph.endPtsOfContours)


@pytest.mark.parametrize("path", FONTS, ids=lambda path: path.name)
def test_a_subset_keeps_the_outlines_and_widths_of_its_glyphs_at_their_ids(path):
    data = path.read_bytes()
    original = TTFont(io.BytesIO(data))
    wanted = set(range(3, min(original["maxp"].numGlyphs, 900), 11))
    cut = TTFont(io.BytesIO(fontsubset.GlyphCopier(data).subset(wanted)))
    for tag in sorted(cut.keys()):  # every table decompiles
        if tag != "GlyphOrder":
            cut[tag]
    assert not {"GSUB", "GPOS", "cmap"} & set(cut.keys())
    for gid in wanted | {0}:
        name, cut_name = original.getGlyphOrder()[gid], cut.getGlyphOrder()[gid]
        assert original["hmtx"][name] == cut["hmtx"][cut_name]
        if not original["glyf"][name].isComposite():
            assert _outline(original, gid) == _outline(cut, gid)
    assert cut["maxp"].numGlyphs <= original["maxp"].numGlyphs


def test_components_of_a_composite_glyph_are_kept():
    data = (STATIC_DIR / "fonts" / "NotoSans-Regular-Latin.ttf").read_bytes()
    original = TTFont(io.BytesIO(data))
    composite = next(
        gid
        for gid, name in enumerate(original.getGlyphOrder())
        if original["glyf"][name].isComposite()
    )
    cut = TTFont(io.BytesIO(fontsubset.GlyphCopier(data).subset([composite])))
    for component in original["glyf"][original.getGlyphOrder()[composite]].components:
        gid = original.getGlyphID(component.glyphName)
        assert _outline(cut, gid) == _outline(original, gid)


def test_the_embedded_fonts_are_small_subsets():
    pdf = render_certificate(certificate_data())
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    for font in page["/Resources"]["/Font"].values():
        descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        program = descriptor.get_object()["/FontFile2"].get_object().get_data()
        assert len(program) < 100 * 1024
    assert len(pdf) < 120 * 1024


def test_other_fonts_are_left_to_weasyprint():
    assert fontsubset.copier_for(b"\0\1\0\0 not one of ours") is None


def test_without_libharfbuzz_subset_the_bytes_are_the_same():
    """WeasyPrint falls back to fontTools when it finds no libharfbuzz-subset; not for ours."""
    data = certificate_data()
    stored = {
        **data,
        **{key: data[key].isoformat() for key in ("start_date", "end_date", "issue_date")},
    }
    script = (
        "import hashlib, json, sys\n"
        "import weasyprint.pdf.fonts\n"
        "weasyprint.pdf.fonts.harfbuzz_subset = None  # what WeasyPrint sets when it is missing\n"
        "from lms.certificates.rendering import render_certificate\n"
        "print(hashlib.sha256(render_certificate(json.loads(sys.stdin.read()))).hexdigest())\n"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-W", "ignore", "-c", script],
        input=json.dumps(stored),
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.stdout.strip() == hashlib.sha256(render_certificate(data)).hexdigest()
    assert "fontTools" not in result.stderr
