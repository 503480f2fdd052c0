"""Preparing stories on every core. Starts worker processes; the work they do is pure.

Language identification and tagging cost far more than storing, and they are CPU-bound, so
a large source is prepared by a pool of worker processes (each loads its own language models
once) while this process writes the previous batch. Results come back in order, and at most
two batches per worker are in flight, so memory stays flat however long the source is.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from functools import cache

from cmsfeed.classify import LanguageIdentifier, TopicMatcher
from cmsfeed.config import Config
from cmsfeed.ingest.prepare import StoryPreparer
from cmsfeed.model import Item, Problem, Story

Prepared = tuple[int, list[Item], list[Problem]]  # (stories in the batch, items, problems)

_worker_config: Config | None = None


def classifiers_for(config: Config) -> tuple[LanguageIdentifier, TopicMatcher]:
    """The language models and the term index: costly, so built once per process."""
    identifier = LanguageIdentifier(config.site.languages)
    identifier.load()
    return identifier, TopicMatcher([topic.definition() for topic in config.topics])


def preparer_for(
    config: Config,
    source_id: str,
    language: str | None,
    identifier: LanguageIdentifier,
    matcher: TopicMatcher,
) -> StoryPreparer:
    return StoryPreparer(
        source_id=source_id,
        identifier=identifier,
        matcher=matcher,
        default_language=language or config.site.default_language,
        known_topics=frozenset(config.topic_ids()),
        max_summary_bytes=config.ingest.max_summary_bytes,
        declared_language=language,
        keep_other_languages=config.ingest.other_languages == "keep",
    )


def prepare_batch(preparer: StoryPreparer, batch: list[Story]) -> Prepared:
    items: list[Item] = []
    problems: list[Problem] = []
    for prepared, found in preparer.prepare_many(batch):
        items.extend(prepared)
        problems.extend(found)
    return len(batch), items, problems


def prepare_in_pool(
    config: Config,
    source_id: str,
    language: str | None,
    batches: Iterable[list[Story]],
    workers: int,
) -> Iterator[Prepared]:
    # "spawn": `cmsfeed run` has threads (the web server, the scheduler), and forking a
    # threaded process can copy a held lock into the child.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(config,)
    ) as pool:
        pending: deque[Future[Prepared]] = deque()
        for batch in batches:
            pending.append(pool.submit(_prepare_in_worker, source_id, language, batch))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _start_worker(config: Config) -> None:
    global _worker_config
    _worker_config = config


@cache
def _worker_models() -> tuple[LanguageIdentifier, TopicMatcher]:
    assert _worker_config is not None
    return classifiers_for(_worker_config)


def _prepare_in_worker(source_id: str, language: str | None, batch: list[Story]) -> Prepared:
    assert _worker_config is not None
    identifier, matcher = _worker_models()
    return prepare_batch(
        preparer_for(_worker_config, source_id, language, identifier, matcher), batch
    )
