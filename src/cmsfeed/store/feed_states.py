"""What was last published at each feed path, and whether the WebSub hub heard of it.

Does I/O (the database). A part of the `Store` facade (store/facade.py); the table is
`schema.feed_states`. A path's `changed_at` moves only when its content hash changes, so it
serves as a stable Last-Modified across restarts, and a row whose `pinged_at` is older than
`changed_at` is a ping still owed to the hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, text, update

from cmsfeed.store.engine import StorePart
from cmsfeed.store.schema import feed_states


@dataclass(frozen=True, slots=True)
class Recorded:
    """The outcome of recording a set of hashes."""

    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed_at: Mapping[str, datetime] = field(default_factory=dict)


class FeedStates(StorePart):
    def record_hashes(
        self, hashes: Mapping[str, str], now: datetime, *, complete: bool = False
    ) -> Recorded:
        """Store each path's content hash; return which changed and every path's `changed_at`.

        With `complete`, `hashes` is every path there is, and rows for other paths are removed.
        """
        with self.engine.begin() as connection:
            _take_turns(connection)
            rows = {
                row.path: row
                for row in connection.execute(
                    select(feed_states.c.path, feed_states.c.content_hash, feed_states.c.changed_at)
                )
            }
            changed: list[str] = []
            changed_at: dict[str, datetime] = {}
            new_rows: list[dict[str, Any]] = []
            for path, content_hash in sorted(hashes.items()):
                row = rows.get(path)
                if row is not None and row.content_hash == content_hash:
                    changed_at[path] = row.changed_at
                    continue
                changed.append(path)
                changed_at[path] = now
                if row is None:
                    new_rows.append(
                        {
                            "path": path,
                            "content_hash": content_hash,
                            "changed_at": now,
                            "pinged_at": None,
                        }
                    )
                else:
                    connection.execute(
                        update(feed_states)
                        .where(feed_states.c.path == path)
                        .values(content_hash=content_hash, changed_at=now)
                    )
            if new_rows:
                connection.execute(insert(feed_states), new_rows)
            removed = sorted(set(rows) - set(hashes)) if complete else []
            if removed:
                connection.execute(delete(feed_states).where(feed_states.c.path.in_(removed)))
        return Recorded(tuple(changed), tuple(removed), changed_at)

    def pending_pings(self) -> list[str]:
        """Paths whose last change the hub has not been told about, oldest change first."""
        query = (
            select(feed_states.c.path)
            .where(
                or_(
                    feed_states.c.pinged_at.is_(None),
                    feed_states.c.pinged_at < feed_states.c.changed_at,
                )
            )
            .order_by(feed_states.c.changed_at, feed_states.c.path)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def mark_pinged(self, path: str, now: datetime, error: str | None = None) -> None:
        """Record a ping: on success `pinged_at` moves to `now`; on failure only the error."""
        values: dict[str, Any] = {"ping_error": error}
        if error is None:
            values["pinged_at"] = now
        with self.engine.begin() as connection:
            connection.execute(
                update(feed_states).where(feed_states.c.path == path).values(**values)
            )


_LOCK_ID = 0x636D7366 + 1  # "cmsf" + 1: the feed states (migrations use "cmsf")


def _take_turns(connection: Connection) -> None:
    """Make workers recording at once take turns, so that each change is recorded (and its
    Last-Modified set, its ping owed) by exactly one of them and the others see it done."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    else:  # a write first takes SQLite's write lock before anything is read
        connection.execute(text("UPDATE feed_states SET path = path WHERE 0 = 1"))
