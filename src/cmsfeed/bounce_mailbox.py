"""Reading the bounce mailbox and acting on what it says. Does I/O (disk and the store).

`import_bounces` reads a Maildir, an mbox file, one message file or a folder of `.eml` files;
each message is parsed (`bounces.parse`), matched (`bounces.match`) and recorded and applied
by the store (`store.bounces`), one outcome line per message.

Nothing is ever deleted or rewritten. In a Maildir a message acted on (or found already
processed) is moved from new/ to cur/ with the S flag, the standard way a mail client shows it
as read; a message not acted on (unmatched, unreadable, not a bounce) stays where it is,
unread, for the operator. mbox and .eml files are never changed. Either way the store records
each report's key, so importing the same messages again changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import mailbox
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cmsfeed.bounces.match import Sent, Unmatched, match_report
from cmsfeed.bounces.parse import BounceParseError, Report, parse_report
from cmsfeed.bounces.verp import outbox_id_of
from cmsfeed.config import Config
from cmsfeed.errors import CmsfeedError
from cmsfeed.model import Clock
from cmsfeed.store import Store
from cmsfeed.store.bounces import ALREADY, SoftBouncePolicy

log = logging.getLogger(__name__)

_KIND_NAMES = {"hard": "hard bounce", "soft": "soft bounce", "complaint": "complaint"}


class BounceMailboxError(CmsfeedError):
    """The path given is not a mailbox, a message or a folder of messages."""


@dataclass(frozen=True, slots=True)
class BounceSettings:
    secret: bytes
    bounce_address: str  # VERP addresses are `local+token@domain` of this one
    policy: SoftBouncePolicy


def bounce_settings(config: Config, secret: bytes) -> BounceSettings:
    bounces = config.bounces
    return BounceSettings(
        secret,
        bounces.bounce_address(config.smtp.from_address),
        SoftBouncePolicy(bounces.soft_threshold, timedelta(days=bounces.soft_window_days)),
    )


@dataclass(frozen=True, slots=True)
class Letter:
    """One message as found: where, its bytes (or why they could not be read)."""

    label: str
    raw: bytes | None
    error: str | None = None
    maildir_file: Path | None = None  # set for Maildir messages, which are marked when done


@dataclass(frozen=True, slots=True)
class Outcome:
    label: str
    acted: bool  # recorded (now or before): marked in a Maildir
    line: str

    def __str__(self) -> str:
        return f"{self.label}: {self.line}"


@dataclass
class ImportReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.acted)

    @property
    def left(self) -> int:
        return sum(1 for outcome in self.outcomes if not outcome.acted)

    def summary(self) -> str:
        return f"{len(self.outcomes)} message(s): {self.processed} processed, {self.left} left"


def import_bounces(
    path: Path,
    store: Store,
    settings: BounceSettings,
    clock: Clock,
    *,
    new_only: bool = False,
) -> ImportReport:
    """Act on every message under `path`; `new_only` reads only a Maildir's new/ folder."""
    report = ImportReport()
    for letter in read_letters(path, new_only=new_only):
        if letter.raw is None:
            outcome = Outcome(letter.label, False, f"left in place: {letter.error}")
        else:
            acted, line = process_message(letter.raw, store, settings, clock)
            outcome = Outcome(letter.label, acted, line)
            if acted and letter.maildir_file is not None:
                mark_seen(letter.maildir_file)
        report.outcomes.append(outcome)
    return report


def process_message(
    raw: bytes, store: Store, settings: BounceSettings, clock: Clock
) -> tuple[bool, str]:
    """Act on one message; (whether it was acted on, one line saying what happened)."""
    try:
        report = parse_report(raw)
    except BounceParseError as err:
        return False, f"left in place: unreadable: {err}"
    if report.failures and store.is_bounce_processed(report.key):
        return True, ALREADY
    # Looked up in the order match_report trusts them, each only when the one before found none.
    by_verp = _by_verp(report, store, settings)
    by_message_id = None
    if by_verp is None and report.original_message_id:
        by_message_id = store.sent_by_message_id(report.original_message_id)
    subscribers: dict[str, str] = {}
    if by_verp is None and by_message_id is None:
        subscribers = store.subscriber_ids_by_email(
            address
            for failure in report.failures
            for address in (failure.recipient, failure.original_recipient)
            if address
        )
    matched = match_report(
        report, by_verp=by_verp, by_message_id=by_message_id, subscribers=subscribers
    )
    if isinstance(matched, Unmatched):
        return False, f"left in place: {matched.reason}"
    now = clock()
    lines: list[str] = []
    for target in matched:
        applied = store.apply_bounce(
            report.key, target, report.reported_at or now, now, settings.policy
        )
        what = _KIND_NAMES[target.kind] + (f" {target.status}" if target.status else "")
        action = applied.action
        if applied.action == "counted":
            action = f"counted ({applied.soft_count} of {settings.policy.threshold})"
        lines.append(f"{what} for {target.email} (by {target.matched_by}): {action}")
    return True, "; ".join(lines)


def _by_verp(report: Report, store: Store, settings: BounceSettings) -> Sent | None:
    for address in report.envelope_addresses:
        outbox_id = outbox_id_of(settings.secret, address, settings.bounce_address)
        if outbox_id is not None:
            return store.sent_by_id(outbox_id)
    return None


def read_bounce_maildir(
    config: Config, store: Store, secret: bytes, clock: Clock, reported: set[str]
) -> ImportReport:
    """The scheduled job of `cmsfeed run`: act on new/ of `[bounces] maildir` and log each
    outcome; a message left in place is logged once (its label goes into `reported`)."""
    assert config.bounces.maildir is not None
    try:
        report = import_bounces(
            Path(config.bounces.maildir),
            store,
            bounce_settings(config, secret),
            clock,
            new_only=True,
        )
    except CmsfeedError as err:  # one line for the operator; the next run tries again
        log.error("bounces: %s (config.toml: bounces.maildir)", err)
        return ImportReport()
    for outcome in report.outcomes:
        if outcome.acted:
            log.info("bounce %s", outcome)
        elif outcome.label not in reported:
            reported.add(outcome.label)
            log.warning("bounce %s", outcome)
    return report


# -- mailboxes ------------------------------------------------------------------------------


def read_letters(path: Path, *, new_only: bool = False) -> Iterator[Letter]:
    """The messages under `path`: a Maildir (new/, cur/), a folder of .eml files, an mbox
    file (it starts with "From "), or one message file."""
    if path.is_dir():
        if (path / "new").is_dir() and (path / "cur").is_dir():
            yield from _maildir(path, new_only)
        else:
            for file in sorted(path.glob("*.eml")):
                yield _read(file, str(file))
        return
    try:
        with path.open("rb") as opened:
            start = opened.read(5)
    except OSError as err:
        raise BounceMailboxError(str(path), f"cannot read ({err.strerror})") from err
    if start == b"From ":
        yield from _mbox(path)
    else:
        yield _read(path, str(path))


def _read(file: Path, label: str) -> Letter:
    try:
        return Letter(label, file.read_bytes())
    except OSError as err:
        return Letter(label, None, f"cannot read ({err.strerror})")


def _maildir(path: Path, new_only: bool) -> Iterator[Letter]:
    # Listed before any is marked, so a message moved to cur/ is not read twice.
    files = [
        file
        for folder in (("new",) if new_only else ("new", "cur"))
        for file in sorted((path / folder).iterdir())
        if not file.name.startswith(".") and file.is_file()
    ]
    for file in files:
        seen = file.parent.name == "cur" and "S" in _flags(file.name)
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            continue  # moved to cur/ by another worker reading the same Maildir
        except OSError as err:
            yield Letter(str(file), None, f"cannot read ({err.strerror})")
            continue
        yield Letter(str(file), raw, maildir_file=None if seen else file)


def _mbox(path: Path) -> Iterator[Letter]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for number, key in enumerate(box.keys(), start=1):
            yield Letter(f"{path}#{number}", box.get_bytes(key))
    finally:
        box.close()


def _flags(name: str) -> str:
    _, separator, info = name.partition(":2,")
    return info if separator else ""


def mark_seen(file: Path) -> None:
    """Move a Maildir message to cur/ with the S (seen) flag: renamed, never rewritten."""
    base, _, _ = file.name.partition(":2,")
    flags = "".join(sorted(set(_flags(file.name)) | {"S"}))
    target = file.parent.parent / "cur" / f"{base}:2,{flags}"
    if target != file:
        # Another worker reading the same Maildir may have moved it first.
        with contextlib.suppress(FileNotFoundError):
            os.replace(file, target)
