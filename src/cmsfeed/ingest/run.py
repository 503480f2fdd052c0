"""One ingest: fetch, parse, prepare and store every source. Does I/O through what it is given.

A failing source is reported and the others go on; a bad story is reported and the good
ones are stored. Items are written in batches, so memory does not grow with a source's size.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from functools import cached_property
from itertools import chain, islice
from zoneinfo import ZoneInfo

import httpx

from cmsfeed import __version__
from cmsfeed.classify import LanguageIdentifier, TopicMatcher
from cmsfeed.config import Config, SourceConfig, SourceKind
from cmsfeed.errors import SourceError
from cmsfeed.identity import story_digest
from cmsfeed.ingest.feed import parse_feed
from cmsfeed.ingest.fetch import fetch_source, http_client
from cmsfeed.ingest.html_page import Selectors, parse_html_page
from cmsfeed.ingest.json_items import parse_json_items
from cmsfeed.ingest.ledger import FetchLedger, digests
from cmsfeed.ingest.listing import parse_listing
from cmsfeed.ingest.parallel import (
    Prepared,
    classifiers_for,
    prepare_batch,
    prepare_in_pool,
    preparer_for,
)
from cmsfeed.ingest.prepare import StoryPreparer, skipped_language
from cmsfeed.metrics import record_ingest
from cmsfeed.model import Clock, ParseResult, Problem, Story
from cmsfeed.store import Store, UpsertCounts

# A source with more batches than this is prepared in worker processes; starting them costs
# about a second (each loads the language models), which a smaller source would not repay.
POOL_AFTER_BATCHES = 4

# Called as (source id, stories done, stories in the source) while a source is stored.
Progress = Callable[[str, int, int], None]


@dataclass
class SourceReport:
    source_id: str
    stories: int = 0
    skipped: int = 0  # stories stored unchanged, not prepared again (their digest matched)
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    problems: list[Problem] = field(default_factory=list)
    failure: str | None = None
    not_modified: bool = False
    # Items stored in, and stories left out for, a language outside site.languages, by code.
    other_languages: Counter[str] = field(default_factory=Counter)
    skipped_languages: Counter[str] = field(default_factory=Counter)

    @property
    def rejected(self) -> int:
        return sum(1 for problem in self.problems if problem.rejected)

    @property
    def warnings(self) -> int:
        return sum(1 for problem in self.problems if not problem.rejected)


@dataclass
class IngestReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def counts(self) -> UpsertCounts:
        total = UpsertCounts()
        for source in self.sources:
            total += source.counts
        return total

    @property
    def problems(self) -> list[Problem]:
        return [problem for source in self.sources for problem in source.problems]

    @property
    def rejected(self) -> int:
        return sum(source.rejected for source in self.sources)

    @property
    def failed_sources(self) -> list[SourceReport]:
        return [source for source in self.sources if source.failure is not None]

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed_sources


class Ingester:
    """Holds what is costly to build once per process: the language models and term index."""

    def __init__(
        self, config: Config, store: Store, clock: Clock, client: httpx.Client | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._client = client

    @cached_property
    def _classifiers(self) -> tuple[LanguageIdentifier, TopicMatcher]:
        return classifiers_for(self.config)

    @property
    def identifier(self) -> LanguageIdentifier:
        return self._classifiers[0]

    @property
    def matcher(self) -> TopicMatcher:
        return self._classifiers[1]

    @cached_property
    def client(self) -> httpx.Client:
        return self._client or http_client(
            self.config.ingest.timeout_seconds, self.config.ingest.user_agent
        )

    def ingest(
        self, source_ids: Sequence[str] | None = None, progress: Progress | None = None
    ) -> IngestReport:
        sources = (
            [self.config.source(s) for s in source_ids]
            if source_ids
            else [s for s in self.config.sources if s.enabled]
        )
        report = IngestReport([self.ingest_source(source, progress) for source in sources])
        for source in report.sources:
            counts = source.counts
            record_ingest(
                source.source_id,
                counts.inserted,
                counts.updated,
                counts.retagged,
                source.rejected,
                source.failure is not None,
            )
        return report

    def ingest_source(self, source: SourceConfig, progress: Progress | None = None) -> SourceReport:
        report = SourceReport(source.id)
        state = self.store.source_state(source.id)
        try:
            fetched = fetch_source(source, state, self.client, self.clock())
            if fetched.data is None:
                report.not_modified = True
                self.store.save_source_state(fetched.state)
                return report
            options = options_for(source, self.config.site.languages, page_url=fetched.url)
            parsed = parse_bytes(source.kind, fetched.data, source.id, options)
        except SourceError as err:
            report.failure = err.problem
            # The validators are kept: a source that failed must be fetched in full next time
            # only if it changed, and the old ETag still says what we hold.
            self.store.save_source_state(
                replace(state, checked_at=self.clock(), last_error=err.problem)
            )
            return report
        self.store_stories(source.id, parsed, report, progress, language=source.language)
        self.store.save_source_state(fetched.state)
        return report

    def preparer(self, source_id: str, language: str | None = None) -> StoryPreparer:
        return preparer_for(self.config, source_id, language, self.identifier, self.matcher)

    def store_stories(
        self,
        source_id: str,
        parsed: ParseResult,
        report: SourceReport,
        progress: Progress | None = None,
        language: str | None = None,
    ) -> None:
        """Prepare and store parsed stories in batches, adding counts and problems to `report`."""
        report.problems.extend(parsed.problems)
        self.store_story_stream(
            source_id, parsed.stories, report, progress, language, total=len(parsed.stories)
        )

    def store_story_stream(
        self,
        source_id: str,
        stories: Iterable[Story],
        report: SourceReport,
        progress: Progress | None = None,
        language: str | None = None,
        total: int = 0,
    ) -> None:
        """Like `store_stories` for a stream: only a few batches are in memory at a time.

        Each story is first screened (`FetchLedger`): a repeat within the fetch is reported,
        and a story stored with the same digest is counted unchanged without being prepared
        again. Stories without id or URL that may be edits of stored ones are settled by the
        store at the end, when the whole fetch has been seen.
        """
        ledger = FetchLedger(source_id, settings_digest(self.config, language))
        site_languages = set(self.config.site.languages)
        writer = self.store.writer(self.clock())

        def to_prepare() -> Iterator[list[Story]]:
            for batch in _batches(stories, self.config.ingest.batch_size):
                report.stories += len(batch)
                kept, problems = ledger.screen(batch)
                report.problems.extend(problems)
                unchanged, counts = writer.skip_unchanged(digests(kept))
                report.counts += counts
                report.skipped += len(unchanged)
                remaining = [s.story for s in kept if s.key is None or s.key not in unchanged]
                if remaining:
                    yield remaining
                elif progress is not None:
                    progress(source_id, report.stories, max(total, report.stories))

        for _count, items, problems in self._prepare(source_id, language, to_prepare()):
            report.problems.extend(problems)
            report.other_languages.update(
                item.language for item in items if item.language not in site_languages
            )
            report.skipped_languages.update(filter(None, map(skipped_language, problems)))
            report.counts += writer.write(
                [replace(item, story_hash=ledger.digest_of(item.story_key)) for item in items]
            )
            if progress is not None:
                progress(source_id, report.stories, max(total, report.stories))
        report.counts += writer.finish()
        report.problems.extend(
            ledger.reidentified(found.story_key, found.item_id, found.old_title)
            for found in writer.reidentified
        )
        report.problems.extend(
            ledger.ambiguous(found.story_key, found.item_ids) for found in writer.ambiguous
        )

    def _prepare(
        self, source_id: str, language: str | None, batches: Iterable[list[Story]]
    ) -> Iterator[Prepared]:
        """Prepared batches in order: here for a small source, in worker processes for a big one."""
        batches = iter(batches)
        head = list(islice(batches, POOL_AFTER_BATCHES))
        workers = self.config.ingest.workers
        if len(head) < POOL_AFTER_BATCHES or workers < 2:
            preparer = self.preparer(source_id, language)
            for batch in chain(head, batches):
                yield prepare_batch(preparer, batch)
            return
        yield from prepare_in_pool(self.config, source_id, language, chain(head, batches), workers)


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """How to read one source's bytes; defaults suit a file imported by hand."""

    locales: tuple[str, ...] = ("en",)
    zone: tzinfo = UTC
    date_format: str | None = None
    page_url: str | None = None
    selectors: Selectors | None = None


def options_for(
    source: SourceConfig, site_languages: Sequence[str], page_url: str | None = None
) -> ParseOptions:
    locales = ([source.date_locale] if source.date_locale else []) + list(site_languages)
    return ParseOptions(
        locales=tuple(dict.fromkeys(locales)),
        zone=ZoneInfo(source.timezone),
        date_format=source.date_format,
        page_url=page_url or source.url,
        selectors=Selectors(**source.selectors.model_dump()) if source.selectors else None,
    )


def parse_bytes(
    kind: SourceKind, data: bytes, source_id: str, options: ParseOptions
) -> ParseResult:
    """Parse a source's bytes according to its kind. Pure."""
    if kind == "listing":
        return parse_listing(
            data,
            source_id,
            locales=options.locales,
            zone=options.zone,
            date_format=options.date_format,
        )
    if kind == "json":
        return parse_json_items(data, source_id, locales=options.locales, zone=options.zone)
    if kind == "feed":
        return parse_feed(data, source_id, feed_url=options.page_url, locales=options.locales)
    if options.selectors is None:
        raise SourceError(source_id, "an html source needs [sources.selectors]")
    return parse_html_page(
        data,
        source_id,
        options.selectors,
        page_url=options.page_url,
        locales=options.locales,
        zone=options.zone,
        date_format=options.date_format,
    )


def settings_digest(config: Config, language: str | None) -> str:
    """A digest of what, besides a story, decides its items: a change means tagging again."""
    ingest = config.ingest.model_dump(
        mode="json",
        exclude={"workers", "batch_size", "interval_minutes", "timeout_seconds", "user_agent"},
    )
    decisive = [
        __version__,
        config.site.languages,
        language,
        ingest,
        [topic.model_dump(mode="json") for topic in config.topics],
    ]
    return story_digest([json.dumps(decisive, sort_keys=True, ensure_ascii=False)])


def _batches(stories: Iterable[Story], size: int) -> Iterator[list[Story]]:
    iterator = iter(stories)
    while batch := list(islice(iterator, size)):
        yield batch
