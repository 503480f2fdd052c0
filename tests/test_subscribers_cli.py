"""`cmsfeed subscribers` and `cmsfeed digest` as the operator runs them (a subprocess), on a
real SQLite file and PostgreSQL, with a Maildir: commands that keep history."""

from __future__ import annotations

import csv
import io
import json
import mailbox
from datetime import timedelta
from pathlib import Path

from cmsfeed.config import load_config
from cmsfeed.store import Store
from support.clock import T0
from support.config import write_config
from support.items import make_item
from support.subscriber import cmsfeed, ok

LATER = (T0 + timedelta(days=365 * 3 + 2)).isoformat()


def one_digest_sent(config: Path, email: str) -> None:
    """Store an item and send `email` the digest that covers it."""
    store = Store.open(load_config(config, {}).store.url)
    store.upsert_items([make_item("Argali survey")], T0 + timedelta(days=365 * 3))
    store.close()
    assert "1 sent" in ok(config, "digest", "send", "--now", LATER)
    assert len(list(mailbox.Maildir(str(config.parent / "maildir"), create=False))) == 1


def status_counts(config: Path) -> dict[str, int]:
    counts: dict[str, int] = json.loads(ok(config, "digest", "status", "--format", "json"))[
        "counts"
    ]
    return counts


def listed(config: Path) -> dict[str, dict[str, object]]:
    return {
        s["email"]: s for s in json.loads(ok(config, "subscribers", "list", "--format", "json"))
    }


def test_add_refuses_a_known_address_and_update_changes_only_what_is_given(
    tmp_path: Path, store_url: str
) -> None:
    config = write_config(tmp_path, None, store_url=store_url)
    add = ("subscribers", "add", "Anna@Example.ORG", "--lang", "ru", "--topic", "argali")
    out = ok(config, *add, "--time", "8:00", "--tz", "Asia/Almaty")
    assert out == "Anna@example.org: subscribed (daily 08:00 Asia/Almaty, argali, ru)\n"

    again = cmsfeed(config, "subscribers", "add", "anna@example.org", "--lang", "en")
    assert again.returncode == 1
    assert again.stderr == (
        "error: Anna@example.org: already in the store (active, added by cli); nothing "
        "changed (use --update to change the options given)\n"
    )
    before = listed(config)["Anna@example.org"]
    assert (before["language"], before["topics"], before["timezone"]) == (
        "ru",
        ["argali"],
        "Asia/Almaty",
    )

    updated = ok(
        config,
        "subscribers",
        "add",
        "anna@example.org",
        "--update",
        "--frequency",
        "weekly",
        "--weekday",
        "wed",
        "--time",
        "10:00",
    )
    assert updated == (
        "Anna@example.org: updated (schedule: daily 08:00 Asia/Almaty -> "
        "weekly wed 10:00 Asia/Almaty)\n"
    )
    after = listed(config)["Anna@example.org"]
    assert {k: v for k, v in after.items() if k not in ("frequency", "weekday", "time")} == {
        k: v for k, v in before.items() if k not in ("frequency", "weekday", "time")
    }
    assert (after["frequency"], after["weekday"], after["time"]) == ("weekly", "wed", "10:00")
    assert "unchanged" in ok(config, "subscribers", "add", "anna@example.org", "--update")

    table = ok(config, "subscribers", "list")
    assert "origin" in table and "cli" in table


def test_remove_keeps_the_history_and_export_shows_it(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, None, store_url=store_url)
    ok(config, "subscribers", "add", "anna@example.org", "--time", "08:00")
    one_digest_sent(config, "anna@example.org")
    assert status_counts(config)["sent"] == 1

    assert ok(config, "subscribers", "remove", "anna@example.org") == (
        "anna@example.org: removed; 0 digest(s) not yet sent cancelled\n"
    )
    assert status_counts(config)["sent"] == 1  # the history stays
    assert listed(config)["anna@example.org"]["status"] == "unsubscribed"
    assert "0 due" in ok(config, "digest", "send", "--now", LATER)
    assert ok(config, "subscribers", "remove", "anna@example.org") == (
        "anna@example.org: already unsubscribed; nothing changed\n"
    )
    missing = cmsfeed(config, "subscribers", "remove", "nobody@example.org")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1

    exported = json.loads(ok(config, "subscribers", "export", "anna@example.org"))
    assert exported["subscriber"]["status"] == "unsubscribed"
    assert exported["subscriber"]["origin"] == "cli"
    assert [(e["event"], e["by"]) for e in exported["history"]] == [
        ("added", "cli"),
        ("removed", "cli"),
    ]
    (digest,) = exported["digests"]
    assert digest["status"] == "sent" and len(digest["item_ids"]) == 1
    assert exported["bounces"] == []

    rows = list(
        csv.DictReader(
            io.StringIO(ok(config, "subscribers", "export", "anna@example.org", "--format", "csv"))
        )
    )
    assert {r["section"] for r in rows} == {"subscriber", "history", "digests"}
    values = {(r["section"], r["number"], r["field"]): r["value"] for r in rows}
    assert values[("subscriber", "1", "email")] == "anna@example.org"
    assert values[("digests", "1", "message_id")] == digest["message_id"]
    assert values[("history", "2", "event")] == "removed"


def test_erase_keeps_only_anonymous_counts(tmp_path: Path, store_url: str) -> None:
    config = write_config(
        tmp_path, None, store_url=store_url, extra='\n[[subscribers]]\nemail = "cfg@example.org"\n'
    )
    ok(config, "subscribers", "add", "anna@example.org", "--time", "08:00")
    one_digest_sent(config, "anna@example.org")
    message_id = json.loads(ok(config, "subscribers", "export", "anna@example.org"))["digests"][0][
        "message_id"
    ]
    counts = status_counts(config)

    refused = cmsfeed(config, "subscribers", "erase", "anna@example.org")  # no --yes, no "y"
    assert refused.returncode == 1 and "anna@example.org" in listed(config)
    out = ok(config, "subscribers", "erase", "anna@example.org", "--yes")
    assert out == (
        "anna@example.org: erased (1 history event(s), 0 bounce(s); 1 digest(s) kept without "
        "the address, 0 of them cancelled before sending)\n"
    )
    assert status_counts(config) == counts  # `digest status` totals stay right
    assert "anna@example.org" not in listed(config)
    gone = cmsfeed(config, "subscribers", "export", "anna@example.org")
    assert gone.returncode == 1 and "no such subscriber" in gone.stderr
    again = cmsfeed(config, "subscribers", "erase", "anna@example.org", "--yes")
    assert again.returncode == 1 and "no such subscriber" in again.stderr

    # Nothing in the store names the address or derives from it any more.
    url = load_config(config, {}).store.url
    store = Store.open(url)
    try:
        with store.engine.connect() as connection:
            dumped = " ".join(
                repr(row)
                for table in ("subscribers", "outbox", "bounces", "subscriber_events")
                for row in connection.exec_driver_sql(f"SELECT * FROM {table}")
            )
    finally:
        store.close()
    assert "anna" not in dumped.lower() and message_id not in dumped

    # An address the config file still lists would come back at the next start: refused.
    ok(config, "digest", "send", "--now", LATER)  # imports cfg@example.org
    listed_in_config = cmsfeed(config, "subscribers", "erase", "cfg@example.org", "--yes")
    assert listed_in_config.returncode == 1
    assert listed_in_config.stderr.startswith("error: cfg@example.org: listed in config.toml")
    assert "cfg@example.org" in listed(config)


def test_bad_input_is_one_line_and_exit_1(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, None, store_url=store_url)
    for args, says in (
        (["subscribers", "add", "not-an-address"], "email: "),
        (["subscribers", "add", "a@example.org", "--tz", "Mars/Olympus"], "tz: 'Mars/Olympus'"),
        (["subscribers", "add", "a@example.org", "--topic", "unicorn"], "topic: unknown"),
        (["subscribers", "add", "a@example.org", "--time", "25:00", "--lang", "de"], "; time: "),
    ):
        result = cmsfeed(config, *args)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert says in result.stderr
    assert listed(config) == {}


def test_send_status_preview_and_maildir(tmp_path: Path, store_url: str) -> None:
    config_path = write_config(tmp_path, None, store_url=store_url)
    ok(config_path, "subscribers", "add", "anna@example.org", "--time", "08:00")
    store = Store.open(load_config(config_path, {}).store.url)
    store.upsert_items([make_item("Argali survey")], T0 + timedelta(days=365 * 3))
    store.close()
    preview = ok(
        config_path,
        "digest",
        "preview",
        "--subscriber",
        "anna@example.org",
        "--out",
        str(tmp_path / "preview"),
        "--now",
        LATER,
    )
    assert "1 item(s)" in preview
    (eml,) = (tmp_path / "preview").glob("*.eml")
    assert b"List-Unsubscribe-Post" in eml.read_bytes()
    assert "Argali survey" in next((tmp_path / "preview").glob("*.html")).read_text()
    assert "1 sent" in ok(config_path, "digest", "send", "--now", LATER)
    assert "0 due" in ok(config_path, "digest", "send", "--now", LATER)
    assert status_counts(config_path)["sent"] == 1
    assert len(list(mailbox.Maildir(str(tmp_path / "maildir"), create=False))) == 1
    assert "0 digest(s) queued again" in ok(config_path, "digest", "retry")
