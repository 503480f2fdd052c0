"""Importing the bounce mailbox on SQLite and PostgreSQL: real digests sent, real-shaped
bounces and complaints about them, matched by Message-ID and by VERP, applied once."""

from __future__ import annotations

import hashlib
import mailbox
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from cmsfeed.bounces.verp import verp_address
from cmsfeed.cli import main  # noqa: F401  (registers every command)
from cmsfeed.cli.app import cli
from cmsfeed.config import SubscriberConfig
from cmsfeed.store.schema import bounces
from cmsfeed.subscribers import Subscriber
from cmsfeed.subscriptions.starting_list import import_configured
from support.bounce import DATA, ENV, RECIPIENTS, about, deliver, setup
from support.clock import T0
from support.config import write_config
from support.items import make_item

EVERY_FIXTURE = sorted(path.name for path in DATA.iterdir())
OTHERS = ["bystander@example.org"]


def statuses(made: object, emails: list[str]) -> dict[str, str]:
    return {email: made.status(email) for email in emails}  # type: ignore[attr-defined]


def bounce_rows(made: object) -> int:
    with made.bounces.engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(select(func.count()).select_from(bounces)).scalar_one())


def test_importing_a_maildir_twice_changes_nothing_the_second_time(
    tmp_path: Path, store_url: str
) -> None:
    emails = [*RECIPIENTS.values(), *OTHERS]
    made = setup(tmp_path, store_url, emails)
    for name in EVERY_FIXTURE:
        recipient = RECIPIENTS.get(name)
        raw = about(name, message_id=made.message_id(recipient)) if recipient else about(name)
        deliver(made.maildir, name, raw)

    first = made.import_()
    lines = {Path(o.label).name: o.line for o in first.outcomes}
    assert lines["postfix-hard.eml"] == (
        "hard bounce 5.1.1 for reader.gone@example.org (by message-id): suspended"
    )
    assert lines["gmail-hard.eml"].endswith("(by message-id): suspended")
    assert lines["microsoft-hard.eml"].startswith("hard bounce 5.1.10 for reader.ms@outlook.com")
    assert lines["exim-hard.eml"].endswith("(by message-id): suspended")
    assert lines["soft-mailbox-full.eml"] == (
        "soft bounce 4.2.2 for reader.full@example.org (by message-id): counted (1 of 3)"
    )
    assert lines["arf-yahoo.eml"] == (
        "complaint for reader.yahoo@yahoo.com (by message-id): unsubscribed"
    )
    # Unmatched, not bounces, unreadable: reported and left unread in new/.
    assert lines["arf-microsoft-jmrp.eml"] == (
        "left in place: complaint for a hidden recipient: matches no digest or subscriber"
    )
    assert lines["autoreply-outlook.eml"] == "left in place: an auto-reply, not a bounce"
    assert lines["delayed-warning.eml"].startswith("left in place: a delivery status")
    assert lines["garbage.eml"].startswith("left in place: unreadable: ")
    assert (first.processed, first.left) == (6, 4)
    left = {"arf-microsoft-jmrp.eml", "autoreply-outlook.eml", "delayed-warning.eml", "garbage.eml"}
    assert {p.name for p in (made.maildir / "new").iterdir()} == left
    marked = sorted(p.name for p in (made.maildir / "cur").iterdir())
    assert marked == sorted(f"{name}:2,S" for name in RECIPIENTS)
    for name in RECIPIENTS:  # moved, never rewritten
        assert (made.maildir / "cur" / f"{name}:2,S").read_bytes() == about(
            name, message_id=made.message_id(RECIPIENTS[name])
        )
    expected = {
        "reader.gone@example.org": "suspended",
        "reader.gmail@gmail.com": "suspended",
        "reader.ms@outlook.com": "suspended",
        "reader.exim@example.net": "suspended",
        "reader.full@example.org": "active",
        "reader.yahoo@yahoo.com": "unsubscribed",
        "bystander@example.org": "active",
    }
    assert statuses(made, emails) == expected
    assert bounce_rows(made) == 6

    made.clock.advance(hours=1)
    second = made.import_()
    assert (second.processed, second.left) == (6, 4)
    assert {o.line for o in second.outcomes if o.acted} == {"already processed"}
    assert statuses(made, emails) == expected
    assert bounce_rows(made) == 6
    assert {p.name for p in (made.maildir / "new").iterdir()} == left
    assert sorted(p.name for p in (made.maildir / "cur").iterdir()) == marked


def test_a_complaint_matched_by_verp_unsubscribes_and_blocks_future_mail(
    tmp_path: Path, store_url: str
) -> None:
    reader = "reader.yahoo@yahoo.com"
    made = setup(tmp_path, store_url, [reader, *OTHERS], verp=True)
    address = verp_address(
        made.settings.secret, made.outbox_id(reader), made.settings.bounce_address
    )
    # Microsoft's report hides the recipient and drops the Message-ID: only VERP tells.
    deliver(made.maildir, "jmrp.eml", about("arf-microsoft-jmrp.eml", envelope=address))
    (outcome,) = made.import_().outcomes
    assert outcome.line == f"complaint for {reader} (by verp): unsubscribed"
    assert made.status(reader) == "unsubscribed"

    # No digest for them any more, from a round, the config file or the operator.
    made.clock.advance(days=1)
    made.digests.upsert_items(
        [make_item("Saiga calving", published_at=T0 + timedelta(days=2))], made.clock()
    )
    made.clock.advance(days=1)
    made.round()
    assert len(made.digests.sent_message_ids()[reader]) == 1
    assert len(made.digests.sent_message_ids()["bystander@example.org"]) == 2
    config = made.config.model_copy(update={"subscribers": [SubscriberConfig(email=reader)]})
    import_configured(config, made.digests, made.clock())
    assert made.status(reader) == "unsubscribed"
    assert made.bounces.complained_at(reader) is not None

    # Signing up again (a confirmed sign-up saves them active) is the one way back ...
    made.clock.advance(days=1)
    made.digests.save_subscriber(Subscriber(reader, origin="web"), made.clock())
    assert made.status(reader) == "active"
    assert made.bounces.complained_at(reader) is None
    # ... and the old complaint, arriving again as another copy, is stale: it changes nothing.
    copy = about("arf-microsoft-jmrp.eml", envelope=address, report_id="<copy@hotmail.com>")
    deliver(made.maildir, "jmrp-copy.eml", copy)
    lines = [o.line for o in made.import_().outcomes]
    assert f"complaint for {reader} (by verp): stale" in lines
    assert made.status(reader) == "active"


def test_a_complained_address_is_not_re_added_by_the_operator_or_the_config_file(
    tmp_path: Path, store_url: str
) -> None:
    reader = "reader.yahoo@yahoo.com"
    made = setup(tmp_path, store_url, [reader, *OTHERS])
    deliver(made.maildir, "y.eml", about("arf-yahoo.eml", message_id=made.message_id(reader)))
    made.import_()
    made.digests.remove_subscriber(Subscriber(reader).id)
    assert made.digests.get_subscriber(reader) is None
    config = made.config.model_copy(update={"subscribers": [SubscriberConfig(email=reader)]})
    import_configured(config, made.digests, made.clock())  # the file lists them still
    assert made.status(reader) == "unsubscribed"
    path = write_config(tmp_path, None, store_url=store_url)
    result = CliRunner().invoke(
        cli, ["--config", str(path), "subscribers", "add", reader.upper()], env=ENV
    )
    assert result.exit_code == 1
    assert result.output == (
        "error: READER.YAHOO@yahoo.com: reported a digest as spam on 2024-12-03; "
        "only the reader can subscribe again, by signing up at /subscribe\n"
    )
    assert made.status(reader) == "unsubscribed"


def test_a_message_id_sent_to_someone_else_is_left_in_place(tmp_path: Path, store_url: str) -> None:
    made = setup(tmp_path, store_url, ["reader.gone@example.org", *OTHERS])
    raw = about("postfix-hard.eml", message_id=made.message_id("bystander@example.org"))
    deliver(made.maildir, "b.eml", raw)
    (outcome,) = made.import_().outcomes
    assert not outcome.acted
    assert "digest to bystander@example.org but reports reader.gone@example.org" in outcome.line
    assert made.status("bystander@example.org") == "active"
    assert made.status("reader.gone@example.org") == "active"
    assert (made.maildir / "new" / "b.eml").exists()


def test_soft_bounces_suspend_only_past_the_threshold_within_the_window(
    tmp_path: Path, store_url: str
) -> None:
    reader = "reader.full@example.org"
    made = setup(tmp_path, store_url, [reader], soft_threshold=3, soft_window_days=14)
    start = made.clock()

    def soft(day: int, report: str) -> str:
        made.clock.now = start + timedelta(days=day)
        date = made.clock.now.strftime("%a, %d %b %Y %H:%M:%S +0000")
        raw = about("soft-mailbox-full.eml", message_id="", report_id=report, date=date)
        path = tmp_path / f"{report.strip('<>')}.eml"
        path.write_bytes(raw)
        (outcome,) = made.import_(path).outcomes
        return outcome.line

    by = f"soft bounce 4.2.2 for {reader} (by recipient)"
    assert soft(0, "<s1@mx>") == f"{by}: counted (1 of 3)"
    assert soft(10, "<s2@mx>") == f"{by}: counted (2 of 3)"
    assert soft(10, "<s2@mx>") == "already processed"  # the same report twice counts once
    assert soft(20, "<s3@mx>") == f"{by}: counted (2 of 3)"  # day 0 left the window
    assert made.status(reader) == "active"
    assert soft(22, "<s4@mx>") == f"{by}: suspended"  # days 10, 20, 22
    assert made.status(reader) == "suspended"

    # The operator reactivates them: the soft bounces from before no longer count, so the
    # next one (days 10, 20 and 22 are still inside the window) is the first, not the fourth.
    subscriber = made.digests.get_subscriber(reader)
    assert subscriber is not None
    assert made.digests.reactivate_subscriber(subscriber.id, made.clock()) == 0
    assert soft(23, "<s5@mx>") == f"{by}: counted (1 of 3)"
    assert soft(24, "<s6@mx>") == f"{by}: counted (2 of 3)"
    assert made.status(reader) == "active"
    assert soft(25, "<s7@mx>") == f"{by}: suspended"  # three new ones: suspended again


def test_soft_bounces_about_one_digest_count_once(tmp_path: Path, store_url: str) -> None:
    reader = "reader.full@example.org"
    made = setup(tmp_path, store_url, [reader], soft_threshold=2)
    for number in range(3):  # the server reported the same digest three times
        raw = about(
            "soft-mailbox-full.eml",
            message_id=made.message_id(reader),
            report_id=f"<again{number}@mx>",
        )
        deliver(made.maildir, f"{number}.eml", raw)
    lines = [o.line for o in made.import_().outcomes]
    assert lines == [f"soft bounce 4.2.2 for {reader} (by message-id): counted (1 of 2)"] * 3
    assert made.status(reader) == "active"


def test_mbox_and_eml_files_are_read_and_never_changed(tmp_path: Path, store_url: str) -> None:
    emails = ["reader.gone@example.org", "reader.gmail@gmail.com", "reader.ms@outlook.com"]
    made = setup(tmp_path, store_url, [*emails, *OTHERS])
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(str(path))
    for name in ("postfix-hard.eml", "gmail-hard.eml", "autoreply-outlook.eml"):
        recipient = RECIPIENTS.get(name)
        box.add(about(name, message_id=made.message_id(recipient)) if recipient else about(name))
    box.flush()
    box.close()
    folder = tmp_path / "eml"
    folder.mkdir()
    (folder / "ms.eml").write_bytes(
        about("microsoft-hard.eml", message_id=made.message_id("reader.ms@outlook.com"))
    )
    (folder / "garbage.eml").write_bytes((DATA / "garbage.eml").read_bytes())
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (path, *folder.iterdir())}

    from_mbox = made.import_(path)
    assert [o.label for o in from_mbox.outcomes] == [f"{path}#1", f"{path}#2", f"{path}#3"]
    assert [o.acted for o in from_mbox.outcomes] == [True, True, False]
    from_folder = made.import_(folder)
    assert [(Path(o.label).name, o.acted) for o in from_folder.outcomes] == [
        ("garbage.eml", False),
        ("ms.eml", True),
    ]
    assert statuses(made, emails) == dict.fromkeys(emails, "suspended")
    assert made.status("bystander@example.org") == "active"
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before}
    assert after == before


def test_many_bounces_in_many_formats_each_count_once(tmp_path: Path, store_url: str) -> None:
    """N bounces for N readers in four formats, garbage between them: N suspended, the
    garbage alone left; a second import changes nothing."""
    formats = ["postfix-hard.eml", "gmail-hard.eml", "microsoft-hard.eml", "exim-hard.eml"]
    readers = [f"reader{number:02d}@example{number % 3}.org" for number in range(24)]
    made = setup(tmp_path, store_url, [*readers, *OTHERS])
    for number, reader in enumerate(readers):
        name = formats[number % len(formats)]
        raw = about(
            name,
            message_id=made.message_id(reader),
            recipient=reader,
            report_id=f"<report{number}@mx.example>",
        )
        deliver(made.maildir, f"{number:02d}-{name}", raw)
        if number % 6 == 0:
            deliver(made.maildir, f"{number:02d}-zz-garbage", (DATA / "garbage.eml").read_bytes())
    first = made.import_()
    assert (first.processed, first.left) == (24, 4)
    assert statuses(made, readers) == dict.fromkeys(readers, "suspended")
    assert made.status("bystander@example.org") == "active"
    second = made.import_()
    assert (second.processed, second.left) == (24, 4)
    assert bounce_rows(made) == 24


def test_two_workers_reading_one_maildir_act_on_each_message_once(
    tmp_path: Path, store_url: str
) -> None:
    readers = [f"reader{number:02d}@example.org" for number in range(16)]
    made = setup(tmp_path, store_url, readers)
    for number, reader in enumerate(readers):
        raw = about(
            "postfix-hard.eml",
            message_id=made.message_id(reader),
            recipient=reader,
            report_id=f"<twice{number}@mx.example>",
        )
        deliver(made.maildir, f"{number:02d}", raw)
    with ThreadPoolExecutor(2) as pool:
        reports = list(pool.map(lambda _: made.import_(new_only=True), range(2)))
    lines = [o.line for report in reports for o in report.outcomes]
    assert not [line for line in lines if line.startswith("left in place")]
    assert sum(1 for line in lines if line.endswith(": suspended")) == len(readers)
    assert statuses(made, readers) == dict.fromkeys(readers, "suspended")
    assert bounce_rows(made) == len(readers)
    assert len(list((made.maildir / "cur").iterdir())) == len(readers)
    assert not list((made.maildir / "new").iterdir())
