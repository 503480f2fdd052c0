"""The store's side of the operator's commands, on SQLite and PostgreSQL: `remove` keeps the
outbox history, `erase` keeps only anonymous counts and waits for a digest being sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cmsfeed.lease_owner import this_process
from cmsfeed.store import Store
from cmsfeed.store.schema import outbox
from cmsfeed.subscribers import PreferenceChange, Subscriber


def with_digests(store: Store, clock, email: str, statuses: list[str]) -> Subscriber:
    """A subscriber with one outbox row in each of `statuses` (a period each)."""
    digests = store
    (subscriber,) = digests.write_subscribers([Subscriber(email)], (), clock(), "cli")
    if not statuses:
        return subscriber
    with store.engine.begin() as connection:
        connection.execute(
            outbox.insert(),
            [
                {
                    "subscriber_id": subscriber.id,
                    "period": f"d:{n}",
                    "message_id": f"<{n}.{subscriber.id}@x>",
                    "language": "en",
                    "item_ids": "[]",
                    "status": status,
                    "created_at": clock(),
                    "attempts": 0,
                    "next_attempt_at": clock(),
                    "last_error": f"550 <{email}>: no" if status == "failed" else None,
                    "cause": "refused" if status == "failed" else None,
                }
                for n, status in enumerate(statuses)
            ],
        )
    return subscriber


def test_remove_cancels_only_what_is_queued_and_keeps_the_rest(store: Store, clock) -> None:
    digests = store
    anna = with_digests(store, clock, "anna@example.org", ["sent", "sent", "failed", "queued"])
    before = digests.outbox_status().counts
    assert digests.end_subscription(anna.id, clock(), "cli") == 1
    assert digests.end_subscription(anna.id, clock(), "cli") is None  # twice: nothing more
    after = digests.outbox_status().counts
    assert after == {**before, "queued": 0, "cancelled": 1}
    held = digests.held_data("anna@example.org")
    assert [d["status"] for d in held.digests] == ["sent", "sent", "failed", "cancelled"]
    assert [e.event for e in held.events] == ["added", "removed"]


def test_erase_waits_for_a_digest_being_sent_then_keeps_only_counts(store: Store, clock) -> None:
    digests = store
    anna = with_digests(store, clock, "anna@example.org", ["sent", "failed", "queued"])
    bystander = with_digests(store, clock, "bob@example.org", ["sent", "queued"])
    (claimed,) = digests.claim(this_process(), clock(), 1, timedelta(minutes=5))
    assert claimed.subscriber.id == anna.id  # the oldest queued row: Anna's
    before = digests.outbox_status().counts

    assert digests.erase_subscriber(anna.id, anna.email) is None
    assert (
        digests.outbox_status().counts == before and digests.get_subscriber(anna.email) is not None
    )

    digests.mark_sent(claimed, "250 ok", clock())
    erased = digests.erase_subscriber(anna.id, anna.email)
    assert erased is not None
    assert (erased.digests_kept, erased.digests_cancelled, erased.events) == (3, 0, 1)
    assert digests.outbox_status().counts == {**before, "sending": 0, "sent": before["sent"] + 1}
    assert digests.get_subscriber(anna.email) is None
    with store.engine.connect() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    detached = [row for row in rows if row["subscriber_id"] is None]
    assert len(detached) == 3
    assert all(anna.id not in row["message_id"] for row in detached)
    assert all(row["last_error"] is None and row["smtp_reply"] is None for row in detached)
    kept = [row for row in rows if row["subscriber_id"] == bystander.id]
    assert [row["status"] for row in kept] == ["sent", "queued"]  # the others' untouched
    # The next round never claims a detached row.
    (next_claim,) = digests.claim(this_process(), clock(), 10, timedelta(minutes=5))
    assert next_claim.subscriber.id == bystander.id


def test_an_update_changes_only_the_preferences(store: Store, clock) -> None:
    digests = store
    anna = with_digests(store, clock, "anna@example.org", [])
    assert digests.suspend_subscriber(anna.id, "550 5.1.1", clock())
    suspended = digests.get_subscriber(anna.email)
    assert suspended is not None
    weekly = PreferenceChange(Subscriber(anna.email, "ru", ("argali",), "weekly"), "test")
    assert digests.write_subscribers([Subscriber(anna.email, "en")], [weekly], clock(), "cli") == []
    updated = digests.get_subscriber(anna.email)
    assert updated is not None
    assert (updated.language, updated.topics, updated.frequency) == ("ru", ("argali",), "weekly")
    assert (updated.status, updated.suspended_at, updated.created_at) == (
        "suspended",
        suspended.suspended_at,
        suspended.created_at,
    )
