"""Safe ASCII file names for certificates in downloads and ZIP archives."""

from __future__ import annotations

import re

from anyascii import anyascii

# Names Windows refuses for a file, whatever the extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in range(10)
}
_APOSTROPHES = re.compile(r"['`\"]+")
_NOT_SAFE = re.compile(r"[^A-Za-z0-9]+")


def safe_filename(name: str, *, fallback: str = "certificat", max_length: int = 60) -> str:
    """``name`` as a file name stem made of ASCII letters, digits and dashes.

    Accents are dropped and other scripts transliterated ("Zoé Lefèvre" -> "Zoe-Lefevre",
    "ياسمين" -> "ysmyn": Arabic script writes no short vowels, so prefer the Latin name when
    there is one). Never empty, never a path, never a name Windows reserves. Two children
    may get the same stem: avoiding collisions (adding the code) is the caller's job.
    """
    ascii_name = _APOSTROPHES.sub("", anyascii(name or ""))
    stem = _NOT_SAFE.sub("-", ascii_name).strip("-")
    if len(stem) > max_length:
        # Cut at the last whole word; one character more tells whether the cut ends a word.
        head = stem[: max_length + 1]
        stem = head.rsplit("-", 1)[0] if "-" in head else stem[:max_length]
    stem = stem or fallback
    if stem.upper() in _RESERVED:
        stem = f"{stem}_"
    return stem
