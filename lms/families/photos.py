"""Identification photos of children, for telling them apart on the register: the uploaded
image is decoded, turned upright, cropped to a square and encoded again as a small JPEG
(nothing of the original file is kept: no EXIF, no GPS position, no colour profile), then
stored in the instance folder under a random name.

The file follows the transaction that names it: a new file is written before the commit
(only after a valid decode) and deleted again if the transaction rolls back; a file that is
replaced or removed is deleted once the commit has succeeded. So a refusal, a failed request
or a lost race never leaves a photo on disk that no child names, nor a child naming a file
that is gone.

What is refused, with a message: an empty file, a file over MAX_BYTES, a file that is not a
JPEG, PNG or WebP image, a damaged or truncated one, and one with too many pixels to decode
safely.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event

from lms.database import Session
from lms.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel photo; beyond, decoding it could exhaust memory
SIDE = 256  # pixels of the stored square
QUALITY = 85
FORMATS = {"JPEG", "PNG", "WEBP"}
MEDIA_TYPE = "image/jpeg"
FILE_NAME = re.compile(r"^[0-9a-f]{32}\.jpg$")

# Files to delete when the request's transaction ends: on commit (replaced or removed
# photos), on rollback (photos written for a change that did not happen).
ON_COMMIT = "lms.photos.delete_on_commit"
ON_ROLLBACK = "lms.photos.delete_on_rollback"


class PhotoRefused(DomainError):
    """The uploaded file cannot be a child's photo; the message says why."""


def folder() -> Path:
    return Path(current_app.instance_path) / "child_photos"


def encode(data: bytes) -> bytes:
    """The stored form of an uploaded photo (a SIDE x SIDE JPEG), or PhotoRefused saying why."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise PhotoRefused(_l("Choose a photo."), field="image")
    if len(data) > MAX_BYTES:
        raise PhotoRefused(
            _l("The photo is too large: at most %(num)d MB.", num=MAX_BYTES // (1024 * 1024)),
            field="image",
        )
    damaged = PhotoRefused(
        _l("This file could not be read as a photo: choose a JPEG, PNG or WebP image."),
        field="image",
    )
    too_many_pixels = PhotoRefused(
        _l("This photo has too many pixels: take it again at a smaller size."), field="image"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=sorted(FORMATS)) as image:
                image.verify()  # a PNG's chunk checksums, its end
            with Image.open(io.BytesIO(data), formats=sorted(FORMATS)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise too_many_pixels
                # A JPEG may be decoded at a fraction of its size (fast, and little memory).
                image.draft("RGB", (SIDE * 2, SIDE * 2))
                image.load()  # decodes every byte: a truncated or damaged file fails here
                upright = ImageOps.exif_transpose(image)
                if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
                    rgba = upright.convert("RGBA")
                    flat = Image.new("RGB", rgba.size, "white")
                    flat.paste(rgba, mask=rgba.getchannel("A"))
                else:
                    flat = upright.convert("RGB")
                square = ImageOps.fit(flat, (SIDE, SIDE), Image.Resampling.LANCZOS)
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise damaged from None
    out = io.BytesIO()
    square.save(out, "JPEG", quality=QUALITY, optimize=True)  # no exif, no icc_profile
    return out.getvalue()


def store(data: bytes, session) -> str:
    """Write an encoded photo under a new name; the file goes again if ``session``'s
    transaction rolls back. Returns the name."""
    name = f"{secrets.token_hex(16)}.jpg"
    target = folder() / name
    folder().mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    session.info.setdefault(ON_ROLLBACK, []).append(name)
    return name


def discard(name: str | None, session) -> None:
    """Delete the photo file ``name`` once ``session``'s transaction has committed."""
    if name:
        session.info.setdefault(ON_COMMIT, []).append(name)


def path_of(name: str | None) -> Path | None:
    """The stored file of ``name``, or None if the name is not one or the file is gone."""
    if not FILE_NAME.match(name or ""):
        return None
    path = folder() / name
    return path if path.is_file() else None


def initials(name: str) -> str:
    """What stands for a child without a photo: the first letters of the first and the last
    word of the name ("Adam Alaoui": "AA"), kept apart in Arabic script (no joining)."""
    words = [word for word in (name or "").split() if word]
    if not words:
        return "?"
    chosen = [words[0]] + ([words[-1]] if len(words) > 1 else [])
    # An Arabic family name is known by its first letter after the article ("البقالي": "ب").
    letters = [w[2] if w.startswith("ال") and len(w) > 2 else w[0] for w in chosen]
    return "\u200c".join(letter.upper() for letter in letters)


def _delete(names) -> None:
    for name in names or ():
        if FILE_NAME.match(name):
            (folder() / name).unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    if session.in_nested_transaction():
        return  # a released savepoint commits nothing yet
    session.info.pop(ON_ROLLBACK, None)
    _delete(session.info.pop(ON_COMMIT, None))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is not None:
        return
    # Still listed after the outermost transaction ended: it did not commit.
    session.info.pop(ON_COMMIT, None)
    _delete(session.info.pop(ON_ROLLBACK, None))
