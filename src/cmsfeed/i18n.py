"""Languages: Babel locales, the gettext catalogs and the Jinja2 templates of emails and pages.

Every word a reader sees (feed pages, OPML, feed titles, emails, sign-up pages) is an English
gettext message translated by the catalog `cmsfeed` in `locale/<language>/LC_MESSAGES/`; a
language without a catalog, or a message its catalog lacks, gets the English words. Adding a
language is adding its catalog (see `locale/README.md`) and naming it in `site.languages`:
no code changes. Templates live under `templates/` (`email/` and `web/`).

Pure apart from reading catalogs and templates (package data), each once per language.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, Undefined, select_autoescape

PACKAGE = Path(__file__).resolve().parent
TEMPLATES = PACKAGE / "templates"  # email/ and web/
LOCALES = PACKAGE / "locale"
DOMAIN = "cmsfeed"
FALLBACK_LANGUAGE = "en"


def babel_locale(language: str) -> Locale:
    """Babel's locale for a language code; English for a code Babel does not know."""
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LANGUAGE)


@cache
def translations(language: str, locale_dir: Path | None = None) -> NullTranslations:
    """The catalog of `language` in `locale_dir` (default: the bundled `locale/`).

    Without one, the English messages themselves (a NullTranslations).
    """
    return Translations.load(str(locale_dir or LOCALES), [language], DOMAIN)


def language_name(code: str, interface: str) -> str:
    """The name of a language in the interface language ("Русский", "English", "Английский")."""
    try:
        name = babel_locale(interface).languages.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return (name[:1].upper() + name[1:]) if name else code


def gettext_environment(
    templates: Path,
    translations: NullTranslations,
    *,
    keep_trailing_newline: bool = False,
    trim_blocks: bool = True,
    undefined: type[Undefined] = Undefined,
) -> Environment:
    """A Jinja2 environment for one language: autoescaped HTML, `_()` and `{% trans %}`.

    `trim_blocks` removes the whitespace around block tags (emails, sign-up pages); the feed
    pages keep it as written, so that their bytes stay as they were.
    """
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=trim_blocks,
        lstrip_blocks=trim_blocks,
        keep_trailing_newline=keep_trailing_newline,
        undefined=undefined,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env
