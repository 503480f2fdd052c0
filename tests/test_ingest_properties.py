"""Ingest by property, for every source kind: N distinct stories in, N items out; the same
input twice changes nothing; one bad story costs only itself.

Each example is real bytes in the source's format, read by its parser and stored through the
real ingest (language identification, tagging, the store on SQLite and PostgreSQL). Stories
are distinct as their source tells them apart: by id, by URL, or (with neither) by day and
title. Examples share one store and differ by source id.
"""

from __future__ import annotations

import html
import itertools
import json
from datetime import date, datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsfeed.ingest.html_page import Selectors
from cmsfeed.ingest.run import Ingester, ParseOptions, SourceReport, parse_bytes
from cmsfeed.store import Store

PLACES = ["Almaty", "Bukhara", "the Altai", "Ustyurt", "the Gobi", "Betpak-Dala", "Naryn"]
ANIMALS = ["saigas", "kulans", "argali", "snow leopards", "goitered gazelles", "Bukhara deer"]
SENTENCES = [
    "Rangers counted the animals from the air over three days.",
    "The survey was carried out with the help of local volunteers.",
    "Experts say that the numbers have grown since hunting was banned.",
    "Fences along the railway still cut the migration routes in winter.",
    "The results will be presented at the next meeting of the range states.",
]
SELECTORS = Selectors(item="article", title="h2", date="time", link="h2 a", summary="div.text")
LOCAL = ZoneInfo("Asia/Almaty")
_sources = itertools.count()


@st.composite
def distinct_stories(draw: st.DrawFn) -> list[dict[str, object]]:
    """Stories whose titles differ in words (not only case or punctuation)."""
    subjects = draw(
        st.lists(
            st.tuples(st.integers(2, 5000), st.sampled_from(ANIMALS), st.sampled_from(PLACES)),
            min_size=1,
            max_size=10,
            unique_by=lambda subject: subject[0],
        )
    )
    stories = []
    for number, (count, animal, place) in enumerate(subjects):
        stories.append(
            {
                "title": f"Rangers count {count} {animal} near {place}",
                "paragraphs": draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3)),
                "day": draw(st.dates(date(2015, 1, 1), date(2025, 12, 31))),
                "id": f"story-{number}" if draw(st.booleans()) else None,
                "url": f"https://news.example.org/{count}" if draw(st.booleans()) else None,
            }
        )
    return stories


def as_listing(stories: list[dict[str, object]]) -> bytes:
    blocks = []
    for story in stories:
        day = story["day"]
        written = day.strftime("%d %B %Y") if isinstance(day, date) else "31 February 2024"
        paragraphs = "\n\n".join(story["paragraphs"])  # type: ignore[arg-type]
        blocks.append(f"{story['title']}\n\n{paragraphs}\n\n{written}\n")
    return "\n".join(blocks).encode()


def as_html(stories: list[dict[str, object]]) -> bytes:
    articles = []
    for story in stories:
        title = html.escape(str(story["title"]))
        heading = f'<a href="{story["url"]}">{title}</a>' if story["url"] else title
        text = "".join(f"<p>{html.escape(p)}</p>" for p in story["paragraphs"])  # type: ignore[attr-defined]
        articles.append(
            f"<article><h2>{heading}</h2><time>{story['day'] or '2024-02-31'}</time>"
            f'<div class="text">{text}</div></article>'
        )
    return f"<html><body><main>{''.join(articles)}</main></body></html>".encode()


def as_rss(stories: list[dict[str, object]]) -> bytes:
    items = []
    for story in stories:
        day = story["day"]
        published = (
            format_datetime(datetime(day.year, day.month, day.day, 9, tzinfo=LOCAL))
            if isinstance(day, date)
            else "Sat, 31 Feb 2024 09:00:00 +0000"
        )
        text = "".join(f"<p>{p}</p>" for p in story["paragraphs"])  # type: ignore[attr-defined]
        guid = f'<guid isPermaLink="false">{story["id"]}</guid>' if story["id"] else ""
        link = f"<link>{story['url']}</link>" if story["url"] else ""
        items.append(
            f"<item><title>{html.escape(str(story['title']))}</title>{link}{guid}"
            f"<pubDate>{published}</pubDate><description>{html.escape(text)}</description></item>"
        )
    channel = f"<channel><title>News</title>{''.join(items)}</channel>"
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0">{channel}</rss>'.encode()


def as_json(stories: list[dict[str, object]]) -> bytes:
    objects = []
    for story in stories:
        value = {
            "title": story["title"],
            "summary": "".join(f"<p>{p}</p>" for p in story["paragraphs"]),  # type: ignore[attr-defined]
            "published": str(story["day"] or "2024-02-31"),
        }
        value.update({name: story[name] for name in ("id", "url") if story[name]})
        objects.append(json.dumps(value))
    return ("\n".join(objects) + "\n").encode()


RENDER = {"listing": as_listing, "html": as_html, "feed": as_rss, "json": as_json}


@pytest.fixture
def ingester(make_config, store: Store, clock) -> Ingester:
    return Ingester(make_config(sources=""), store, clock)


def ingest_once(ingester: Ingester, kind: str, source_id: str, data: bytes) -> SourceReport:
    options = ParseOptions(locales=("en", "ru"), selectors=SELECTORS)
    report = SourceReport(source_id)
    ingester.store_stories(source_id, parse_bytes(kind, data, source_id, options), report)  # type: ignore[arg-type]
    return report


@pytest.mark.parametrize("kind", sorted(RENDER))
@given(stories=distinct_stories())
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_n_distinct_stories_in_n_items_out_and_twice_changes_nothing(
    ingester: Ingester, store: Store, kind: str, stories: list[dict[str, object]]
) -> None:
    if kind == "listing":  # a listing has no ids or URLs: its stories are known by day and title
        stories = [{**story, "id": None, "url": None} for story in stories]
    if kind == "html":  # a page gives links, never ids
        stories = [{**story, "id": None} for story in stories]
    source_id = f"{kind}-{next(_sources)}"
    data = RENDER[kind](stories)
    first = ingest_once(ingester, kind, source_id, data)
    assert [str(p) for p in first.problems] == []
    stored = [item for item in store.list_items() if item.source_id == source_id]
    assert len(stored) == first.counts.inserted == len(stories)
    assert sorted(item.title for item in stored) == sorted(str(s["title"]) for s in stories)
    assert sorted(item.published_at.date() for item in stored) == sorted(
        story["day"]  # type: ignore[misc]
        for story in stories
    )

    again = ingest_once(ingester, kind, source_id, data)
    assert [str(p) for p in again.problems] == []
    assert (again.counts.changed, again.counts.unchanged, again.skipped) == (
        0,
        len(stories),
        len(stories),
    )
    assert [item for item in store.list_items() if item.source_id == source_id] == stored


@pytest.mark.parametrize("kind", sorted(RENDER))
@given(stories=distinct_stories(), bad_at=st.integers(0, 10))
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_one_story_with_a_bad_date_costs_only_itself(
    ingester: Ingester, store: Store, kind: str, stories: list[dict[str, object]], bad_at: int
) -> None:
    stories = [{**story, "id": None} for story in stories]  # no two share a made-up id
    bad = {"title": "A day that never was", "paragraphs": [SENTENCES[0]], "day": None}
    bad_at = min(bad_at, len(stories))
    source_id = f"{kind}-bad-{next(_sources)}"
    report = ingest_once(
        ingester,
        kind,
        source_id,
        RENDER[kind]([*stories[:bad_at], {**bad, "id": None, "url": None}, *stories[bad_at:]]),
    )
    [problem] = report.problems
    assert problem.rejected and "date" in problem.reason and problem.position
    stored = [item for item in store.list_items() if item.source_id == source_id]
    assert sorted(item.title for item in stored) == sorted(str(s["title"]) for s in stories)
