"""A message's plain text as HTML: everything escaped, web addresses made into links.

Only http and https addresses become links (never ``javascript:`` or ``data:``); a link opens
no door back to the page (``rel="noopener nofollow"``). Line breaks are kept by the CSS
(``white-space: pre-line``), so no markup from the writer ever reaches a reader.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the address.
_TRAILING = ".,;:!?)]}»'\""


def _split_trailing(url: str) -> tuple[str, str]:
    trimmed = url.rstrip(_TRAILING)
    # Keep a closing parenthesis that closes one opened inside the address (Wikipedia-style).
    while trimmed != url and url[len(trimmed)] == ")" and trimmed.count("(") > trimmed.count(")"):
        trimmed += ")"
    return trimmed, url[len(trimmed) :]


def _is_web_address(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def linkify(text: str | None) -> Markup:
    """``text`` escaped, with its http(s) addresses as links."""
    text = text or ""
    pieces: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url, tail = _split_trailing(match.group(0))
        pieces.append(str(escape(text[position : match.start()])))
        if _is_web_address(url):
            pieces.append(f'<a href="{escape(url)}" rel="noopener nofollow">{escape(url)}</a>')
        else:
            pieces.append(str(escape(url)))
        pieces.append(str(escape(tail)))
        position = match.end()
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))  # noqa: S704 - every piece above is escaped
