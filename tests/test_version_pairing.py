"""Language versions are paired with stored rows by (story key, language), not by key: a story
whose title changes script between fetches (so another version holds the story's key) keeps
every version once, under its id, in its language. Real stores, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsfeed.ingest.run import Ingester, ParseOptions, SourceReport, parse_bytes
from cmsfeed.model import Item
from cmsfeed.store import Store

ENGLISH = (
    "Rangers in the Altai counted more than two hundred argali this spring, "
    "the highest number since monitoring began."
)
RUSSIAN = (
    "Инспекторы на Алтае насчитали этой весной более двухсот архаров, это самое большое "
    "число за время наблюдений."
)
TITLES = {"en": "Argali numbers rise in the Altai", "ru": "На Алтае стало больше архаров"}
_SOURCES = count()


def story(number: int, title_language: str, *, russian: bool = True) -> dict[str, str]:
    paragraphs = [f"{ENGLISH} Survey {number}."]
    if russian:
        paragraphs.append(f"{RUSSIAN} Учёт {number}.")
    return {
        "id": f"story-{number}",
        "title": f"{TITLES[title_language]} ({number})",
        "summary": "".join(f"<p>{text}</p>" for text in paragraphs),
        "published": "2024-05-01T08:00:00+00:00",
    }


def ingest(ingester: Ingester, source_id: str, stories: list[dict[str, str]]) -> SourceReport:
    data = "\n".join(json.dumps(s, ensure_ascii=False) for s in stories).encode()
    parsed = parse_bytes("json", data, source_id, ParseOptions(locales=("en", "ru")))
    report = SourceReport(source_id)
    ingester.store_stories(source_id, parsed, report)
    assert not report.problems, [str(p) for p in report.problems]
    return report


def versions(store: Store, source_id: str) -> dict[tuple[str, str], Item]:
    """The stored items of a source by (story id, language); fails on a duplicate."""
    found: dict[tuple[str, str], Item] = {}
    for item in store.list_items(limit=100_000):
        if item.source_id == source_id:
            where = (item.story_key.rsplit("|", 1)[-1], item.language)
            assert where not in found, f"two {where} versions"
            found[where] = item
    return found


def test_a_title_changing_script_moves_no_version(make_config, store, clock):
    ingester = Ingester(make_config(sources=""), store, clock)
    ingest(ingester, "news", [story(1, "en")])
    before = versions(store, "news")
    assert set(before) == {("story-1", "en"), ("story-1", "ru")}

    # The Russian title now names the story: the Russian version holds the story's key.
    report = ingest(ingester, "news", [story(1, "ru")])
    after = versions(store, "news")
    assert {where: item.id for where, item in after.items()} == {
        where: item.id for where, item in before.items()
    }
    assert report.counts.inserted == 0
    english, russian = after[("story-1", "en")], after[("story-1", "ru")]
    assert "Rangers" in english.summary and "архаров" not in english.summary
    assert "архаров" in russian.summary and "Rangers" not in russian.summary
    assert russian.title.startswith(TITLES["ru"])
    assert english.translations == (russian.id,) and russian.translations == (english.id,)

    # The same input again changes nothing; back to the English title moves nothing either.
    again = ingest(ingester, "news", [story(1, "ru")])
    assert again.counts.changed == 0
    ingest(ingester, "news", [story(1, "en")])
    back = versions(store, "news")
    assert {w: i.id for w, i in back.items()} == {w: i.id for w, i in before.items()}
    assert back[("story-1", "en")].title.startswith(TITLES["en"])


def test_a_single_version_identified_anew_is_updated_in_place(make_config, store, clock):
    # One version, stored as English; the story becomes its Russian translation alone: the
    # same story (same id in the source), so the same item, now Russian.
    ingester = Ingester(make_config(sources=""), store, clock)
    ingest(ingester, "solo", [story(1, "en", russian=False)])
    [(where, stored)] = versions(store, "solo").items()
    assert where == ("story-1", "en")
    russian_only = dict(story(1, "ru"), summary=f"<p>{RUSSIAN}</p>")
    report = ingest(ingester, "solo", [russian_only])
    [(where, item)] = versions(store, "solo").items()
    assert where == ("story-1", "ru") and item.id == stored.id
    assert report.counts.updated == 1 and report.counts.inserted == 0


def test_a_version_added_under_a_held_key_is_stored_not_lost(make_config, store, clock):
    # Stored: the English version under the story's key. Now the title is Russian and the
    # story has both: the Russian version would take the key the English row holds.
    ingester = Ingester(make_config(sources=""), store, clock)
    ingest(ingester, "grow", [story(1, "en", russian=False)])
    [english_before] = versions(store, "grow").values()
    report = ingest(ingester, "grow", [story(1, "ru")])
    found = versions(store, "grow")
    assert set(found) == {("story-1", "en"), ("story-1", "ru")}
    assert found[("story-1", "en")].id == english_before.id
    assert report.counts.inserted == 1


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fetches_of_stories=st.lists(
        st.lists(st.sampled_from(["en", "ru"]), min_size=2, max_size=6),
        min_size=1,
        max_size=4,
    )
)
def test_n_stories_flipping_title_language_keep_2n_items_and_their_ids(
    fetches_of_stories, make_config, store, clock
):
    # Each story's title language across fetches, e.g. [en, ru, ru, en]: every fetch holds
    # all stories, each with its title in that fetch's language (the last one it has).
    source_id = f"flip-{next(_SOURCES)}"
    ingester = Ingester(make_config(sources=""), store, clock)
    fetches = max(map(len, fetches_of_stories))
    first_ids: dict[tuple[str, str], str] | None = None
    for fetch in range(fetches):
        batch = [
            story(number, languages[min(fetch, len(languages) - 1)])
            for number, languages in enumerate(fetches_of_stories)
        ]
        ingest(ingester, source_id, batch)
        found = versions(store, source_id)
        assert len(found) == 2 * len(fetches_of_stories)
        ids = {where: item.id for where, item in found.items()}
        first_ids = first_ids or ids
        assert ids == first_ids
        for (_, language), item in found.items():
            assert ("архаров" in item.summary) == (language == "ru")
