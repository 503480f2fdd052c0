"""The index's counts, from the store (SQLite and PostgreSQL): each equals what the feed lists
when nothing is cut off by `feeds.entries`, and its date is the newest entry's."""

from __future__ import annotations

from cmsfeed.feeds.document import make_document, standard_selections
from cmsfeed.feeds.pages import render_index
from support.feeds import make_site, sample_items


def test_counts_match_the_feeds_and_empty_feeds_are_absent(store, clock) -> None:
    site = make_site(entries=1000)
    store.upsert_items(sample_items(), clock())
    counts = store.feed_counts()
    listed = {}
    for chosen in standard_selections(site):
        found = store.list_items(topics=list(chosen.topics) or None, language=chosen.language)
        known = {item.id: item for item in store.list_items()}
        document = make_document(site, chosen, found, known)
        key = (chosen.topics[0] if chosen.topics else None, chosen.language)
        listed[key] = document.entries
        if not document.entries:
            assert key not in counts
            continue
        assert counts[key].count == len(document.entries), key
        assert counts[key].newest_at == max(e.published_at for e in document.entries)
    assert set(counts) <= set(listed)
    assert counts[(None, None)].count == len(sample_items()) - 1  # one story in two languages
    assert counts[("bukhara-deer", "ru")].count == 1


def test_the_index_says_which_feeds_are_empty(store, clock) -> None:
    site = make_site()
    store.upsert_items(sample_items(), clock())
    russian = render_index(site, "ru", store.feed_counts()).decode()
    english = render_index(site, "en", store.feed_counts()).decode()
    assert "Материалов пока нет" not in russian.split('id="topic-argali"')[1].split("</li>")[0]
    assert "2 stories · newest" in english.split('id="topic-argali"')[1].split("</li>")[0]
    assert render_index(site, "en").count(b'class="size"') == 0  # unknown: no claim either way
    empty = render_index(site, "en", {}).decode()
    assert empty.count("No stories yet") == 4 * (1 + 3)  # each card, and its three feeds
