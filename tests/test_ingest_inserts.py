"""New items inserted through the driver (store/ingest_inserts.py) are stored exactly as
SQLAlchemy's insert stores them: every column of every row, and the topics; a row inserted
first elsewhere is skipped and not counted. Real stores, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmsfeed.model import Item, make_item_id
from cmsfeed.store import Store
from cmsfeed.store.ingest_inserts import insert_new_items
from cmsfeed.store.rows import insert_items
from cmsfeed.store.schema import items

NOW = datetime(2024, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)


def an_item(number: int, text: str, *, moment: datetime, topics: tuple[str, ...]) -> Item:
    key = f"src|story-{number}" + ("#ru" if number % 3 == 0 else "")
    return Item(
        id=make_item_id(key),
        key=key,
        source_id="src",
        title=f"{text} {number}",
        summary=f"<p>{text}</p>",
        language=["en", "ru", "kk"][number % 3],
        published_at=moment,
        updated_at=moment + timedelta(hours=number % 2),
        topics=topics,
        url=None if number % 2 else f"https://news.example.org/{number}",
        translation_group=make_item_id(f"group-{number}") if number % 4 == 0 else None,
        image_url="https://news.example.org/i.jpg" if number % 5 == 0 else None,
        story_key=f"src|story-{number}",
        identity=["id", "url", "fingerprint"][number % 3],
        language_uncertain=number % 2 == 0,
        story_hash=None if number % 7 == 0 else f"{number:032x}",
    )


def stored(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every stored value as the database holds it (read by the driver, not SQLAlchemy's
    types, which would read two spellings of one time alike)."""
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT * FROM items ORDER BY id")
        topics = connection.exec_driver_sql("SELECT * FROM item_topics ORDER BY item_id, topic_id")
        return [tuple(row) for row in rows], [tuple(row) for row in topics]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=30),
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    topics=st.lists(st.sampled_from(["saiga", "argali", "kulan"]), max_size=3),
)
def test_rows_inserted_through_the_driver_are_those_sqlalchemy_stores(
    texts, moment, topics, store_url, tmp_path: Path
):
    batch = [
        an_item(number, text.replace("\x00", ""), moment=moment, topics=tuple(topics))
        for number, text in enumerate(texts)
    ]
    databases = []
    for insert in (insert_items, insert_new_items):
        url = store_url
        if store_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'{insert.__name__}-{len(list(tmp_path.iterdir()))}.db'}"
        store = Store.open(url)
        try:
            with store.engine.begin() as connection:
                connection.execute(items.delete())
                assert insert(connection, list(batch), NOW) == len(batch)
            databases.append(stored(store))
        finally:
            store.close()
    assert databases[0] == databases[1]
    rows, _ = databases[1]
    assert len(rows) == len(texts)


def test_a_row_inserted_first_elsewhere_is_skipped_and_not_counted(store):
    moment = datetime(2024, 5, 1, tzinfo=UTC)
    first = [an_item(number, "Saigas", moment=moment, topics=("saiga",)) for number in range(3)]
    with store.engine.begin() as connection:
        assert insert_new_items(connection, first[:1], NOW) == 1
    with store.engine.begin() as connection:
        assert insert_new_items(connection, first, NOW) == 2
    assert store.count_items() == 3
    assert stored(store)[1] == sorted((item.id, "saiga") for item in first)
