"""What the store remembers of each source between fetches (validators, last check, last
error). Does I/O (the database). A part of the `Store` facade (store/facade.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from cmsfeed.store.engine import StorePart
from cmsfeed.store.rows import insert_ignoring_conflicts
from cmsfeed.store.schema import source_states


@dataclass(frozen=True, slots=True)
class SourceState:
    source_id: str
    etag: str | None = None
    last_modified: str | None = None
    checked_at: datetime | None = None
    last_error: str | None = None


class SourceStates(StorePart):
    def source_state(self, source_id: str) -> SourceState:
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(source_states).where(source_states.c.source_id == source_id)
                )
                .mappings()
                .first()
            )
        return SourceState(**row) if row else SourceState(source_id)

    def save_source_state(self, state: SourceState) -> None:
        values = {
            "etag": state.etag,
            "last_modified": state.last_modified,
            "checked_at": state.checked_at,
            "last_error": state.last_error,
        }
        with self.engine.begin() as connection:
            statement = insert_ignoring_conflicts(connection, source_states)
            connection.execute(statement, [{"source_id": state.source_id, **values}])
            connection.execute(
                update(source_states)
                .where(source_states.c.source_id == state.source_id)
                .values(**values)
            )
