"""The tests' one clock: a fixed time that a test moves by hand; nothing sleeps to wait for it.

T0 (Monday 2 December 2024, 06:00 UTC) is where every fixed clock starts unless a test says
otherwise; fixture data that compares against the clock is written relative to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2024, 12, 2, 6, 0, tzinfo=UTC)


class FixedClock:
    """A `cmsfeed.model.Clock` (a callable returning an aware UTC time) moved by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by `timedelta(**delta)` and return the new time."""
        self.now += timedelta(**delta)
        return self.now
