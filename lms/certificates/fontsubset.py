"""Embed the certificate fonts in a few milliseconds, with or without libharfbuzz-subset.

WeasyPrint subsets every font of every PDF: with libharfbuzz-subset0 that costs 20-30 ms
per certificate, without it (fontTools) about a second, because fontTools decompiles the
whole shaping tables (GSUB, GPOS) of the Arabic fonts only to drop them. Our fonts
(lms/static/fonts, cut by scripts/cut_certificate_fonts.py) are plain TrueType fonts, and a
PDF needs nothing of them but the outlines of the glyphs it draws and their metrics: glyph
ids are kept (the PDF addresses glyphs by id), so a subset is a copy of glyph records.

:func:`install` wraps WeasyPrint's ``Font.subset`` (pinned: weasyprint 70): for a font file
of ours, the embedded program is cut here from a copy parsed once per process; any other
font goes to WeasyPrint's own code. The bytes are the same on every machine, so a stored
certificate regenerated where the library is missing still matches its SHA-256.
"""

from __future__ import annotations

import array
import struct
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

# What a PDF reader uses of a TrueType program embedded as CIDFontType2 (Identity map);
# cmap, shaping and hinting tables are not read.
KEPT_TABLES = ("OS/2", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post")

# Composite glyph flags (OpenType 'glyf')
ARG_1_AND_2_ARE_WORDS = 0x0001
WE_HAVE_A_SCALE = 0x0008
MORE_COMPONENTS = 0x0020
WE_HAVE_AN_X_AND_Y_SCALE = 0x0040
WE_HAVE_A_TWO_BY_TWO = 0x0080


def _checksum(data: bytes) -> int:
    words = array.array("L" if array.array("L").itemsize == 4 else "I")
    words.frombytes(data + b"\0" * (-len(data) % 4))
    if sys.byteorder == "little":
        words.byteswap()  # the table's words are big-endian
    return sum(words) & 0xFFFFFFFF


class GlyphCopier:
    """A TrueType font parsed once; ``subset(gids)`` keeps those glyphs' outlines, same ids."""

    def __init__(self, data: bytes) -> None:
        if data[:4] not in (b"\0\1\0\0", b"true"):
            raise ValueError("not a TrueType font")
        (count,) = struct.unpack(">H", data[4:6])
        self.tables: dict[str, bytes] = {}
        for index in range(count):
            tag, _, offset, length = struct.unpack(
                ">4sLLL", data[12 + 16 * index : 28 + 16 * index]
            )
            self.tables[tag.decode("latin-1")] = data[offset : offset + length]
        head, maxp = self.tables["head"], self.tables["maxp"]
        (self.glyph_count,) = struct.unpack(">H", maxp[4:6])
        (long_loca,) = struct.unpack(">h", head[50:52])
        loca = self.tables["loca"]
        if long_loca:
            self.offsets = list(
                struct.unpack(f">{self.glyph_count + 1}L", loca[: 4 * (self.glyph_count + 1)])
            )
        else:
            shorts = struct.unpack(f">{self.glyph_count + 1}H", loca[: 2 * (self.glyph_count + 1)])
            self.offsets = [2 * offset for offset in shorts]
        (self.long_metrics,) = struct.unpack(">H", self.tables["hhea"][34:36])

    def _glyph(self, gid: int) -> bytes:
        return self.tables["glyf"][self.offsets[gid] : self.offsets[gid + 1]]

    def _components(self, gid: int) -> list[int]:
        glyph = self._glyph(gid)
        if len(glyph) < 10 or struct.unpack(">h", glyph[:2])[0] >= 0:
            return []
        components, position, flags = [], 10, MORE_COMPONENTS
        while flags & MORE_COMPONENTS:
            flags, component = struct.unpack(">HH", glyph[position : position + 4])
            components.append(component)
            position += 4 + (4 if flags & ARG_1_AND_2_ARE_WORDS else 2)
            if flags & WE_HAVE_A_SCALE:
                position += 2
            elif flags & WE_HAVE_AN_X_AND_Y_SCALE:
                position += 4
            elif flags & WE_HAVE_A_TWO_BY_TWO:
                position += 8
        return components

    def subset(self, gids: Iterable[int]) -> bytes:
        """A TrueType program with the outlines of ``gids`` (and .notdef) at their own ids."""
        keep, todo = set(), [0, *(gid for gid in gids if 0 <= gid < self.glyph_count)]
        while todo:
            gid = todo.pop()
            if gid not in keep:
                keep.add(gid)
                todo.extend(self._components(gid))
        count = max(keep) + 1  # glyphs after the last one used are left out
        glyf, offsets, done = bytearray(), [], 0
        for gid in sorted(keep):
            offsets += [len(glyf)] * (gid - done)  # the empty glyphs before this one
            offsets.append(len(glyf))
            glyf += self._glyph(gid)
            glyf += b"\0" * (-len(glyf) % 4)
            done = gid + 1
        offsets.append(len(glyf))
        long_metrics = min(self.long_metrics, count)
        hmtx = self.tables["hmtx"]
        metrics = (
            hmtx[: 4 * long_metrics]
            + hmtx[4 * self.long_metrics : 4 * self.long_metrics + 2 * (count - long_metrics)]
        )
        head = bytearray(self.tables["head"])
        head[8:12] = b"\0\0\0\0"  # checkSumAdjustment, set below
        head[50:52] = struct.pack(">h", 1)  # long loca offsets
        hhea = bytearray(self.tables["hhea"])
        hhea[34:36] = struct.pack(">H", long_metrics)
        maxp = bytearray(self.tables["maxp"])
        maxp[4:6] = struct.pack(">H", count)
        post = self.tables.get("post")
        tables = {
            **{tag: self.tables[tag] for tag in ("OS/2", "name") if tag in self.tables},
            "glyf": bytes(glyf),
            "head": bytes(head),
            "hhea": bytes(hhea),
            "hmtx": metrics,
            "loca": struct.pack(f">{len(offsets)}L", *offsets),
            "maxp": bytes(maxp),
        }
        if post is not None:  # version 3: no glyph names, which would describe other ids
            tables["post"] = b"\0\3\0\0" + post[4:32]
        return _write_font(tables)


def _write_font(tables: dict[str, bytes]) -> bytes:
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">LHHHH", 0x00010000, count, 16 * power, power.bit_length() - 1,
                         16 * (count - power))  # fmt: skip
    directory, body = bytearray(), bytearray()
    offset = 12 + 16 * count
    for tag in tags:
        data = tables[tag]
        directory += struct.pack(
            ">4sLLL", tag.encode("latin-1"), _checksum(data), offset + len(body), len(data)
        )
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(header + directory + body)
    head_offset = (
        12
        + 16 * count
        + sum(len(tables[tag]) + (-len(tables[tag]) % 4) for tag in tags[: tags.index("head")])
    )
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    font[head_offset + 8 : head_offset + 12] = struct.pack(">L", adjustment)
    return bytes(font)


# --- WeasyPrint's side --------------------------------------------------------------------

# Registered fonts by their length: a file is recognised by comparing its bytes (a memcmp,
# ten times quicker than hashing them, for each font of each certificate).
_copiers: dict[int, list[tuple[bytes, GlyphCopier]]] = {}
_lock = threading.Lock()


def register_fonts(folder: Path) -> None:
    """Parse the TrueType fonts of ``folder`` once, so that their PDFs are cut here."""
    with _lock:
        for path in sorted(Path(folder).glob("*.ttf")):
            data = path.read_bytes()
            same_length = _copiers.setdefault(len(data), [])
            if not any(known == data for known, _ in same_length):
                same_length.append((data, GlyphCopier(data)))


def copier_for(data: bytes) -> GlyphCopier | None:
    """The copier of a registered font file, None for any other font."""
    for known, copier in _copiers.get(len(data), ()):
        if known == data:
            return copier
    return None


def install() -> None:
    """Route WeasyPrint's subsetting of our registered fonts here (idempotent)."""
    from weasyprint.pdf.fonts import Font

    if getattr(Font.subset, "lms_glyph_copier", False):
        return
    weasyprint_subset = Font.subset

    def subset(self, to_unicode, hinting):
        copier = copier_for(self.file_content) if to_unicode else None
        if copier is None:
            return weasyprint_subset(self, to_unicode, hinting)
        self.file_content = copier.subset(to_unicode)
        return None

    subset.lms_glyph_copier = True
    Font.subset = subset
