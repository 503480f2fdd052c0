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
    """The catalog of `language`: the one in `locale_dir` (a site's own, when it has one), which
    falls back to the bundled one in `locale/` for messages it lacks; without any catalog, the
    English messages themselves (a NullTranslations)."""
    bundled = Translations.load(str(LOCALES), [language], DOMAIN)
    if locale_dir is None:
        return bundled
    own = Translations.load(str(locale_dir), [language], DOMAIN)
    if not isinstance(own, Translations):
        return bundled
    own.add_fallback(bundled)
    return own


def language_name(code: str, interface: str, *, capitalized: bool = True) -> str:
    """The name of a language in the interface language ("Русский", "English", "Английский").

    Not `capitalized`, it is written as Babel writes it inside a sentence ("английский",
    "Deutsch"): which languages capitalize their names is Babel's knowledge, not ours.
    """
    try:
        name: str | None = babel_locale(interface).languages.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    if not name:
        return code
    return name[:1].upper() + name[1:] if capitalized else name


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
        auto_reload=False,  # templates are package data: no need to look at them on each render
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env
