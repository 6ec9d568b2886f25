"""Static files under versioned URLs, kept by browsers for a year.

``url_for("static", filename=...)`` adds ``?v=`` and the first hex digits of the file's
SHA-256, and an answer to a URL whose version is the file's current one may be kept for a
year without asking again (``immutable``). A phone opening ten pages then asks for the
stylesheet and the scripts once, not ten times: on opening day, on one lab's Wi-Fi, that is
most of the requests the server would otherwise answer. A changed file gets a new URL, so
nobody keeps an old copy; a URL without a version, or with an old one, is answered as
before (the browser checks again each time). A URL that must never change (the image named
in a signed credential) asks for no version: ``url_for("static", filename=..., v=None)``.
"""

from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

KEEP_SECONDS = 365 * 24 * 3600
VERSION_DIGITS = 12

_versions: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


def static_version(filename: str | None) -> str | None:
    """The version of a file of the app's static folder (None if there is no such file).

    Hashed once per content: the key holds the file's modification time and size, so a file
    edited while the development server runs gets its new version at once.
    """
    if not filename:
        return None
    path = safe_join(current_app.static_folder, filename)
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = (path, stat.st_mtime_ns, stat.st_size)
    version = _versions.get(key)
    if version is None:
        try:
            with open(path, "rb") as file:
                version = hashlib.sha256(file.read()).hexdigest()[:VERSION_DIGITS]
        except OSError:  # a folder, or a file gone meanwhile
            return None
        with _lock:
            _versions[key] = version
    return version


def _add_version(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values:
        version = static_version(values.get("filename"))
        if version is not None:
            values["v"] = version


def _keep_versioned(response: Response) -> Response:
    if (
        request.endpoint == "static"
        and response.status_code in (200, 304)
        and request.args.get("v")
        and request.args["v"] == static_version((request.view_args or {}).get("filename"))
    ):
        cache = response.cache_control
        cache.no_cache = None
        cache.public = True
        cache.max_age = KEEP_SECONDS
        cache.immutable = True
    return response


def init_assets(app: Flask) -> None:
    app.url_defaults(_add_version)
    app.after_request(_keep_versioned)
