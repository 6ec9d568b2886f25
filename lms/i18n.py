"""Language and time zone: which one a request gets, and template helpers."""

from __future__ import annotations

import zoneinfo

from flask import Flask, current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape

LANGUAGE_COOKIE = "lang"

# The site speaks fr/ar/en; dates and numbers follow Moroccan conventions where CLDR has them
# (ar_MA writes Latin digits and a 24-hour clock, as Moroccan schools do).
BABEL_LOCALES = {"fr": "fr_MA", "ar": "ar_MA", "en": "en_GB"}

LANGUAGE_NAMES = {"fr": "Français", "ar": "العربية", "en": "English"}


def current_language() -> str:
    """The two-letter language of this request: the user's, the cookie's, or the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in languages:
        return cookie
    best = request.accept_languages.best_match(languages)
    if best:
        return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_locale() -> str:
    return BABEL_LOCALES.get(current_language(), current_language())


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def babel_locale_for(language: str) -> str:
    """The Babel locale used to write to someone whose language is ``language``."""
    return BABEL_LOCALES.get(language, language)


def text_direction(language: str | None = None) -> str:
    language = language or current_language()
    return "rtl" if language in current_app.config["RTL_LANGUAGES"] else "ltr"


def _lazy_string_as_html(self: LazyString) -> str:
    return str(escape(str(self)))


# Flask-Babel's lazy strings say they are already HTML (``__html__`` returns the raw text), so
# Jinja would print them unescaped, and a flashed one comes back from the session as Markup.
# A translation interpolating user input (a child's name, say) would then inject HTML. Their
# HTML form is their text, escaped.
LazyString.__html__ = _lazy_string_as_html


def use_packaged_zone_rules() -> None:
    """Read time-zone rules from the ``tzdata`` package only, never from the OS copy.

    Babel formats times with pytz's rules while ``zoneinfo`` (used to store lessons) prefers
    /usr/share/zoneinfo, which may be an older IANA release: Morocco's rules changed in 2026,
    and two releases apart put a lesson an hour off. The tzdata and pytz packages follow the
    same IANA releases, and upgrade with the app.
    """
    zoneinfo.reset_tzpath(to=())
    zoneinfo.ZoneInfo.clear_cache()


def init_i18n(app: Flask) -> None:
    use_packaged_zone_rules()

    @app.context_processor
    def language_context():
        language = current_language()
        return {
            "current_language": language,
            "text_dir": text_direction(language),
            "language_names": LANGUAGE_NAMES,
            "babel_locale": get_locale,
        }
