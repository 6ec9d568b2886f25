"""Draw the offline roll call's home-screen icons (lms/static/img/icons/icon-192.png and
icon-512.png) from the logo's shapes, with the standard library only.

    .venv/bin/python scripts/make_app_icons.py

The whole square is filled (a "maskable" icon: the launcher may cut it to a circle), and the
logo's ring and legs sit inside the central safe zone.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "lms" / "static" / "img" / "icons"
BRAND = (0x0B, 0x5C, 0xAD)
WHITE = (0xFF, 0xFF, 0xFF)
AMBER = (0xFF, 0xB0, 0x00)


def _segment_distance(px, py, ax, ay, bx, by) -> float:
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def colour_at(x: float, y: float) -> tuple[int, int, int]:
    """The logo (a 64-unit square) drawn at 60 % of the icon, centred."""
    u = (x - 0.2) / 0.6 * 64
    v = (y - 0.2) / 0.6 * 64
    if math.hypot(u - 32, v - 26) <= 4:
        return AMBER
    if abs(math.hypot(u - 32, v - 26) - 12) <= 2.5:
        return WHITE
    if min(_segment_distance(u, v, 20, 52, 32, 34), _segment_distance(u, v, 32, 34, 44, 52)) <= 2.5:
        return AMBER
    return BRAND


def png(size: int) -> bytes:
    rows = bytearray()
    for j in range(size):
        rows.append(0)  # no filter
        for i in range(size):
            rows.extend(colour_at((i + 0.5) / size, (j + 0.5) / size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (HERE / f"icon-{size}.png").write_bytes(png(size))
        print(f"wrote {HERE / f'icon-{size}.png'}")


if __name__ == "__main__":
    main()
