"""Signature images of the staff who sign certificates: uploaded by a coordinator (PNG or
SVG), checked, and kept in the instance folder under the SHA-256 of their bytes.

A certificate's data names the files its signers had when it was issued
(``data["signatures"]``); the files are never overwritten or deleted, so a certificate
rendered again from its data, years later, shows the same signatures.

What is refused, with a message: an empty or oversized file, a file that is not a PNG or an
SVG image, a PNG too large in pixels, and an SVG with a document type, scripts, event
handlers, embedded HTML or links to anything outside itself (the certificate renderer would
refuse to fetch them anyway; refusing at upload says why).
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.audit import services as audit
from lms.errors import DomainError

MAX_BYTES = 200 * 1024
MAX_PIXELS = 2400  # on the longer side; a signature is printed about 40 mm wide
FILE_NAME = re.compile(r"^[0-9a-f]{64}\.(png|svg)$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
# Elements and attributes that run code, embed other documents or reach outside the file.
FORBIDDEN_ELEMENTS = {"script", "foreignObject", "iframe", "object", "embed", "use", "image"}
LINK_ATTRIBUTES = {"href", "{http://www.w3.org/1999/xlink}href"}


class SignatureRefused(DomainError):
    """The uploaded file cannot be a signature image; the message says why."""


def folder() -> Path:
    return Path(current_app.instance_path) / "signatures"


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check_png(data: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()  # the chunks' checksums and the image data
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise SignatureRefused(_l("This PNG file is damaged: export it again.")) from None
    if max(width, height) > MAX_PIXELS:
        raise SignatureRefused(
            _l("The image is too large: at most %(num)d pixels on its longer side.", num=MAX_PIXELS)
        )


def _check_svg(data: bytes) -> None:
    head = data[:2048].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise SignatureRefused(_l("This SVG file declares a document type: save it as plain SVG."))
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 (no DTD: refused above)
    except ElementTree.ParseError:
        raise SignatureRefused(_l("This SVG file is not well-formed: export it again.")) from None
    if root.tag != f"{SVG_NAMESPACE}svg":
        raise SignatureRefused(_l("Choose a PNG or SVG image."))
    for element in root.iter():
        name = _local_name(element.tag)
        refused = name in FORBIDDEN_ELEMENTS or any(
            attribute.lower().startswith("on")
            or (attribute in LINK_ATTRIBUTES and not value.startswith("#"))
            for attribute, value in element.attrib.items()
        )
        style = (element.text or "") if name == "style" else element.attrib.get("style", "")
        if refused or "url(" in style.replace("url(#", "") or "@import" in style:
            raise SignatureRefused(
                _l("This SVG file contains scripts, embedded content or links: draw it again.")
            )


def check(data: bytes) -> str:
    """The kind of a signature image (``png`` or ``svg``), or SignatureRefused saying why."""
    if not data:
        raise SignatureRefused(_l("Choose a file."))
    if len(data) > MAX_BYTES:
        raise SignatureRefused(
            _l("The file is too large: at most %(num)d KB.", num=MAX_BYTES // 1024)
        )
    if data.startswith(PNG_SIGNATURE):
        _check_png(data)
        return "png"
    if data.lstrip()[:5] in (b"<?xml", b"<svg ", b"<svg\n", b"<svg>") or b"<svg" in data[:512]:
        _check_svg(data)
        return "svg"
    raise SignatureRefused(_l("Choose a PNG or SVG image."))


def set_signature(user: User, data: bytes, *, actor: User) -> str:
    """Keep ``data`` as ``user``'s signature (after checking it); the stored file's name."""
    if not user.is_staff:
        raise SignatureRefused(_l("Only staff members sign certificates."))
    kind = check(data)
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    target = folder() / name
    if not target.exists():
        folder().mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)
    user.signature_image = name
    audit.record("staff.signature_set", actor=actor, subject=user, file=name)
    return name


def remove_signature(user: User, *, actor: User) -> None:
    """Certificates issued from now on show ``user``'s typed name; the file stays for the
    certificates that already show it."""
    if user.signature_image:
        audit.record("staff.signature_removed", actor=actor, subject=user)
    user.signature_image = None


def read(name: str) -> bytes | None:
    """The bytes of a stored signature file, or None if the name is not one or it is gone."""
    if not FILE_NAME.match(name or ""):
        return None
    path = folder() / name
    return path.read_bytes() if path.is_file() else None
