"""What makes two stories one item: own id, else canonical URL, else fingerprint; edits of
fingerprinted stories found through an index; nothing merged, dropped or relabelled.

Real files through the real ingest on SQLite and PostgreSQL (`store_url`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from cmsfeed.identity import canonical_url, fingerprint, identify_story
from cmsfeed.ingest.run import Ingester, SourceReport
from cmsfeed.model import Item, make_item_id
from cmsfeed.store import Store, migrate
from cmsfeed.store.schema import items

PLACES = [
    "Almaty",
    "Bukhara",
    "the Altai",
    "Karakalpakstan",
    "the Gobi",
    "Ustyurt",
    "Betpak-Dala",
    "Talas",
    "Naryn",
    "Khujand",
]
DAY0 = datetime(2024, 5, 1, tzinfo=UTC)
FIXED_AT = datetime(2026, 11, 23, 9, tzinfo=UTC)


def json_source(tmp_path: Path, rows: list[dict[str, str]], name: str = "news") -> str:
    (tmp_path / f"{name}.jsonl").write_text(
        "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8"
    )
    return f'[[sources]]\nid = "{name}"\nkind = "json"\npath = "{name}.jsonl"\n'


def alike_story(number: int, **fields: str) -> dict[str, str]:
    """One template, ten places, 28 days: stories as alike as a busy news desk writes them."""
    place = PLACES[number % 10]
    day = DAY0 + timedelta(days=number % 28)
    return {
        "title": f"Rangers count saigas near {place}",
        "summary": f"<p>Rangers counted saigas near {place} this week; the count goes on.</p>",
        "published": day.date().isoformat(),
        **fields,
    }


def problems_of(report: SourceReport) -> list[str]:
    return [str(problem) for problem in report.problems]


# -- pure -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, canonical",
    [
        ("https://Example.org/news/1", "https://example.org/news/1"),
        ("HTTPS://example.org:443/news/1#comments", "https://example.org/news/1"),
        ("http://example.org:8080/a?utm_source=rss&id=5", "http://example.org:8080/a?id=5"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/a?fbclid=x&gclid=y", "https://example.org/a"),
        ("https://example.org/A/b?Q=1", "https://example.org/A/b?Q=1"),  # paths keep case
        (" https://[::1]:8443/x ", "https://[::1]:8443/x"),
        ("https://example.org:bad/x#y", "https://example.org:bad/x"),
        ("urn:uuid:1234#x", "urn:uuid:1234"),
    ],
)
def test_canonical_urls(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_identity_is_own_id_then_url_then_fingerprint() -> None:
    at = datetime(2024, 5, 3, 9, tzinfo=UTC)
    both = identify_story("s", own_id="42", url="https://e.org/1", title="T", published_at=at)
    assert (both.key, both.kind) == ("s|42", "id")
    by_url = identify_story("s", own_id=None, url="https://E.org/1#x", title="T", published_at=at)
    assert (by_url.key, by_url.kind) == ("s|https://e.org/1", "url")
    printed = identify_story("s", own_id=" ", url="", title="Saiga: 5 Calves!", published_at=at)
    assert (printed.key, printed.kind) == ("s:2024-05-03:saiga-5-calves", "fingerprint")
    assert fingerprint("s", at, "SAIGA 5 calves") == printed.key  # case and punctuation


# -- volume and variety -----------------------------------------------------------------------


def test_3000_alike_json_stories_with_their_own_ids_are_3000_items(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    rows = [alike_story(n, id=f"s-{n}", url=f"https://news.example.org/{n}") for n in range(3000)]
    config = make_config(sources=json_source(tmp_path, rows))
    [first] = Ingester(config, store, clock).ingest().sources
    assert (first.stories, first.counts.inserted, first.counts.updated) == (3000, 3000, 0)
    assert problems_of(first) == []
    assert store.count_items() == 3000
    assert {item.id for item in store.list_items()} == {
        make_item_id(f"news|s-{n}") for n in range(3000)
    }
    clock.now += timedelta(hours=1)
    [again] = Ingester(config, store, clock).ingest().sources
    assert again.counts == type(again.counts)(unchanged=3000)
    assert again.skipped == 3000  # compared by digest: not tagged again
    assert problems_of(again) == []


def test_400_rss_items_fed_in_two_halves_are_400_items(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    def rss(numbers: range) -> str:
        entries = "".join(
            f"<item><title>Saiga numbers grow in {PLACES[n % 10]}</title>"
            f"<link>https://acbk.example.org/news?page=1</link>"  # one link for all: a bad feed
            f'<guid isPermaLink="false">acbk-{n}</guid>'
            f"<pubDate>Fri, 03 May 2024 09:30:00 +0500</pubDate>"
            f"<description>The aerial survey counted more saigas.</description></item>"
            for n in numbers
        )
        channel = f"<channel><title>t</title>{entries}</channel>"
        return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'

    (tmp_path / "feed.rss").write_text(rss(range(200)), encoding="utf-8")
    config = make_config(sources='[[sources]]\nid = "acbk"\nkind = "feed"\npath = "feed.rss"\n')
    [first] = Ingester(config, store, clock).ingest().sources
    (tmp_path / "feed.rss").write_text(rss(range(200, 400)), encoding="utf-8")
    [second] = Ingester(config, store, clock).ingest().sources
    assert (first.counts.inserted, second.counts.inserted, second.counts.updated) == (200, 200, 0)
    assert store.count_items() == 400
    assert problems_of(first) == problems_of(second) == []


def test_stories_with_different_urls_are_never_one_item(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    rows = [alike_story(0, url=f"https://news.example.org/{n}") for n in range(50)]
    config = make_config(sources=json_source(tmp_path, rows))
    [report] = Ingester(config, store, clock).ingest().sources
    assert report.counts.inserted == 50 and store.count_items() == 50


def test_a_url_with_tracking_parameters_is_the_same_story(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    config = make_config(
        sources=json_source(tmp_path, [alike_story(0, url="https://e.org/saiga?utm_source=rss")])
    )
    Ingester(config, store, clock).ingest()
    json_source(tmp_path, [alike_story(0, url="https://E.org/saiga#top")])
    [again] = Ingester(config, store, clock).ingest().sources
    assert again.counts.inserted == 0 and store.count_items() == 1
    assert store.list_items()[0].url == "https://E.org/saiga#top"  # the link as the source gave it


# -- edits ------------------------------------------------------------------------------------


def test_an_edit_with_the_same_id_updates_in_place_with_a_new_updated_time(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    config = make_config(sources=json_source(tmp_path, [alike_story(3, id="a")]))
    Ingester(config, store, clock).ingest()
    [before] = store.list_items()
    json_source(tmp_path, [alike_story(3, id="a", title="Rangers count 900 saigas near Ustyurt")])
    clock.now += timedelta(days=1)
    [report] = Ingester(config, store, clock).ingest().sources
    assert (report.counts.updated, report.counts.inserted) == (1, 0)
    [after] = store.list_items()
    assert after.id == before.id and after.title == "Rangers count 900 saigas near Ustyurt"
    assert after.updated_at == clock.now > before.updated_at


def listing(*stories: tuple[str, str, str]) -> str:
    return "".join(f"{title}\n\n{summary}\n\n{day}\n\n" for title, summary, day in stories)


SAIGA = ("Saiga calvs counted in Betpak-Dala", "Rangers counted 900 calves.", "03 May 2024")
KULAN = ("Kulans return to the steppe", "Twenty kulans were released.", "03 May 2024")
FIXED = ("Saiga calves counted in Betpak-Dala", "Rangers counted 900 calves.", "03 May 2024")


def listing_config(tmp_path: Path, make_config, text: str):
    (tmp_path / "news.txt").write_text(text, encoding="utf-8")
    return make_config(sources='[[sources]]\nid = "news"\nkind = "listing"\npath = "news.txt"\n')


def test_a_fixed_typo_in_a_story_without_id_or_url_keeps_its_id_and_is_reported(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    config = listing_config(tmp_path, make_config, listing(SAIGA, KULAN))
    Ingester(config, store, clock).ingest()
    [saiga] = [i for i in store.list_items() if i.title == SAIGA[0]]
    (tmp_path / "news.txt").write_text(listing(FIXED, KULAN), encoding="utf-8")
    clock.now += timedelta(days=1)
    [report] = Ingester(config, store, clock).ingest().sources
    assert (report.counts.inserted, report.counts.updated, report.counts.unchanged) == (0, 1, 1)
    assert problems_of(report) == [
        f"news: line 1: warning: taken for an edit of item {saiga.id} of the same day "
        f"(was {SAIGA[0]!r}): the story has no id or URL and its title changed"
    ]
    after = store.get_item(saiga.id)
    assert after.title == FIXED[0] and after.updated_at == clock.now
    assert store.count_items() == 2
    [settled] = Ingester(config, store, clock).ingest().sources  # found by its new key now
    assert settled.counts.changed == 0 and problems_of(settled) == []


def test_two_stories_of_one_file_are_never_joined(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    config = listing_config(tmp_path, make_config, listing(SAIGA))
    Ingester(config, store, clock).ingest()
    # The stored story is in the file, so the one alike it is another story, not its edit.
    (tmp_path / "news.txt").write_text(listing(FIXED, SAIGA), encoding="utf-8")
    [report] = Ingester(config, store, clock).ingest().sources
    assert (report.counts.inserted, report.counts.updated) == (1, 0)
    assert problems_of(report) == []
    assert sorted(i.title for i in store.list_items()) == sorted([FIXED[0], SAIGA[0]])


def test_a_story_alike_two_stored_ones_is_stored_as_new_and_reported(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    first = ("Saiga calves counted in Ustyurt", "Rangers counted calves.", "03 May 2024")
    second = ("Saiga calves counted in Altai", "Rangers counted calves.", "03 May 2024")
    config = listing_config(tmp_path, make_config, listing(first, second))
    Ingester(config, store, clock).ingest()
    ids = sorted(i.id for i in store.list_items())
    edited = ("Saiga calves counted in Gobi", "Rangers counted calves.", "03 May 2024")
    (tmp_path / "news.txt").write_text(listing(edited), encoding="utf-8")
    [report] = Ingester(config, store, clock).ingest().sources
    assert report.counts.inserted == 1 and store.count_items() == 3
    assert problems_of(report) == [
        f"news: line 1: warning: stored as a new item, though it is alike stored item(s) "
        f"{', '.join(ids)} of the same day: which one it may be an edit of is ambiguous"
    ]


def test_a_story_repeated_in_one_fetch_is_stored_once_and_a_conflicting_one_rejected(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    rows = [
        alike_story(1, id="a"),
        alike_story(2, id="b"),
        alike_story(1, id="a"),
        alike_story(2, id="b", title="Another title"),
    ]
    config = make_config(sources=json_source(tmp_path, rows))
    [report] = Ingester(config, store, clock).ingest().sources
    assert problems_of(report) == [
        "news: line 3: warning: repeats line 1; stored once",
        "news: line 4: rejected: same id 'b' as line 2 but different content: "
        "which one is current is ambiguous",
    ]
    assert report.counts.inserted == 2 and store.count_items() == 2


# -- skipping what is done --------------------------------------------------------------------


def test_changed_topics_retag_stories_that_would_otherwise_be_skipped(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    rows = [alike_story(n, id=f"s-{n}") for n in range(20)]
    config = make_config(sources=json_source(tmp_path, rows))
    Ingester(config, store, clock).ingest()
    assert all(item.topics == ("saiga",) for item in store.list_items())
    fewer = config.model_copy(update={"topics": [t for t in config.topics if t.id != "saiga"]})
    [report] = Ingester(fewer, store, clock).ingest().sources
    assert (report.skipped, report.counts.retagged) == (0, 20)
    assert all(item.topics == () for item in store.list_items())


def test_a_language_set_by_hand_survives_unchanged_and_edited_re_ingests(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    config = make_config(sources=json_source(tmp_path, [alike_story(0, id="a")]))
    Ingester(config, store, clock).ingest()
    [item] = store.list_items()
    store.tag_item(item.id, language="ru", topics=["argali"])
    [skipped] = Ingester(config, store, clock).ingest().sources
    assert skipped.skipped == 1
    json_source(tmp_path, [alike_story(0, id="a", summary="<p>Rangers counted saigas.</p>")])
    [edited] = Ingester(config, store, clock).ingest().sources
    assert edited.counts.updated == 1
    after = store.get_item(item.id)
    assert (after.language, after.topics, after.summary) == (
        "ru",
        ("argali",),
        "<p>Rangers counted saigas.</p>",
    )


# -- linear: 25,000 stories of one day --------------------------------------------------------


def fingerprinted_item(source_id: str, title: str, summary: str) -> Item:
    """An item of one day without id or URL, as a listing gives it."""
    at = datetime(2024, 5, 3, tzinfo=UTC)
    key = fingerprint(source_id, at, title)
    return Item(
        id=make_item_id(key),
        key=key,
        source_id=source_id,
        title=title,
        summary=summary,
        language="en",
        published_at=at,
        updated_at=at,
        identity="fingerprint",
    )


def one_day_items(count: int, retitled: dict[int, str] | None = None) -> list[Item]:
    """Fingerprinted items of one source and day, as a listing without ids or URLs gives."""
    return [
        fingerprinted_item(
            "day",
            (retitled or {}).get(n, f"Ranger report number {n} from {PLACES[n % 10]}"),
            f"<p>Report {n}: the rangers counted {n % 97} saigas.</p>",
        )
        for n in range(count)
    ]


def write_fetch(store: Store, items: list[Item], now: datetime):
    writer = store.writer(now)
    counts = type(writer.write([]))()
    for start in range(0, len(items), 500):
        counts += writer.write(items[start : start + 500])
    return counts + writer.finish(), writer


def test_25000_stories_of_one_day_without_ids_are_25000_items_and_edits_found_by_index(
    store: Store, clock
) -> None:
    stored, _ = write_fetch(store, one_day_items(25_000), clock())
    assert stored.inserted == 25_000 and store.count_items() == 25_000
    ids = {item.id for item in store.list_items()}
    retitled = {n: f"Ranger report nr {n} from {PLACES[n % 10]}" for n in range(0, 25_000, 2500)}
    edited, writer = write_fetch(store, one_day_items(25_000, retitled), clock())
    assert (edited.inserted, edited.updated, edited.unchanged) == (0, 10, 24_990)
    originals = one_day_items(25_000)
    assert sorted(found.item_id for found in writer.reidentified) == sorted(
        originals[n].id for n in retitled
    )
    assert writer.ambiguous == []
    assert {item.id for item in store.list_items()} == ids


# -- migration 0004 ---------------------------------------------------------------------------


def test_migration_0004_fills_identity_from_old_keys_and_keeps_ids(store_url: str) -> None:
    store = Store.open(store_url, upgrade=False)
    try:
        migrate.upgrade(store.engine, "0003")
        at = datetime(2024, 5, 3, tzinfo=UTC)
        old = [  # (key, url, language, translation group) as the code before 0004 wrote them
            ("feed|guid-1", "https://e.org/1", "en", None),
            ("feed|https://E.org/2?utm_source=rss", "https://E.org/2?utm_source=rss", "en", None),
            ("feed|https://e.org/3", "https://e.org/3", "en", "g3"),
            ("feed|https://e.org/3#ru", "https://e.org/3", "ru", "g3"),
            ("news:2024-05-03:saiga-calves", None, "en", None),
        ]
        base = {
            "source_id": "feed",
            "title": "t",
            "summary": "s",
            "published_at": at,
            "updated_at": at,
            "first_seen_at": at,
            "content_hash": "h",
        }
        with store.engine.begin() as connection:
            connection.execute(
                insert(items),
                [
                    {
                        **base,
                        "id": f"id{n}",
                        "key": key,
                        "url": url,
                        "language": language,
                        "translation_group": group,
                        "source_id": "news" if key.startswith("news:") else "feed",
                    }
                    for n, (key, url, language, group) in enumerate(old)
                ],
            )
        store.upgrade()
        with store.engine.connect() as connection:
            found = connection.execute(
                select(items.c.id, items.c.key, items.c.story_key, items.c.identity).order_by(
                    items.c.id
                )
            ).all()
    finally:
        store.close()
    assert [tuple(row) for row in found] == [
        ("id0", "feed|guid-1", "feed|guid-1", "id"),
        ("id1", "feed|https://e.org/2", "feed|https://e.org/2", "url"),
        ("id2", "feed|https://e.org/3", "feed|https://e.org/3", "url"),
        ("id3", "feed|https://e.org/3#ru", "feed|https://e.org/3", "url"),
        ("id4", "news:2024-05-03:saiga-calves", "news:2024-05-03:saiga-calves", "fingerprint"),
    ]


# -- edits by property ------------------------------------------------------------------------


def titled_item(number: int, title: str) -> Item:
    summary = f"<p>Report {number}: the rangers counted the herd from the air.</p>"
    return fingerprinted_item("prop", title, summary)


def original(number: int) -> Item:
    return titled_item(number, f"Rangers count {number} saigas near {PLACES[number % 10]}")


def edited(number: int) -> Item:
    return titled_item(number, f"Rangers counted {number} saigas near {PLACES[number % 10]}")


@given(
    numbers=st.lists(st.integers(1, 10_000), min_size=1, max_size=40, unique=True),
    data=st.data(),
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_edits_are_found_and_stories_of_one_fetch_never_joined(
    store_url: str, numbers: list[int], data: st.DataObject
) -> None:
    store = Store.open(store_url)
    try:
        with store.engine.begin() as connection:  # examples share the database
            connection.execute(items.delete())
        stored, _ = write_fetch(store, [original(n) for n in numbers], FIXED_AT)
        assert stored.inserted == len(numbers)
        fixed = data.draw(st.sets(st.sampled_from(numbers)), label="fixed")
        both = data.draw(st.sets(st.sampled_from(numbers)), label="both") - fixed
        fresh = data.draw(st.sets(st.integers(10_001, 20_000), max_size=10), label="fresh")
        second = [edited(n) if n in fixed else original(n) for n in numbers]
        second += [edited(n) for n in both] + [original(n) for n in fresh]
        second = data.draw(st.permutations(second), label="order")
        counts, writer = write_fetch(store, second, FIXED_AT + timedelta(days=1))
        assert (counts.inserted, counts.updated) == (len(both) + len(fresh), len(fixed))
        assert sorted(found.item_id for found in writer.reidentified) == sorted(
            original(n).id for n in fixed
        )
        assert writer.ambiguous == []
        assert store.count_items() == len(numbers) + len(both) + len(fresh)
    finally:
        store.close()


def test_a_source_prepared_in_worker_processes_is_screened_and_skipped_alike(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    rows = [alike_story(n, id=f"s-{n}") for n in range(120)] + [alike_story(0, id="s-0")]
    config = make_config(
        sources=json_source(tmp_path, rows),
        environ={"CMSFEED_INGEST__BATCH_SIZE": "10", "CMSFEED_INGEST__WORKERS": "2"},
    )
    [first] = Ingester(config, store, clock).ingest().sources  # 13 batches: the pool
    assert (first.stories, first.counts.inserted) == (121, 120)
    assert problems_of(first) == ["news: line 121: warning: repeats line 1; stored once"]
    rows[5] = alike_story(5, id="s-5", title="Rangers count 40 saigas near Ustyurt")
    json_source(tmp_path, rows)
    [second] = Ingester(config, store, clock).ingest().sources
    assert (second.skipped, second.counts.updated, second.counts.unchanged) == (119, 1, 119)
    assert store.get_item(make_item_id("news|s-5")).title == "Rangers count 40 saigas near Ustyurt"


def test_a_feed_of_2500_alike_entries_of_one_day_is_2500_items(
    tmp_path: Path, make_config, store: Store, clock
) -> None:
    entries = "".join(
        f"<entry><title>Rangers count saigas near {PLACES[n % 10]}</title>"
        f"<id>urn:one-day:{n}</id><updated>2024-05-03T09:{n % 60:02d}:00Z</updated>"
        f'<link href="https://e.org/news?id={n}"/>'
        f"<summary>Rangers counted saigas near {PLACES[n % 10]}.</summary></entry>"
        for n in range(2500)
    )
    (tmp_path / "day.atom").write_text(
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:t</id>'
        f"<updated>2024-05-03T10:00:00Z</updated>{entries}</feed>",
        encoding="utf-8",
    )
    config = make_config(sources='[[sources]]\nid = "day"\nkind = "feed"\npath = "day.atom"\n')
    [first] = Ingester(config, store, clock).ingest().sources
    assert (first.counts.inserted, problems_of(first)) == (2500, [])
    [again] = Ingester(config, store, clock).ingest().sources
    assert (again.skipped, again.counts.changed) == (2500, 0)
    assert store.count_items() == 2500


@given(
    scheme=st.sampled_from(["http", "https", "HTTPS"]),
    host=st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,10}\.(org|ORG|kz)", fullmatch=True),
    port=st.sampled_from(["", ":80", ":443", ":8080"]),
    path=st.from_regex(r"(/[A-Za-z0-9._~-]{0,8}){0,3}", fullmatch=True),
    query=st.lists(
        st.sampled_from(["id=5", "utm_source=rss", "page=2", "fbclid=x", "q=Saiga"]), max_size=4
    ),
    fragment=st.sampled_from(["", "#top", "#"]),
)
def test_a_canonical_url_is_its_own_canonical_form_and_keeps_what_names_the_page(
    scheme: str, host: str, port: str, path: str, query: list[str], fragment: str
) -> None:
    url = f"{scheme}://{host}{port}{path}{'?' + '&'.join(query) if query else ''}{fragment}"
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical
    assert canonical.startswith(f"{scheme.lower()}://{host.lower()}")
    assert "#" not in canonical and "utm_source" not in canonical and "fbclid" not in canonical
    kept = [pair for pair in query if not pair.startswith(("utm_", "fbclid"))]
    assert canonical.endswith(("?" + "&".join(kept)) if kept else (path or "/"))


# -- long titles ------------------------------------------------------------------------------

LONG_HEAD = "Rangers of the Altyn-Emel national park counted saiga antelopes along the Ili river"


def test_two_titles_alike_in_their_first_80_characters_are_two_stories(store, clock) -> None:
    at = datetime(2024, 5, 3, tzinfo=UTC)
    first = fingerprint("day", at, LONG_HEAD + " in spring")
    second = fingerprint("day", at, LONG_HEAD + " in autumn")
    assert first != second
    assert fingerprint("day", at, "Saiga count") == "day:2024-05-03:saiga-count"  # short: as ever
    stories = [
        fingerprinted_item("day", LONG_HEAD + f" in {season}", f"<p>The {season} count.</p>")
        for season in ("spring", "autumn")
    ]
    counts, _ = write_fetch(store, stories, clock())
    assert (counts.inserted, store.count_items()) == (2, 2)


def test_a_long_title_stored_under_its_first_80_characters_keeps_its_item(store, clock) -> None:
    # Before the whole title counted, the key held only its first 80 characters: the same
    # story must find its item again (same id), quietly, not become a second one.
    title = LONG_HEAD + " in spring"
    item = fingerprinted_item("day", title, "<p>The spring count.</p>")
    old_key = item.key.split("~")[0]
    assert old_key != item.key and len(old_key.rsplit(":", 1)[1]) == 80
    write_fetch(store, [replace(item, id=make_item_id(old_key), key=old_key)], clock())
    counts, _ = write_fetch(store, [item], clock())
    assert (counts.inserted, counts.updated, counts.retagged) == (0, 0, 0)
    [stored] = store.list_items()
    assert stored.id == make_item_id(old_key)
    with store.engine.connect() as connection:
        assert connection.execute(select(items.c.key)).scalar_one() == item.key
