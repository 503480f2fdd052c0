"""Helpers shared by the language tests: the identifier, a bare preparer, source files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cmsfeed.classify import LanguageIdentifier, TopicMatcher
from cmsfeed.config import Config, SelectorsConfig
from cmsfeed.ingest.prepare import StoryPreparer
from cmsfeed.ingest.run import Ingester, ParseOptions, SourceReport, parse_bytes
from cmsfeed.model import Item
from cmsfeed.store import Store

DATA = Path(__file__).resolve().parents[1] / "data" / "languages"
SELECTORS = SelectorsConfig(
    item="article.news-item", title="h3 a", link="h3 a", summary="div.teaser", date="span.date"
)
PLACES = ["Almaty", "Betpak-Dala", "Ustyurt", "Irgiz", "Kalmykia"]


@cache
def identifier() -> LanguageIdentifier:
    """An English and Russian site's identifier (built once: its models are large)."""
    return LanguageIdentifier(["en", "ru"])


@cache
def bare_preparer() -> StoryPreparer:
    """A preparer for an English and Russian site with no topics."""
    return StoryPreparer("prop", identifier(), TopicMatcher([]), "en", frozenset())


def ingest_file(
    config: Config, store: Store, clock, name: str, kind: str, source_id: str = "test"
) -> SourceReport:
    """Parse, prepare and store one file of tests/data/languages/ as `kind`."""
    options = ParseOptions(
        locales=("en", "ru"), page_url="https://news.example.org/", selectors=SELECTORS
    )
    parsed = parse_bytes(kind, (DATA / name).read_bytes(), source_id, options)  # type: ignore[arg-type]
    report = SourceReport(source_id)
    Ingester(config, store, clock).store_stories(source_id, parsed, report)
    return report


def pairs(store: Store) -> list[tuple[Item, Item]]:
    """The stored items as (English, Russian) translation pairs."""
    items = {item.id: item for item in store.list_items()}
    found = []
    for item in items.values():
        if item.language == "en" and item.translations:
            [other] = item.translations
            found.append((item, items[other]))
    return found
