"""The bundled sample news as a golden fixture: stories, dates, languages, topics, the split."""

from __future__ import annotations

from datetime import UTC, datetime

from cmsfeed.ingest.run import Ingester
from cmsfeed.store import Store

SEED_STORIES = [
    # (title starts with, date, language, topics)
    ("Continued Progress on Conservation Measures", "2024-12-02", "en", ("bukhara-deer", "argali")),
    ("A new Work Programme for the Bukhara Deer", "2024-10-29", "en", ("bukhara-deer",)),
    ("траны-подписанты Меморандума", "2024-10-29", "ru", ("bukhara-deer",)),
    ("World's Largest Bukhara Deer Population", "2023-02-22", "en", ("bukhara-deer",)),
    ("Крупнейшая популяция бухарских оленей", "2023-01-24", "ru", ("bukhara-deer",)),
    ("Connectivity Conservation", "2018-11-02", "en", ()),
    ("CMS and ACBK raise awareness", "2016-05-15", "en", ()),
    ("Experts Discuss Nature Conservation", "2016-03-24", "en", ()),
    ("MoU on Bukhara Deer", "2014-03-12", "en", ("bukhara-deer",)),
]


def test_seed_comes_in_as_its_eight_stories_with_exact_dates(make_config, store: Store, clock):
    config = make_config()
    report = Ingester(config, store, clock).ingest()
    assert report.ok, [str(p) for p in report.problems]
    assert report.sources[0].stories == 8
    assert report.counts.inserted == 9  # the bilingual story is two items

    stored = sorted(store.list_items(), key=lambda i: (i.published_at, i.language), reverse=True)
    found = [(i.title, i.published_at, i.language, i.topics) for i in stored]
    assert len(found) == len(SEED_STORIES)
    for (title, published_at, language, topics), expected in zip(
        sorted(found, key=lambda f: (f[1], f[2]), reverse=True),
        sorted(SEED_STORIES, key=lambda s: (s[1], s[2]), reverse=True),
        strict=True,
    ):
        start, day, lang, tags = expected
        assert title.startswith(start)
        assert published_at == datetime.fromisoformat(day).replace(tzinfo=UTC)
        assert language == lang
        assert set(topics) == set(tags)


def test_the_bilingual_story_becomes_two_linked_language_versions(make_config, store, clock):
    Ingester(make_config(), store, clock).ingest()
    versions = [i for i in store.list_items() if i.published_at.date().isoformat() == "2024-10-29"]
    english = next(i for i in versions if i.language == "en")
    russian = next(i for i in versions if i.language == "ru")
    assert english.id != russian.id
    assert english.translation_group == russian.translation_group is not None
    assert english.translations == (russian.id,)
    assert russian.translations == (english.id,)
    assert "Signatories" in english.summary and "траны-подписанты" not in english.summary
    assert "траны-подписанты" in russian.summary and "Signatories" not in russian.summary
    assert english.title == "A new Work Programme for the Bukhara Deer for 2025-2032"
    # Its own title: the first sentence cut at a word within 90 characters, outside brackets.
    assert russian.title == (
        "траны-подписанты Меморандума о взаимопонимании по сохранению и восстановлению бухарского…"
    )


def test_ingesting_twice_leaves_the_store_unchanged(make_config, store, clock):
    config = make_config()
    Ingester(config, store, clock).ingest()
    before = store.list_items()
    clock.now = clock.now.replace(year=2027)
    report = Ingester(config, store, clock).ingest()
    assert report.counts.inserted == report.counts.updated == report.counts.retagged == 0
    assert report.counts.unchanged == 9
    assert store.list_items() == before


def test_russian_bukhara_deer_stories_by_topic_and_language(make_config, store, clock):
    Ingester(make_config(), store, clock).ingest()
    found = store.list_items(topics=["bukhara-deer"], language="ru")
    assert [i.title[:20] for i in found] == ["траны-подписанты Мем", "Крупнейшая популяция"]


def test_a_title_fixed_in_the_listing_keeps_the_story_id(make_config, store, clock, tmp_path):
    config = make_config()
    Ingester(config, store, clock).ingest()
    before = {i.title: i for i in store.list_items()}
    original = before["World's Largest Bukhara Deer Population Needs Human Help"]
    seed = tmp_path / "seed.txt"
    seed.write_text(
        seed.read_text(encoding="utf-8").replace(
            "World's Largest Bukhara Deer Population Needs Human Help",
            "World’s Largest Bukhara Deer Population Needs Human Help",
        ),
        encoding="utf-8",
    )
    clock.now = clock.now.replace(year=2027)
    report = Ingester(config, store, clock).ingest()
    assert (report.counts.inserted, report.counts.updated) == (0, 1)
    after = store.get_item(original.id)
    assert after.title == "World’s Largest Bukhara Deer Population Needs Human Help"
    assert after.updated_at == clock.now
    assert len(store.list_items()) == len(before)
    # and the next ingest finds it by its new key: nothing changes
    assert Ingester(config, store, clock).ingest().counts.changed == 0


def test_a_new_story_on_the_same_day_is_not_taken_for_an_edit(make_config, store, clock, tmp_path):
    config = make_config()
    Ingester(config, store, clock).ingest()
    seed = tmp_path / "seed.txt"
    seed.write_text(
        seed.read_text(encoding="utf-8") + "\n\nSnow leopards counted in the Altai\n\n"
        "A camera-trap survey found eleven snow leopards.\n\n12 March 2014\n",
        encoding="utf-8",
    )
    report = Ingester(config, store, clock).ingest()
    assert report.counts.inserted == 1 and report.counts.updated == 0
    assert len(store.list_items()) == 10
