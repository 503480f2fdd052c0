"""A mail server at fault, as every worker and the CLI see it. Does I/O (the database).

One row of `delivery_pauses` per server ("host:port", "maildir PATH"): since when, at which
SMTP stage, the server's reply, how many tries failed and when the next probe is due. A send
that gets through deletes it. A part of the `Store` facade (store/facade.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from cmsfeed.store.engine import StorePart
from cmsfeed.store.rows import insert_ignoring_conflicts
from cmsfeed.store.schema import delivery_pauses


@dataclass(frozen=True, slots=True)
class Pause:
    """A mail server at fault since `since_at`; the next try is at `next_probe_at`."""

    server: str
    since_at: datetime
    stage: str
    reply: str
    failures: int
    next_probe_at: datetime


class DeliveryPauses(StorePart):
    def pause(self, server: str) -> Pause | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(delivery_pauses).where(delivery_pauses.c.server == server)
            ).first()
        return Pause(*row) if row else None

    def pauses(self) -> list[Pause]:
        with self.engine.connect() as connection:
            return list_pauses(connection)

    def record_pause(
        self, server: str, stage: str, reply: str, now: datetime, next_probe_at: datetime
    ) -> Pause:
        """Pause `server` (or extend its pause: one more failure, a later probe)."""
        with self.engine.begin() as connection:
            found = connection.execute(
                update(delivery_pauses)
                .where(delivery_pauses.c.server == server)
                .values(
                    stage=stage,
                    reply=reply[:500],
                    failures=delivery_pauses.c.failures + 1,
                    next_probe_at=next_probe_at,
                )
            ).rowcount
            if not found:
                statement = insert_ignoring_conflicts(connection, delivery_pauses)
                connection.execute(
                    statement,
                    [
                        {
                            "server": server,
                            "since_at": now,
                            "stage": stage,
                            "reply": reply[:500],
                            "failures": 1,
                            "next_probe_at": next_probe_at,
                        }
                    ],
                )
        paused = self.pause(server)
        assert paused is not None
        return paused

    def end_pause(self, server: str) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(
                delivery_pauses.delete().where(delivery_pauses.c.server == server)
            )
        return bool(result.rowcount)


def list_pauses(connection: Connection) -> list[Pause]:
    rows = connection.execute(select(delivery_pauses).order_by(delivery_pauses.c.since_at))
    return [Pause(*row) for row in rows]
