"""The edges of bounce handling: `cmsfeed bounces import`, the [bounces] settings, the
scheduled read of `cmsfeed run`, and signing up again through the real web app after a
complaint."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cmsfeed.bounce_mailbox import bounce_settings, import_bounces, read_bounce_maildir
from cmsfeed.cli import main  # noqa: F401  (registers every command)
from cmsfeed.cli.app import cli
from cmsfeed.config import load_config
from cmsfeed.delivery import run_round
from cmsfeed.errors import ConfigError
from cmsfeed.scheduler import Scheduler
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from cmsfeed.wiring import build_delivery
from support.bounce import DATA, ENV, about, deliver, setup
from support.clock import T0
from support.config import write_config
from support.items import make_item
from support.signup_site import ENV as WEB_ENV
from support.signup_site import signup, signup_site  # noqa: F401  (the `site` fixture)


def test_cli_import_prints_one_line_per_message_and_json(tmp_path: Path, store_url: str) -> None:
    path = write_config(tmp_path, None, store_url=store_url)
    store = Store.open(load_config(path, ENV).store.url)
    try:
        store.save_subscriber(Subscriber("reader.exim@example.net"), T0)
    finally:
        store.close()
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("exim-hard.eml", "garbage.eml"):
        (folder / name).write_bytes((DATA / name).read_bytes())
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(path), "bounces", "import", str(folder)], env=ENV)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{folder / 'exim-hard.eml'}: hard bounce 5.1.1 for reader.exim@example.net "
        "(by recipient): suspended",
        f"{folder / 'garbage.eml'}: left in place: unreadable: message: "
        "no mail headers (not an email message)",
        "2 message(s): 1 processed, 1 left",
    ]
    again = runner.invoke(
        cli,
        ["--config", str(path), "bounces", "import", str(folder), "--format", "json"],
        env=ENV,
    )
    assert json.loads(again.output) == [
        {
            "message": str(folder / "exim-hard.eml"),
            "processed": True,
            "outcome": "already processed",
        },
        {
            "message": str(folder / "garbage.eml"),
            "processed": False,
            "outcome": "left in place: unreadable: message: no mail headers (not an email message)",
        },
    ]


def test_bounces_settings_are_checked_and_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, None, extra='[bounces]\nmaildir = "mail/bounces"\nverp = true\n')
    config = load_config(path, {})
    assert config.bounces.maildir == str((tmp_path / "mail" / "bounces").resolve())
    assert config.bounces.bounce_address("news@cmsfeed.example") == "bounces@cmsfeed.example"
    bad = write_config(
        tmp_path,
        None,
        extra='[bounces]\nverp_address = "bounces+x@example.org"\nsoft_threshold = 0\ntypo = 1\n',
    )
    with pytest.raises(ConfigError) as raised:
        load_config(bad, {})
    assert raised.value.problems == [
        "config.toml: bounces.verp_address: expected an address such as bounces@example.org "
        "(without '+'), got 'bounces+x@example.org'",
        "config.toml: bounces.soft_threshold: input should be greater than or equal to 1, got 0",
        "config.toml: bounces.typo: unknown key (check its spelling against the README)",
    ]


def test_the_scheduled_read_acts_on_new_mail_and_reports_what_it_leaves_once(
    tmp_path: Path, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    reader = "reader.gone@example.org"
    made = setup(tmp_path, store_url, [reader], maildir=str(tmp_path / "bounces"))
    deliver(made.maildir, "hard", about("postfix-hard.eml", message_id=made.message_id(reader)))
    deliver(made.maildir, "away", about("autoreply-outlook.eml"))
    reported: set[str] = set()
    config, store = made.config, made.digests
    with caplog.at_level(logging.INFO, logger="cmsfeed.bounce_mailbox"):
        first = read_bounce_maildir(
            config, store, made.delivery.composer.secret, made.clock, reported
        )
        second = read_bounce_maildir(
            config, store, made.delivery.composer.secret, made.clock, reported
        )
    assert (first.processed, first.left) == (1, 1)
    assert (second.processed, second.left) == (0, 1)  # new/ only: the marked one is not re-read
    assert made.status(reader) == "suspended"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"bounce {made.maildir / 'new' / 'away'}: left in place: an auto-reply, not a bounce"
    ]


def test_a_missing_bounce_maildir_is_one_error_line_not_a_crash(
    tmp_path: Path, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    made = setup(tmp_path, store_url, ["a@example.org"], maildir=str(tmp_path / "nowhere"))
    with caplog.at_level(logging.ERROR, logger="cmsfeed.bounce_mailbox"):
        report = read_bounce_maildir(
            made.config, made.digests, made.delivery.composer.secret, made.clock, set()
        )
    assert report.outcomes == []
    assert [r.getMessage() for r in caplog.records] == [
        f"bounces: {tmp_path / 'nowhere'}: cannot read (No such file or directory) "
        "(config.toml: bounces.maildir)"
    ]


def test_run_schedules_the_bounce_read_only_when_a_maildir_is_set() -> None:
    async def nothing() -> None:
        return None

    async def jobs(bounces: object) -> dict[str, object]:
        scheduler = Scheduler(
            ingest=nothing,
            digest_round=nothing,
            retry=nothing,
            schedules=set,
            ingest_minutes=60,
            retry_seconds=60,
            bounces=bounces,  # type: ignore[arg-type]
            bounce_minutes=7,
        )
        await scheduler.start()
        try:
            return {job.id: job.trigger for job in scheduler.scheduler.get_jobs()}
        finally:
            scheduler.shutdown()

    with_bounces = asyncio.run(jobs(nothing))
    assert str(with_bounces["bounces"]) == "interval[0:07:00]"
    assert "bounces" not in asyncio.run(jobs(None))


def test_after_a_complaint_only_signing_up_again_brings_digests_back(site) -> None:  # type: ignore[no-untyped-def]
    base, smtp, (config, store, digests), clock = site
    reader = "anna@example.org"
    digests.save_subscriber(Subscriber(reader), clock())
    complaint = Path(config.digests.maildir).parent / "complaint.eml"
    complaint.write_bytes(about("arf-yahoo.eml", message_id="", recipient=reader))
    settings = bounce_settings(config, WEB_ENV["CMSFEED_SECRET"].encode())
    (outcome,) = import_bounces(complaint, store, settings, clock).outcomes
    assert outcome.line == f"complaint for {reader} (by recipient): unsubscribed"
    assert digests.get_subscriber(reader).status == "unsubscribed"

    clock.advance(days=1)
    with httpx.Client(base_url=base) as web:
        assert (
            signup(web, {"email": reader, "language": "en", "frequency": "daily"}).status_code
            == 200
        )
        text = smtp.handler.to(reader)[-1].message.get_body(("plain",)).get_content()
        token = re.search(r"/confirm\?token=(\S+)", text).group(1)  # type: ignore[union-attr]
        assert web.post("/confirm", data={"token": token}).status_code == 200
    assert digests.get_subscriber(reader).status == "active"
    assert store.complained_at(reader) is None

    clock.advance(hours=1)
    store.upsert_items([make_item("Argali survey", published_at=clock())], clock())
    clock.advance(days=1)
    delivery = build_delivery(config, digests, clock, WEB_ENV)

    async def go() -> None:
        await run_round(delivery)
        await delivery.transport.close()

    asyncio.run(go())
    assert "Argali survey" in smtp.handler.to(reader)[-1].message["Subject"]


def test_the_run_command_builds_its_bounce_job_from_the_config(
    tmp_path: Path, store_url: str
) -> None:
    from cmsfeed.cli.app import Context
    from cmsfeed.cli.run import bounce_job

    plain = Context(config_path=write_config(tmp_path, None, store_url=store_url), debug=False)
    assert bounce_job(plain, b"s", asyncio.Event()) is None
    maildir = tmp_path / "box"
    for folder in ("new", "cur", "tmp"):
        (maildir / folder).mkdir(parents=True)
    deliver(maildir, "away", about("autoreply-outlook.eml"))
    deliver(maildir, "exim", (DATA / "exim-hard.eml").read_bytes())
    path = write_config(
        tmp_path, None, extra=f'[bounces]\nmaildir = "{maildir}"\n', store_url=store_url
    )
    context = Context(config_path=path, debug=False, environ=dict(ENV))
    try:
        context.store.save_subscriber(Subscriber("reader.exim@example.net"), T0)
        job = bounce_job(context, b"s", asyncio.Event())
        assert job is not None
        asyncio.run(job())
        assert sorted(p.name for p in (maildir / "cur").iterdir()) == ["exim:2,S"]
        assert sorted(p.name for p in (maildir / "new").iterdir()) == ["away"]
        found = context.store.get_subscriber("reader.exim@example.net")
        assert found is not None and found.status == "suspended"
        stopped = asyncio.Event()
        stopped.set()  # after SIGTERM the job does nothing
        deliver(maildir, "exim2", (DATA / "exim-hard.eml").read_bytes())
        asyncio.run(bounce_job(context, b"s", stopped)())  # type: ignore[misc]
        assert (maildir / "new" / "exim2").exists()
    finally:
        context.store.close()
