"""Language and time zone: which one a request gets, and template helpers."""

from __future__ import annotations

import re
import zoneinfo

from flask import Flask, current_app, has_request_context, request
from flask_babel import Domain, get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape

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


# French elides "de" and "que" before a vowel: "Présences d'Adam", never "de Adam". A translation
# can't know the name it will hold, so the elision is made once the name is in ("h" is left
# alone: most names here start with an aspirated one, "de Hamza").
_ELIDED = re.compile(r"\b([dD]e|[qQ]ue) (?=[AEIOUÀÂÆÉÈÊËÎÏÔŒÙÛÜaeiouàâæéèêëîïôœùûü])")


def french_elision(text: str, values) -> str:
    """``text`` with "de"/"que" elided before each of ``values`` that starts with a vowel."""
    written = tuple(
        str(escape(value)) if isinstance(text, Markup) else value
        for value in values
        if isinstance(value, str) and _ELIDED.match("de " + value)
    )
    if not written:
        return text

    def elide(match: re.Match) -> str:
        # One compiled pattern for every name: a name's own pattern would be compiled anew
        # for each child (the regex cache is small next to a list of children).
        if text.startswith(written, match.end()):
            return match.group(1)[:-1] + "'"
        return match.group(0)

    return _ELIDED.sub(elide, text)


def _elided_in_french(text: str, variables: dict) -> str:
    locale = get_locale()
    if variables and locale is not None and locale.language == "fr":
        return french_elision(text, variables.values())
    return text


class ElidingDomain(Domain):
    """The app's message domain: what Python code translates with names in it (flashes,
    refusals, e-mail subjects) gets the French elision too. Templates format their strings
    themselves (Jinja's newstyle gettext), so they have their own wrapper below."""

    def gettext(self, string, **variables):
        return _elided_in_french(super().gettext(string, **variables), variables)

    def ngettext(self, singular, plural, num, **variables):
        return _elided_in_french(super().ngettext(singular, plural, num, **variables), variables)

    def pgettext(self, context, string, **variables):
        return _elided_in_french(super().pgettext(context, string, **variables), variables)

    def npgettext(self, context, singular, plural, num, **variables):
        text = super().npgettext(context, singular, plural, num, **variables)
        return _elided_in_french(text, variables)


def _with_french_elision(translate):
    @pass_context
    def translated(context, *args, **variables):
        text = translate(context, *args, **variables)
        if variables and current_language() == "fr":
            elided = french_elision(text, variables.values())
            # Only "de"/"que" were cut before text already escaped: still safe HTML.
            return Markup(elided) if isinstance(text, Markup) else elided  # noqa: S704
        return text

    return translated


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
    # Flask-Babel makes its domain on first use (a cached property); the app's is this one.
    configuration = app.extensions["babel"]
    if not isinstance(vars(configuration.instance).get("domain_instance"), ElidingDomain):
        configuration.instance.domain_instance = ElidingDomain(domain=configuration.default_domain)
    for name in ("gettext", "_", "ngettext"):
        app.jinja_env.globals[name] = _with_french_elision(app.jinja_env.globals[name])

    @app.context_processor
    def language_context():
        language = current_language()
        return {
            "current_language": language,
            "text_dir": text_direction(language),
            "language_names": LANGUAGE_NAMES,
            "babel_locale": get_locale,
        }
