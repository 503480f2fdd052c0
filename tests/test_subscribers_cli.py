"""`cmsfeed subscribers` and `cmsfeed digest` through the real CLI, on SQLite and PostgreSQL,
with a Maildir."""

from __future__ import annotations

import json
import mailbox
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from cmsfeed.cli import main  # noqa: F401  (registers every command)
from cmsfeed.cli.app import cli
from cmsfeed.config import load_config
from cmsfeed.store import Store
from support.clock import T0
from support.config import write_config
from support.items import make_item


def invoke(config: Path, *args: str) -> str:
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"CMSFEED_SECRET": "s"}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_add_list_import_remove(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, None, store_url=store_url)
    out = invoke(
        config,
        "subscribers",
        "add",
        "Anna@Example.ORG",
        "--lang",
        "ru",
        "--topic",
        "argali",
        "--frequency",
        "daily",
        "--time",
        "08:00",
        "--tz",
        "Asia/Almaty",
    )
    assert "anna@example.org: subscribed" in out.lower()
    records = tmp_path / "people.json"
    records.write_text(
        json.dumps(
            [
                {
                    "email": "b@example.org",
                    "frequency": "weekly",
                    "weekday": "fri",
                    "timezone": "Asia/Tashkent",
                }
            ]
        )
    )
    invoke(config, "subscribers", "import", str(records))
    listed = json.loads(invoke(config, "subscribers", "list", "--format", "json"))
    by_email = {s["email"]: s for s in listed}
    assert by_email["Anna@example.org"]["timezone"] == "Asia/Almaty"
    assert by_email["Anna@example.org"]["topics"] == ["argali"]
    assert by_email["b@example.org"]["weekday"] == "fri"
    invoke(config, "subscribers", "remove", "b@example.org")
    assert len(json.loads(invoke(config, "subscribers", "list", "--format", "json"))) == 1


def test_bad_input_is_one_line_and_exit_1(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, None, store_url=store_url)
    for args in (
        ["subscribers", "add", "not-an-address"],
        ["subscribers", "add", "a@example.org", "--tz", "Mars/Olympus"],
        ["subscribers", "add", "a@example.org", "--topic", "unicorn"],
    ):
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == 1, result.output
        assert result.output.startswith("error: ") and result.output.count("\n") == 1


def test_send_status_preview_and_maildir(tmp_path: Path, store_url: str) -> None:
    config_path = write_config(tmp_path, None, store_url=store_url)
    invoke(config_path, "subscribers", "add", "anna@example.org", "--time", "08:00")
    store = Store.open(load_config(config_path, {}).store.url)
    store.upsert_items([make_item("Argali survey")], T0 + timedelta(days=365 * 3))
    store.close()
    later = (T0 + timedelta(days=365 * 3 + 2)).isoformat()
    preview = invoke(
        config_path,
        "digest",
        "preview",
        "--subscriber",
        "anna@example.org",
        "--out",
        str(tmp_path / "preview"),
        "--now",
        later,
    )
    assert "1 item(s)" in preview
    (eml,) = (tmp_path / "preview").glob("*.eml")
    assert b"List-Unsubscribe-Post" in eml.read_bytes()
    assert "Argali survey" in next((tmp_path / "preview").glob("*.html")).read_text()
    assert "1 sent" in invoke(config_path, "digest", "send", "--now", later)
    assert "0 due" in invoke(config_path, "digest", "send", "--now", later)
    status = json.loads(invoke(config_path, "digest", "status", "--format", "json"))
    assert status["counts"]["sent"] == 1
    assert len(list(mailbox.Maildir(str(tmp_path / "maildir"), create=False))) == 1
    assert "0 digest(s) queued again" in invoke(config_path, "digest", "retry")
