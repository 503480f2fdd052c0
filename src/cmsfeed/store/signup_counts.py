"""Counters of sign-ups in fixed windows, shared by every worker. Does I/O (the database).

One row of `signup_counts` per key: how many hits its current window has had and when that
window ends. A hit on a key whose window has ended starts a new one. The increment is one
`INSERT ... ON CONFLICT DO UPDATE ... RETURNING` statement, so two workers counting the same
key at once never lose a hit (PostgreSQL locks the row; SQLite writes one at a time). Spent
rows are deleted by later hits, so the table holds at most the keys of one window.

The rate-limit rules live in `cmsfeed.web.signup_limits`, which adapts this class to the
`limits` library; this module only speaks SQL. Times come from the caller (`now`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from cmsfeed.store.engine import StorePart
from cmsfeed.store.schema import UtcDateTime, signup_counts


class SignupCounts(StorePart):
    """A part of the `Store` facade (store/facade.py), which turns failures into StoreError."""

    def count_signup(self, key: str, window: timedelta, now: datetime, amount: int = 1) -> int:
        """Count `amount` hits on `key`; return the hits in its window, these included.

        A key with no window, or whose window ended at or before `now`, starts one that ends
        at `now + window`.
        """
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        fresh = dialect.insert(signup_counts).values(key=key, count=amount, expires_at=now + window)
        spent = signup_counts.c.expires_at <= literal(now, UtcDateTime)
        statement = fresh.on_conflict_do_update(
            index_elements=[signup_counts.c.key],
            set_={
                "count": case(
                    (spent, fresh.excluded.count),
                    else_=signup_counts.c.count + fresh.excluded.count,
                ),
                "expires_at": case(
                    (spent, fresh.excluded.expires_at), else_=signup_counts.c.expires_at
                ),
            },
        ).returning(signup_counts.c.count)
        with self.engine.begin() as connection:
            connection.execute(
                delete(signup_counts).where(
                    signup_counts.c.expires_at <= literal(now, UtcDateTime),
                    signup_counts.c.key != key,
                )
            )
            count: int = connection.execute(statement).scalar_one()
        return count

    def signup_window(self, key: str, now: datetime) -> tuple[int, datetime] | None:
        """The hits of `key`'s current window and when it ends; None: no window open."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(signup_counts.c.count, signup_counts.c.expires_at).where(
                    signup_counts.c.key == key,
                    signup_counts.c.expires_at > literal(now, UtcDateTime),
                )
            ).first()
        return (int(row[0]), row[1]) if row else None

    def clear_signup_count(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(signup_counts).where(signup_counts.c.key == key))

    def clear_signup_counts(self) -> int:
        """Forget every count; returns how many keys there were."""
        with self.engine.begin() as connection:
            found = connection.execute(select(func.count()).select_from(signup_counts))
            total = int(found.scalar_one())
            connection.execute(delete(signup_counts))
        return total

    def signup_counts_reachable(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(literal(1)))
        except SQLAlchemyError:
            return False
        return True
