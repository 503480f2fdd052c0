"""Benchmark: build every feed from 100,000 items in SQLite, beside a bare lxml floor.

    .venv/bin/python bench/bench_feeds.py [--items 100000]

10 topics x (en, ru, all) x (Atom, RSS, JSON Feed), plus "all topics" and the HTML pages.
The floor renders the same documents' Atom and RSS with bare lxml calls and checks that its
bytes equal feedgen's, so the ratio is the price of feedgen over the same output. Figures
are ratios to the floor measured in the same run, with peak memory. Then one item changes
and the rebuild must rewrite exactly the files of the feeds that hold it.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import orjson  # noqa: F401  (the JSON writer is the same on both sides)
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cmsfeed.feeds.document import FeedDocument
from cmsfeed.feeds.jsonfeed import render_json
from cmsfeed.feeds.pages import render_feed_page
from cmsfeed.feeds.site import render_pages, rendered
from cmsfeed.feeds.syndication import render_atom, render_rss
from cmsfeed.feeds.urls import feed_path
from cmsfeed.model import Item, SiteInfo, make_item_id
from cmsfeed.publish import collect_documents, write_site
from cmsfeed.store import Store

TOPICS = [f"species-{n}" for n in range(10)]
START = datetime(2020, 1, 1, tzinfo=UTC)


def make_site() -> SiteInfo:
    return SiteInfo(
        base_url="https://feeds.example.org/",
        titles={"en": "CAMI news", "ru": "Новости CAMI"},
        descriptions={"en": "News of Central Asian mammals.", "ru": "Новости о млекопитающих."},
        languages=("en", "ru"),
        author_name="CMS CAMI",
        author_email=None,
        topic_names={t: {"en": t.title(), "ru": t.upper()} for t in TOPICS},
        authority="feeds.example.org",
        entries=50,
        ttl_minutes=60,
        hub_url="https://hub.example.org/",
    )


def make_items(count: int) -> list[Item]:
    rng = random.Random(7)
    items = []
    for n in range(count):
        language = "ru" if n % 3 == 0 else "en"
        published = START + timedelta(minutes=7 * n + rng.randint(0, 6))
        topics = tuple(sorted(set(rng.sample(TOPICS, rng.choice((1, 1, 2))))))
        group = make_item_id(f"group-{n // 2}") if n % 10 < 2 else None
        summary = "".join(
            f"<p>Paragraph {p} about {topics[0]}: rangers counted "
            f"{rng.randint(10, 9000)} animals near the river.</p>"
            for p in range(rng.randint(1, 4))
        )
        items.append(
            Item(
                id=make_item_id(f"item-{n}"),
                key=f"item-{n}",
                source_id="bench",
                title=f"Story {n} about {', '.join(topics)} & the steppe",
                summary=summary,
                language=language,
                published_at=published,
                updated_at=published,
                topics=topics,
                url=f"https://www.cms.int/{language}/news/{n}" if n % 5 else None,
                translation_group=group,
                image_url=f"https://www.cms.int/img/{n}.jpg" if n % 4 == 0 else None,
            )
        )
    return items


# -- the floor: the same Atom and RSS bytes, written with bare lxml -------------------------

MEDIA = "http://search.yahoo.com/mrss/"
DC = "http://purl.org/dc/elements/1.1/"
ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
E = etree.SubElement


def floor_atom(doc: FeedDocument) -> bytes:
    site = doc.site
    feed = etree.Element("feed", xmlns=ATOM, nsmap={"media": MEDIA, "dc": DC})
    if doc.language is not None:  # a feed of all languages: each entry says its own
        feed.set(XML_LANG, doc.language)
    E(feed, "id").text = doc.feed_id
    E(feed, "title").text = doc.title
    E(feed, "updated").text = doc.updated_at.isoformat()
    author = E(feed, "author")
    E(author, "name").text = site.author_name
    E(feed, "link", href=doc.url("atom"), rel="self", type="application/atom+xml")
    if site.hub_url:
        E(feed, "link", href=site.hub_url, rel="hub")
    E(feed, "link", href=doc.html_url, rel="alternate", type="text/html")
    E(feed, "generator").text = "cmsfeed"
    E(feed, "subtitle").text = doc.subtitle
    for entry in doc.entries:
        element = E(feed, "entry")
        E(element, "id").text = entry.id
        E(element, "title").text = entry.title
        E(element, "updated").text = entry.updated_at.isoformat()
        E(element, "content", type="html").text = entry.summary_html
        for topic, name in entry.topics:
            E(element, "category", term=topic, label=name)
        E(element, "published").text = entry.published_at.isoformat()
        element.set(XML_LANG, entry.language)
        E(
            element,
            "link",
            rel="alternate",
            type="text/html",
            hreflang=entry.language,
            href=entry.link,
        )
        for t in entry.translations:
            E(
                element,
                "link",
                rel="alternate",
                type="text/html",
                hreflang=t.language,
                href=t.url,
                title=t.title,
            )
        if entry.translations:
            E(element, "link", href=entry.link)
        if entry.image_url:
            E(element, f"{{{MEDIA}}}thumbnail", url=entry.image_url)
    return etree.tostring(
        etree.ElementTree(feed), pretty_print=True, xml_declaration=True, encoding="UTF-8"
    )


def floor_rss(doc: FeedDocument) -> bytes:
    site = doc.site
    rss = etree.Element(
        "rss",
        version="2.0",
        nsmap={
            "media": MEDIA,
            "dc": DC,
            "atom": ATOM,
            "content": "http://purl.org/rss/1.0/modules/content/",
        },
    )
    channel = E(rss, "channel")
    E(channel, "title").text = doc.title
    E(channel, "link").text = doc.html_url
    E(channel, "description").text = doc.subtitle
    E(channel, f"{{{ATOM}}}link", href=doc.url("rss"), rel="self", type="application/rss+xml")
    E(channel, "docs").text = "https://www.rssboard.org/rss-specification"
    E(channel, "generator").text = "cmsfeed"
    if doc.language is not None:
        E(channel, "language").text = doc.language
    E(channel, "lastBuildDate").text = format_datetime(doc.updated_at)
    E(channel, "ttl").text = str(site.ttl_minutes)
    if site.hub_url:
        E(channel, f"{{{ATOM}}}link", href=site.hub_url, rel="hub")
    for entry in doc.entries:
        item = E(channel, "item")
        E(item, "title").text = entry.title
        E(item, "link").text = entry.link
        if entry.summary_html:
            E(item, "description").text = entry.summary_html
        E(item, "guid", isPermaLink="false").text = entry.id
        for _topic, name in entry.topics:
            E(item, "category").text = name
        E(item, "pubDate").text = format_datetime(entry.published_at)
        E(item, f"{{{DC}}}creator").text = site.author_name
        if doc.language is None:
            E(item, f"{{{DC}}}language").text = entry.language
        if entry.image_url:
            E(item, f"{{{MEDIA}}}thumbnail", url=entry.image_url)
    return etree.tostring(
        etree.ElementTree(rss), pretty_print=True, xml_declaration=True, encoding="UTF-8"
    )


def render_all(site: SiteInfo, documents: list[FeedDocument], atom, rss) -> list:  # type: ignore[no-untyped-def]
    files = []
    for doc in documents:
        files.append(rendered(feed_path(doc.selection, "atom"), atom(doc), "atom"))
        files.append(rendered(feed_path(doc.selection, "rss"), rss(doc), "rss"))
        files.append(rendered(feed_path(doc.selection, "json"), render_json(doc), "json"))
        files.append(rendered(feed_path(doc.selection, "html"), render_feed_page(doc), "html"))
    return files + render_pages(site)


def best_of(runs: int, action):  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    site = make_site()
    with tempfile.TemporaryDirectory() as scratch:
        store = Store.open(f"sqlite:///{scratch}/bench.db")
        started = time.perf_counter()
        items = make_items(args.items)
        for start in range(0, len(items), 5000):
            store.upsert_items(items[start : start + 5000], START)
        print(f"seeded {args.items} items in {time.perf_counter() - started:.1f}s")

        collect_s, documents = best_of(args.runs, lambda: collect_documents(site, store))
        feedgen_s, files = best_of(
            args.runs, lambda: render_all(site, documents, render_atom, render_rss)
        )
        floor_s, floor_files = best_of(
            args.runs, lambda: render_all(site, documents, floor_atom, floor_rss)
        )
        mismatched = [a.path for a, b in zip(files, floor_files, strict=True) if a.body != b.body]
        assert not mismatched, f"floor bytes differ from feedgen's: {mismatched[:3]}"
        feeds = sum(1 for f in files if f.is_feed)

        def full_build(atom, rss):  # type: ignore[no-untyped-def]
            def run() -> None:
                with tempfile.TemporaryDirectory(dir=scratch) as out:
                    docs = collect_documents(site, store)
                    write_site(Path(out), render_all(site, docs, atom, rss))

            return run

        build_s, _ = best_of(args.runs, full_build(render_atom, render_rss))
        build_floor_s, _ = best_of(args.runs, full_build(floor_atom, floor_rss))

        outdir = Path(scratch) / "site"
        write_site(outdir, files)
        store.record_hashes({f.path: f.content_hash for f in files}, START, complete=True)
        changed = Item(
            id=make_item_id("new"),
            key="new",
            source_id="bench",
            title="One more",
            summary="<p>New.</p>",
            language="ru",
            topics=("species-3",),
            published_at=items[-1].published_at + timedelta(minutes=1),
            updated_at=items[-1].published_at + timedelta(minutes=1),
            url="https://www.cms.int/ru/news/new",
        )
        store.upsert_items([changed], START + timedelta(days=1))
        started = time.perf_counter()
        again = render_all(site, collect_documents(site, store), render_atom, render_rss)
        report = write_site(outdir, again)
        recorded = store.record_hashes(
            {f.path: f.content_hash for f in again}, START + timedelta(days=1), complete=True
        )
        rebuild_s = time.perf_counter() - started
        expected = {
            f"feeds/{topic}/{language}.{fmt}"
            for topic in ("species-3", "all")
            for language in ("ru", "all")
            for fmt in ("atom", "rss", "json", "html")
        }
        assert set(report.written) == expected == set(recorded.changed), report.written
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"{feeds} feeds ({len(files)} files incl. HTML pages and OPML) from {args.items} items,"
        f" best of {args.runs}"
    )
    print(f"  store queries (both sides)      {collect_s:7.3f}s")
    print(f"  render, feedgen                 {feedgen_s:7.3f}s")
    print(f"  render, bare lxml floor         {floor_s:7.3f}s   (same bytes: checked)")
    print(f"  render ratio                    {feedgen_s / floor_s:7.2f}x")
    print(f"  full build (query+render+write) {build_s:7.3f}s")
    print(f"  full build, floor               {build_floor_s:7.3f}s")
    print(f"  full build ratio                {build_s / build_floor_s:7.2f}x   (target <= 1.30x)")
    print(
        f"  one-item change: {len(report.written)} files rewritten "
        f"({len(report.unchanged)} unchanged), {len(recorded.changed)} recorded as changed, "
        f"{rebuild_s:.3f}s"
    )
    print(f"  peak memory                     {peak_mib:7.1f} MiB")


if __name__ == "__main__":
    main()
