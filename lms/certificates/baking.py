"""Baked badges (Open Badges 3.0, "Baking"): a PNG image that carries its signed credential.

The credential, as a compact VC-JWT, goes in an uncompressed ``iTXt`` chunk with the keyword
``openbadgecredential``, right after the image header; a wallet or backpack that is given the
image finds the credential in it and verifies the signature with the lab's published keys.
The image itself is not decoded or re-encoded: the chunk is spliced into the file's bytes.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache
from pathlib import Path

KEYWORD = b"openbadgecredential"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGES = Path(__file__).resolve().parents[1] / "static" / "img" / "badges"


class NotAPng(ValueError):
    pass


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _chunks(png: bytes):
    """(kind, data, start, end) of each chunk of ``png``."""
    if not png.startswith(SIGNATURE):
        raise NotAPng("not a PNG file")
    at = len(SIGNATURE)
    while at + 8 <= len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(png):
            raise NotAPng("truncated PNG chunk")
        yield kind, png[at + 8 : at + 8 + length], at, end
        at = end
    if at != len(png):
        raise NotAPng("truncated PNG file")


def bake(png: bytes, token: str) -> bytes:
    """``png`` with ``token`` baked in (replacing a credential already baked there)."""
    # iTXt: keyword, NUL, compression flag 0, method 0, empty language tag and translated
    # keyword (each NUL-terminated), then the text in UTF-8.
    chunk = _chunk(b"iTXt", KEYWORD + b"\x00\x00\x00\x00\x00" + token.encode("utf-8"))
    parts, header_end = [SIGNATURE], None
    for kind, data, start, end in _chunks(png):
        if kind == b"iTXt" and data.startswith(KEYWORD + b"\x00"):
            continue  # an earlier credential: the new one replaces it
        parts.append(png[start:end])
        if kind == b"IHDR":
            header_end = len(parts)
    if header_end is None or parts[-1][4:8] != b"IEND":
        raise NotAPng("PNG without its header or end chunk")
    parts.insert(header_end, chunk)
    return b"".join(parts)


def baked_credential(png: bytes) -> str | None:
    """The credential baked into ``png``, or None."""
    for kind, data, _start, _end in _chunks(png):
        if kind == b"iTXt" and data.startswith(KEYWORD + b"\x00"):
            # Past the keyword and its NUL: compression flag and method (0, 0).
            rest = data[len(KEYWORD) + 3 :]
            _language, _translated, text = rest.split(b"\x00", 2)
            return text.decode("utf-8")
    return None


@cache
def badge_image(track: str) -> bytes:
    """The track's badge image (scripts/make_badge_images.py draws them)."""
    return (IMAGES / f"{track}.png").read_bytes()
