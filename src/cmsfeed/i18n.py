"""Locales and gettext-enabled Jinja2 environments shared by emails and pages. Pure: no I/O
beyond reading templates when a page or email is rendered."""

from __future__ import annotations

from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader, select_autoescape

FALLBACK_LANGUAGE = "en"


def babel_locale(language: str) -> Locale:
    """Babel's locale for a language code; English for a code Babel does not know."""
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LANGUAGE)


def gettext_environment(
    templates: Path, translations: NullTranslations, *, keep_trailing_newline: bool = False
) -> Environment:
    """A Jinja2 environment for one language: autoescaped HTML and `{% trans %}` blocks."""
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env
