"""A mail server at fault, as every worker and the CLI see it. Does I/O (the database).

One row of `delivery_pauses` per server ("host:port", "maildir PATH"): since when, at which
SMTP stage, the server's reply, how many tries failed and when the next probe is due. A send
that gets through deletes it. Also the base of the store classes of the outbox: `_fail`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError

from cmsfeed.errors import StoreError
from cmsfeed.store.items import Store
from cmsfeed.store.rows import insert_ignoring_conflicts, store_error
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


class DeliveryPauses:
    store: Store
    engine: Engine

    def _fail(self, what: str, err: SQLAlchemyError) -> StoreError:
        return store_error(self.store.label, what, err)

    # -- pauses -----------------------------------------------------------------------------

    def pause(self, server: str) -> Pause | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(delivery_pauses).where(delivery_pauses.c.server == server)
            ).first()
        return Pause(*row) if row else None

    def pauses(self) -> list[Pause]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(delivery_pauses).order_by(delivery_pauses.c.since_at))
            return [Pause(*row) for row in rows]

    def record_pause(
        self, server: str, stage: str, reply: str, now: datetime, next_probe_at: datetime
    ) -> Pause:
        """Pause `server` (or extend its pause: one more failure, a later probe)."""
        try:
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
        except SQLAlchemyError as err:
            raise self._fail("record a pause", err) from err
        paused = self.pause(server)
        assert paused is not None
        return paused

    def end_pause(self, server: str) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(
                delivery_pauses.delete().where(delivery_pauses.c.server == server)
            )
        return bool(result.rowcount)
