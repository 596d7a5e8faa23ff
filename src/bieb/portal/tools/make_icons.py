"""Draw the PWA icons (a white "b" on the brand orange) as PNG files, standard library only.

Run from the repository root when the brand colour changes; the PNGs are committed:

    .venv/bin/python src/bieb/portal/tools/make_icons.py
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

BRAND = (0xB8, 0x40, 0x0E)
WHITE = (0xFF, 0xFF, 0xFF)
OUT = Path(__file__).resolve().parent.parent / "static" / "portal" / "icons"
SUPERSAMPLE = 3


def png_bytes(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def inside_letter(x: float, y: float, scale: float) -> bool:
    """A lower-case "b" in unit coordinates (0..1), shrunk by ``scale`` around the centre."""
    x = 0.5 + (x - 0.5) / scale
    y = 0.5 + (y - 0.5) / scale
    stem = 0.30 <= x <= 0.40 and 0.18 <= y <= 0.80
    cx, cy = 0.52, 0.60
    distance_squared = (x - cx) ** 2 + (y - cy) ** 2
    bowl = 0.12**2 <= distance_squared <= 0.21**2 and x >= 0.35
    return stem or bowl


def draw(size: int, *, scale: float) -> bytes:
    rows = []
    samples = SUPERSAMPLE * SUPERSAMPLE
    for py in range(size):
        row = bytearray()
        for px in range(size):
            hits = 0
            for sy in range(SUPERSAMPLE):
                for sx in range(SUPERSAMPLE):
                    x = (px + (sx + 0.5) / SUPERSAMPLE) / size
                    y = (py + (sy + 0.5) / SUPERSAMPLE) / size
                    hits += inside_letter(x, y, scale)
            share = hits / samples
            row.extend(round(b + (w - b) * share) for b, w in zip(BRAND, WHITE, strict=True))
        rows.append(bytes(row))
    return png_bytes(size, size, rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # "any" icons use the whole square; "maskable" ones keep the letter in the 80% safe zone.
    for name, size, scale in [
        ("icon-192.png", 192, 1.0),
        ("icon-512.png", 512, 1.0),
        ("icon-maskable-512.png", 512, 0.75),
        ("apple-touch-icon.png", 180, 0.9),
        ("favicon-32.png", 32, 1.0),
    ]:
        (OUT / name).write_bytes(draw(size, scale=scale))
        print(OUT / name)


if __name__ == "__main__":
    main()
