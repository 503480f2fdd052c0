"""The tables of the store, as SQLAlchemy Core metadata. Migrations in `migrations/` create them.

Times are `UtcDateTime`: timezone-aware UTC in Python, `timestamptz` on PostgreSQL and
ISO text on SQLite (which has no time zones), so the same code reads both the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


items = Table(
    "items",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("key", Text, nullable=False, unique=True),
    Column("source_id", String(64), nullable=False),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("language", String(8), nullable=False),
    # The language is a guess (migration 0005): too short to tell and none declared.
    Column("language_uncertain", Boolean, nullable=False, server_default=false()),
    Column("published_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("translation_group", String(16)),
    Column("image_url", Text),
    Column("content_hash", String(32), nullable=False),
    # What an operator set by hand with `cmsfeed items tag`; survives re-ingest.
    Column("language_override", String(8)),
    Column("topics_override", Text),  # JSON list of topic ids
    # Identity (migration 0004): the story this item is a language version of, shared by its
    # versions; what that key was made from ("id", "url" or "fingerprint", see
    # cmsfeed.identity); and a digest of the story as the source gave it plus the settings it
    # was tagged with, so an unchanged story is not tagged again. Null only in rows written
    # before 0004 and not seen since.
    Column("story_key", Text),
    Column("identity", String(16), nullable=False, server_default="id"),
    Column("story_hash", String(32)),
    Index("ix_items_language_published_at", "language", "published_at"),
    Index("ix_items_published_at", "published_at"),
    Index("ix_items_first_seen_at", "first_seen_at"),
    Index("ix_items_translation_group", "translation_group"),
    Index("ix_items_story_key", "story_key"),
    Index("ix_items_source_id_published_at", "source_id", "published_at"),
)

item_topics = Table(
    "item_topics",
    metadata,
    Column("item_id", String(16), ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", String(64), primary_key=True),
    Index("ix_item_topics_topic_id", "topic_id", "item_id"),
    # On SQLite the key is the table: one B-tree fewer to write per topic (migration 0013).
    sqlite_with_rowid=False,
)

source_states = Table(
    "source_states",
    metadata,
    Column("source_id", String(64), primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("checked_at", UtcDateTime),
    Column("last_error", Text),
)

# One row per rendered feed file (path relative to the site root, e.g. "feeds/argali/ru.atom").
# `pinged_at` older than `changed_at` (or null) means the WebSub hub has not heard of the change.
feed_states = Table(
    "feed_states",
    metadata,
    Column("path", Text, primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("pinged_at", UtcDateTime),
    Column("ping_error", Text),
)

# -- digests (migration 0003) ----------------------------------------------------------------

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("email", Text, nullable=False, unique=True),
    Column("language", String(8), nullable=False),
    Column("topics", Text, nullable=False),  # JSON list of topic ids; empty: every topic
    Column("frequency", String(16), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("send_time", String(5), nullable=False),  # HH:MM, local to `timezone`
    Column("timezone", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # pending, active, suspended, unsubscribed
    Column("origin", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),
    Column("last_slot_at", UtcDateTime),
    Column("covered_until", UtcDateTime),
    Column("hard_failures", Integer, nullable=False),
    Column("suspended_at", UtcDateTime),  # migration 0006
    Column("suspended_reason", Text),
    # One more at every change (migration 0010): signed links name the version they were made for.
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_subscribers_status", "status"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        String(16),
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=True,  # migration 0011: null once `subscribers erase` detached the reader
    ),
    Column("period", String(32), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("item_ids", Text, nullable=False),  # JSON list: the items this digest covers
    Column("status", String(16), nullable=False),  # queued, sending, sent, failed, cancelled
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(32)),
    Column("lease_until", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Column("smtp_reply", Text),
    Column("last_error", Text),
    # Migration 0006: why a row failed or was cancelled (see store/outbox.py: CAUSES), and
    # who holds its lease: a host, a pid and the process's start token.
    Column("cause", String(16)),
    Column("lease_host", Text),
    Column("lease_pid", Integer),
    Column("lease_started", String(64)),
    UniqueConstraint("subscriber_id", "period"),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_outbox_status_lease_until", "status", "lease_until"),
    Index("ix_outbox_subscriber_id_created_at", "subscriber_id", "created_at"),
    # Migration 0008: an id is never given twice (a VERP token names it), on SQLite too.
    sqlite_autoincrement=True,
)

# What the operator, the config file's starting list and imports did to a subscriber
# (migration 0011), for `subscribers export`; erased with the subscriber.
subscriber_events = Table(
    "subscriber_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        String(16),
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("event", String(32), nullable=False),  # added, updated, removed
    Column("actor", String(16), nullable=False),  # config, cli, import
    Column("detail", Text, nullable=False),  # what changed, e.g. "frequency: daily -> weekly"
    Index("ix_subscriber_events_subscriber_id_at", "subscriber_id", "at"),
)

# A mail server at fault (migration 0006): sending pauses until a probe gets through.
delivery_pauses = Table(
    "delivery_pauses",
    metadata,
    Column("server", String(200), primary_key=True),
    Column("since_at", UtcDateTime, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("reply", Text, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("next_probe_at", UtcDateTime, nullable=False),
)

# -- bounces and complaints (migration 0007) -------------------------------------------------

# One row per (returned message, subscriber) acted on. `key` is the report's own Message-ID (or
# a hash of its bytes), so importing the same mailbox again changes nothing. No foreign key:
# a complaint must outlive the removal of its subscriber, so the address is never mailed again.
FORGIVEN = "forgiven"
bounces = Table(
    "bounces",
    metadata,
    Column("key", String(256), primary_key=True),
    Column("subscriber_id", String(16), primary_key=True),
    Column("email", Text, nullable=False),  # the subscriber's address, lowercased
    Column("kind", String(16), nullable=False),  # hard, soft, complaint
    Column("status", String(16)),  # enhanced status code such as 5.1.1
    Column("outbox_id", Integer),  # the digest it was about, when known
    Column("matched_by", String(16), nullable=False),  # verp, message-id, recipient
    # suspended, unsubscribed, counted, none, stale; a soft bounce's becomes FORGIVEN when the
    # operator reactivates the subscriber, so it no longer counts toward a suspension
    Column("action", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("reported_at", UtcDateTime, nullable=False),  # the report's date (soft-bounce window)
    Column("processed_at", UtcDateTime, nullable=False),
    Index("ix_bounces_subscriber_id_reported_at", "subscriber_id", "reported_at"),
    Index("ix_bounces_email", "email"),
)
# Matching a bounce by the digest's Message-ID it quotes; made by migration 0007.
Index("ix_outbox_message_id", outbox.c.message_id)

# -- sign-up limits (migration 0012) ---------------------------------------------------------

# One counter per (limit, client or target address) and fixed window, shared by every worker
# and kept across restarts. `key` holds a keyed hash of the address, never the address itself
# (cmsfeed.web.signup_limits); a row is spent once `expires_at` has passed and is deleted by
# a later count.
signup_counts = Table(
    "signup_counts",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_signup_counts_expires_at", "expires_at"),
)
