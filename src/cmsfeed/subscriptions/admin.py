"""The operator's subscriber commands: add, update, remove, erase, export, import. Does I/O
through the stores it is given; prints nothing (cli/subscribers.py is the adapter).

What the operator does never silently undoes what a reader did: `add` refuses a known address
unless told to `--update`, which changes only the options given (never the status); `remove`
ends a subscription but keeps its digests' history; `erase` deletes a person's data and keeps
only anonymous counts. Each change is one transaction and lands in the subscriber's history.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmsfeed.errors import SubscriberError
from cmsfeed.store import Store
from cmsfeed.store.subscriber_admin import Erased, HeldData
from cmsfeed.subscribers import PreferenceChange, Subscriber, subscriber_id
from cmsfeed.subscriptions.choices import SiteChoices, values_of
from cmsfeed.subscriptions.import_file import ImportPlan, plan_import, read_rows
from cmsfeed.subscriptions.options import (
    Options,
    apply_fields,
    check_email,
    check_options,
    describe_changes,
)

NO_SUCH = "no such subscriber (see `cmsfeed subscribers list`)"


@dataclass(frozen=True, slots=True)
class Added:
    subscriber: Subscriber
    change: str | None  # None: a new subscriber; else what --update changed ("" nothing)


def add_subscriber(
    digests: Store,
    address: str,
    options: Options,
    offered: SiteChoices,
    now: datetime,
    update: bool = False,
) -> Added:
    """Add a confirmed subscriber, or with `update` change the options given of a known one.

    Raises SubscriberError naming every problem of the options at once, or when the address
    is known and `update` is false (then nothing changes).
    """
    email, problems = check_email(address)
    fields, option_problems = check_options(options, offered)
    problems += option_problems
    if email is None or problems:
        raise SubscriberError(address.strip() or "(empty)", "; ".join(map(str, problems)))
    existing = digests.get_subscriber(email)
    if existing is None or not update:
        _refuse_complained(digests, email)  # the reason that matters most, known or not
    if existing is not None:
        if not update:
            raise SubscriberError(
                existing.email,
                f"already in the store ({existing.status}, added by {existing.origin}); "
                "nothing changed (use --update to change the options given)",
            )
        changed = apply_fields(existing, fields)
        detail = describe_changes(existing, changed)
        if detail:
            digests.write_subscribers((), [PreferenceChange(changed, detail)], now, "cli")
        return Added(changed, detail)
    new = apply_fields(Subscriber(email, offered.languages[0], origin="cli"), fields)
    if not digests.write_subscribers([new], (), now, "cli"):
        raise SubscriberError(email, "added meanwhile by another process; nothing changed")
    saved = digests.get_subscriber(email)
    assert saved is not None
    return Added(saved, None)


def _refuse_complained(digests: Store, email: str) -> None:
    complained = digests.complained_at(email)
    if complained is not None:
        raise SubscriberError(
            email,
            f"reported a digest as spam on {complained:%Y-%m-%d}; only the reader can "
            "subscribe again, by signing up at /subscribe",
        )


def remove_subscriber(digests: Store, address: str, now: datetime) -> tuple[str, int | None]:
    """End a subscription, keeping its history: the address and the number of digests not yet
    sent that were cancelled (None: it was already unsubscribed; nothing changed)."""
    found = digests.get_subscriber(address)
    if found is None:
        raise SubscriberError(address, NO_SUCH)
    return found.email, digests.end_subscription(found.id, now, "cli")


def erase_subscriber(
    digests: Store, address: str, configured: Collection[str]
) -> tuple[str, Erased]:
    """Delete what the store holds about a person; `configured` are the config file's
    addresses, which would bring the address back at the next start: refused."""
    email, problems = check_email(address)
    if email is None:
        raise SubscriberError(address, "; ".join(map(str, problems)))
    if subscriber_id(email) in {subscriber_id(other) for other in configured}:
        raise SubscriberError(
            email,
            "listed in config.toml [[subscribers]]: delete it there first, or the next start "
            "adds it again; nothing erased",
        )
    held = digests.held_data(email)
    if held.subscriber is None and not held.bounces:
        raise SubscriberError(email, NO_SUCH)
    erased = digests.erase_subscriber(subscriber_id(email), email)
    if erased is None:
        raise SubscriberError(
            email,
            "a digest to this address is being sent (or its sender stopped mid-send); "
            "nothing erased: try again once `cmsfeed digest status` shows none in flight",
        )
    return email, erased


@dataclass(frozen=True, slots=True)
class ImportReport:
    plan: ImportPlan
    written: bool
    added: int  # as written (another process may have added an address meanwhile)


def import_subscribers(
    digests: Store,
    text: str,
    offered: SiteChoices,
    now: datetime,
    update: bool = False,
    skip_bad: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Check every row, then write all the good ones in one transaction, or nothing at all
    when a row is bad (unless `skip_bad`) or for a `dry_run`."""
    rows, problems = read_rows(text)
    known = {s.id: s for s in digests.list_subscribers()}
    complaints = digests
    complained = digests.complained_addresses()

    def complained_at(email: str) -> datetime | None:
        # One query for the whole file; the exact rule only for the addresses it names.
        return complaints.complained_at(email) if email.lower() in complained else None

    plan = plan_import(rows, offered, known, complained_at, update)
    plan.problems[:0] = problems
    if dry_run or (plan.problems and not skip_bad):
        return ImportReport(plan, False, 0)
    added = digests.write_subscribers(plan.new, plan.changes, now, "import")
    return ImportReport(plan, True, len(added))


# -- export ---------------------------------------------------------------------------------


def subscriber_as_json(subscriber: Subscriber) -> dict[str, Any]:
    return {
        **values_of(subscriber),
        "status": subscriber.status,
        "origin": subscriber.origin,
        "created_at": _when(subscriber.created_at),
        "confirmed_at": _when(subscriber.confirmed_at),
        "last_digest_slot_at": _when(subscriber.last_slot_at),
        "covered_until": _when(subscriber.covered_until),
        "hard_failures": subscriber.hard_failures,
        "suspended_at": _when(subscriber.suspended_at),
        "suspended_reason": subscriber.suspended_reason,
    }


def _when(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_subscriber(digests: Store, address: str) -> dict[str, Any]:
    """Everything held about an address, as JSON-ready data."""
    email, problems = check_email(address)
    held: HeldData = digests.held_data(email or address.strip())
    if held.subscriber is None and not held.bounces:
        raise SubscriberError(address, NO_SUCH if email else "; ".join(map(str, problems)))
    return {
        "subscriber": subscriber_as_json(held.subscriber) if held.subscriber else None,
        "history": [
            {"at": _when(e.at), "event": e.event, "by": e.actor, "detail": e.detail}
            for e in held.events
        ],
        "digests": [_plain(row) for row in held.digests],
        "bounces": [_plain(row) for row in held.bounces],
    }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    plain = {key: _when(value) for key, value in row.items()}
    if isinstance(plain.get("item_ids"), str):
        plain["item_ids"] = json.loads(plain["item_ids"])
    return plain


def export_as_csv(exported: dict[str, Any]) -> str:
    """One line per value: section, number (of the row within the section), field, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "number", "field", "value"])
    subscriber = exported["subscriber"]
    for key, value in (subscriber or {}).items():
        writer.writerow(["subscriber", 1, key, _cell(value)])
    for section in ("history", "digests", "bounces"):
        for number, row in enumerate(exported[section], start=1):
            for key, value in row.items():
                writer.writerow([section, number, key, _cell(value)])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(map(str, value))
    return str(value)
