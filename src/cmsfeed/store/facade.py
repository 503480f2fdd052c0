"""The `Store`: the one boundary the rest of cmsfeed uses to reach the database.
Does I/O (the database).

It runs on SQLite (the embedded default, a file in WAL mode) and PostgreSQL (psycopg 3) from
the same code. The methods live in parts, one per domain, that share only the engine, the
label and the row helpers of store/rows.py:

    ItemReads, ItemUpdates   items (item_reads.py, item_updates.py; item_writer.py decides
                             between new, edited and retagged)
    SourceStates             what is remembered of each source between fetches (sources.py)
    FeedStates, FeedStats    published feed hashes and WebSub pings; the index's counts
    SubscriberRecords        subscribers, suspension and reactivation (subscribers.py)
    SubscriberAdmin          the operator's writes with their history: add, remove, erase,
                             export (subscriber_admin.py)
    OutboxQueue, OutboxSending, OutboxReports, DeliveryPauses
                             the digest outbox: queueing, leased sending, what the operator
                             sees, mail servers at fault (outbox_*.py, pauses.py)
    BounceRecords            bounces and complaints read by mail (bounces.py)
    SignupCounts             sign-up counters shared by every worker (signup_counts.py)

Every public method is wrapped once (store/failures.py): a database failure becomes a
`StoreError` naming the operation and the database, never its password.
"""

from __future__ import annotations

from sqlalchemy import Engine

from cmsfeed.errors import StoreError
from cmsfeed.store import engine as engines
from cmsfeed.store.bounces import BounceRecords
from cmsfeed.store.copy import CopyReport, Progress, copy_store
from cmsfeed.store.failures import DATABASE_ERRORS, guard_public_methods, hide_secret
from cmsfeed.store.feed_states import FeedStates
from cmsfeed.store.feed_stats import FeedStats
from cmsfeed.store.item_reads import ItemReads
from cmsfeed.store.item_updates import ItemUpdates
from cmsfeed.store.outbox import OutboxSending
from cmsfeed.store.outbox_queue import OutboxQueue
from cmsfeed.store.outbox_status import OutboxReports
from cmsfeed.store.pauses import DeliveryPauses
from cmsfeed.store.rows import first_line
from cmsfeed.store.signup_counts import SignupCounts
from cmsfeed.store.sources import SourceStates
from cmsfeed.store.subscriber_admin import SubscriberAdmin
from cmsfeed.store.subscribers import SubscriberRecords


@guard_public_methods
class Store(
    ItemReads,
    ItemUpdates,
    SourceStates,
    FeedStates,
    FeedStats,
    SubscriberRecords,
    SubscriberAdmin,
    OutboxQueue,
    OutboxSending,
    OutboxReports,
    DeliveryPauses,
    BounceRecords,
    SignupCounts,
):
    def __init__(self, engine: Engine, label: str = "store") -> None:
        self.engine = engine
        self.label = label  # the URL without its password, the subject of StoreError

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Connect to the database at `url`; bring its schema up to date unless told not to."""
        engine, label = engines.open_engine(url)
        store = cls(engine, label)
        if upgrade:
            try:
                store.upgrade()
            except BaseException:
                store.close()
                raise
        return store

    # The first contact with a database: the operator reads these messages most often, so
    # they say what could not be done in words rather than by the method's name.

    def upgrade(self) -> None:
        """Bring the schema up to date (safe from several workers at once)."""
        try:
            engines.upgrade_schema(self.engine)
        except DATABASE_ERRORS as err:
            raise self._failure("cannot open or migrate the database", err) from err

    def schema_revision(self) -> str | None:
        """The schema version the database has (None: empty); connects, so it proves access."""
        try:
            return engines.schema_revision(self.engine)
        except DATABASE_ERRORS as err:
            raise self._failure("cannot connect", err) from err

    def close(self) -> None:
        self.engine.dispose()

    def copy_into(
        self, target: Store, *, chunk_size: int = 2000, progress: Progress | None = None
    ) -> CopyReport:
        """Copy every row into the empty `target` (both at the current schema; see copy.py,
        which names the target in its errors, the source in a failure to read it)."""
        return copy_store(self, target, chunk_size=chunk_size, progress=progress)

    def _failure(self, what: str, err: BaseException) -> StoreError:
        return StoreError(self.label, f"{what}: {hide_secret(first_line(err), self.engine)}")
