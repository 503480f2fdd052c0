"""A returned message's bytes -> what it reports. Pure: no I/O.

Three kinds of message carry news about a digest:

- a delivery status notification (RFC 3464: `multipart/report; report-type=delivery-status`):
  per recipient an Action and an enhanced status code (RFC 3463). `Action: failed` with a
  5.x.x status is a hard bounce, with 4.x.x a soft one (a server that gave up retrying, e.g.
  4.2.2 mailbox full); `delayed` is only a warning and `delivered`/`relayed` good news;
- an abuse report (ARF, RFC 5965: `report-type=feedback-report`) from a mailbox provider's
  feedback loop: `Feedback-Type: abuse` (or `fraud`) is the reader's spam complaint;
- anything else: GNU Mailman's detectors (flufl.bounce) recognise the many non-standard
  bounce formats (Exim's plain text, old Exchange, qmail, ...), which name the address and
  whether the failure is permanent, but no status code.

An auto-reply (out of office) is not a bounce, and says so. A message the parser cannot
make sense of raises `BounceParseError`; nothing is guessed.
"""

from __future__ import annotations

import email
import email.parser
import email.utils
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import Message
from typing import Literal, cast

from flufl.bounce import all_failures

from cmsfeed.errors import CmsfeedError

Kind = Literal["hard", "soft", "complaint"]
Format = Literal["dsn", "arf", "heuristic", "none"]

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_REPLY_CODE = re.compile(r"\b([245])\d\d\b")
_BODY_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
_COMPLAINTS = ("abuse", "fraud")  # ARF types that are the reader's complaint
# Headers that carry the address a report was delivered to: the VERP address, when it is on.
_ENVELOPE_HEADERS = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to")
_SEVERITY = {"complaint": 3, "hard": 2, "soft": 1}


class BounceParseError(CmsfeedError):
    """A message that cannot be read as mail, or a report missing what it must carry."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One recipient a report is about."""

    recipient: str | None  # the address, lowercased; None when the report hides it
    kind: Kind
    status: str | None = None  # enhanced status code such as "5.1.1"
    detail: str = ""  # the server's diagnostic, or the feedback type
    original_recipient: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    key: str  # what makes a second import of the same message a no-op
    format: Format
    failures: tuple[Failure, ...]
    original_message_id: str | None = None  # the digest's Message-ID, when the report quotes it
    envelope_addresses: tuple[str, ...] = ()  # where it was delivered to, where VERP shows
    reported_at: datetime | None = None
    reason: str = ""  # why a message with no failures is not acted on

    @property
    def kind(self) -> Kind | None:
        """The most severe kind among the failures (complaint, then hard, then soft)."""
        if not self.failures:
            return None
        return max((failure.kind for failure in self.failures), key=lambda k: _SEVERITY[k])


def message_key(raw: bytes, message: Message) -> str:
    """The report's own Message-ID when it has one (the same across Maildir, mbox and .eml
    copies), else a hash of its bytes."""
    found = _clean_message_id(message.get("Message-ID"))
    if found:
        return f"mid:{found[:240]}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def parse_report(raw: bytes) -> Report:
    """What `raw` reports; raises BounceParseError for a message that is not mail at all."""
    if not raw.strip():
        raise BounceParseError("message", "empty")
    message = email.message_from_bytes(raw)
    if not message.keys() or message.get_payload() is None:
        raise BounceParseError("message", "no mail headers (not an email message)")
    head = _Head(message_key(raw, message), _envelope_addresses(message), _date(message["Date"]))
    report_type = (message.get_param("report-type") or "") if message.is_multipart() else ""
    report_type = str(report_type).lower()
    if message.get_content_type() == "multipart/report" and report_type == "delivery-status":
        failures, reason = _dsn_failures(message)
        return head.report("dsn", failures, _original_message_id(message), reason)
    if message.get_content_type() == "multipart/report" and report_type == "feedback-report":
        return _arf_report(message, head)
    if _is_auto_reply(message):
        return head.report("none", (), None, "an auto-reply, not a bounce")
    return _heuristic_report(message, head)


@dataclass(frozen=True, slots=True)
class _Head:
    """What every report carries, whatever its format."""

    key: str
    envelope_addresses: tuple[str, ...]
    reported_at: datetime | None

    def report(
        self,
        format: Format,
        failures: tuple[Failure, ...],
        original_message_id: str | None,
        reason: str = "",
    ) -> Report:
        return Report(
            key=self.key,
            format=format,
            failures=failures,
            original_message_id=original_message_id,
            envelope_addresses=self.envelope_addresses,
            reported_at=self.reported_at,
            reason=reason,
        )


# -- delivery status notifications (RFC 3464) ---------------------------------------------------


def _dsn_failures(message: Message) -> tuple[tuple[Failure, ...], str]:
    failures: list[Failure] = []
    actions: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            raise BounceParseError("delivery-status", "the report's fields cannot be read")
        for block in blocks[1:]:  # the first block is about the message, the rest per recipient
            if not isinstance(block, Message):
                raise BounceParseError("delivery-status", "the report's fields cannot be read")
            action = str(block.get("Action", "")).strip().lower()
            actions.append(action.split()[0] if action else "(none)")
            if not action.startswith(("failed", "error")):  # opensmtpd writes "error"
                continue
            failures.append(_dsn_failure(block))
    if failures:
        return tuple(failures), ""
    if not actions:
        raise BounceParseError("delivery-status", "no per-recipient fields in the report")
    return (), f"a delivery status notification with no failure (Action: {', '.join(actions)})"


def _dsn_failure(block: Message) -> Failure:
    final = _address(block.get("Final-Recipient"))
    original = _address(block.get("Original-Recipient"))
    diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
    status_field = str(block.get("Status", "")).strip()
    status = _status(status_field) or _status(diagnostic)
    if status is not None and status.startswith("2"):
        raise BounceParseError(
            final or "delivery-status", f"Action: failed with a success status {status}"
        )
    if status is not None:
        kind: Kind = "hard" if status.startswith("5") else "soft"
    else:
        code = _REPLY_CODE.search(diagnostic.partition(";")[2])
        if code is None or code.group(1) == "2":
            raise BounceParseError(
                final or "delivery-status",
                f"Action: failed without a Status or reply code (Status: {status_field!r})",
            )
        kind = "hard" if code.group(1) == "5" else "soft"
    if final is None and original is None:
        raise BounceParseError("delivery-status", "a failed recipient without Final-Recipient")
    return Failure(final or original, kind, status, diagnostic[:300], original)


# -- abuse reports (ARF, RFC 5965) --------------------------------------------------------------


def _arf_report(message: Message, head: _Head) -> Report:
    fields: Message | None = None
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                fields = payload[0]
            elif isinstance(payload, str):
                fields = email.parser.HeaderParser().parsestr(payload.lstrip())
            break
    if fields is None:
        raise BounceParseError("feedback-report", "no message/feedback-report part")
    feedback = str(fields.get("Feedback-Type", "")).strip().lower()
    original = _original_headers(message)
    # The original envelope sender is where a VERP token shows in an abuse report.
    addresses = list(head.envelope_addresses)
    for value in (fields["Original-Mail-From"], original["Return-Path"] if original else None):
        found = _address(value)
        if found:
            addresses.append(found)
    head = replace(head, envelope_addresses=tuple(dict.fromkeys(addresses)))
    message_id = _original_message_id(message)
    if feedback not in _COMPLAINTS:
        reason = f"a feedback report of type {feedback or '(none)'!r}, not a complaint"
        return head.report("arf", (), message_id, reason)
    recipients = [_address(value) for value in fields.get_all("Original-Rcpt-To", [])]
    if not any(recipients) and original is not None:
        # Providers often redact the recipient; the quoted To is kept only when it is an address.
        recipients = [_address(original.get("To"))]
    failures = tuple(
        Failure(recipient, "complaint", None, f"Feedback-Type: {feedback}")
        for recipient in dict.fromkeys(recipients or [None])
    )
    return head.report("arf", failures, message_id)


# -- everything else ------------------------------------------------------------------------------


def _is_auto_reply(message: Message) -> bool:
    submitted = str(message.get("Auto-Submitted", "")).lower()
    if submitted.startswith("auto-replied") and not _looks_like_bounce_sender(message):
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    precedence = str(message.get("Precedence", "")).lower()
    suppress = str(message.get("X-Auto-Response-Suppress", ""))
    subject = str(message.get("Subject", "")).lower()
    return precedence == "auto_reply" or (
        bool(suppress) and subject.startswith(("automatic reply", "auto:", "out of office"))
    )


def _looks_like_bounce_sender(message: Message) -> bool:
    sender = _address(message.get("From")) or ""
    return sender.split("@")[0] in ("mailer-daemon", "postmaster", "mail-daemon")


def _heuristic_report(message: Message, head: _Head) -> Report:
    try:
        temporary, permanent = all_failures(message)
    except Exception as err:  # third-party heuristics on untrusted input: any failure
        raise BounceParseError("message", f"flufl.bounce could not read it: {err!r}") from err
    if not temporary and not permanent:
        return head.report("none", (), None, "not a bounce or complaint that cmsfeed recognises")
    text = _plain_text(message)
    status = _status(text)  # quoted in the text; kept only when it agrees with the detector
    failures: list[Failure] = []
    for kind, digit, found in (("hard", "5", permanent), ("soft", "4", temporary)):
        for address in sorted(found):
            recipient = address.decode("ascii", "replace").lower()
            if not recipient.isprintable() or " " in recipient:
                continue  # not an address that could be ours
            agreed = status if status and status[0] == digit else None
            failures.append(Failure(recipient, cast(Kind, kind), agreed))
    quoted = _BODY_MESSAGE_ID.search(text)  # Exim and others quote the message as plain text
    message_id = _original_message_id(message) or (quoted.group(1) if quoted else None)
    return head.report("heuristic", tuple(failures), message_id)


# -- helpers --------------------------------------------------------------------------------------


def _plain_text(message: Message) -> str:
    texts: list[str] = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(_decode(payload, part.get_content_charset()))
    return "\n".join(texts)


def _decode(payload: bytes, charset: str | None) -> str:
    # A bounce's declared charset is whatever the remote MTA wrote, sometimes garbage
    # ("s-ascii", a name with a NUL in it): read such a part as UTF-8 rather than give up.
    try:
        return payload.decode(charset or "utf-8", "replace")
    except (LookupError, ValueError):
        return payload.decode("utf-8", "replace")


def _original_headers(message: Message) -> Message | None:
    """The returned message's headers: a message/rfc822 part or a text/rfc822-headers one."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                text = payload.decode("utf-8", "replace")
                return email.parser.HeaderParser().parsestr(text.lstrip())
    return None


def _original_message_id(message: Message) -> str | None:
    original = _original_headers(message)
    if original is not None:
        found = _clean_message_id(original.get("Message-ID"))
        if found:
            return found
    return None


def _clean_message_id(value: object) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    found = re.search(r"<[^<>\s]+>", text)
    return found.group(0) if found else None


def _status(text: str) -> str | None:
    found = _STATUS.search(text)
    return ".".join(found.groups()) if found else None


def _address(value: object) -> str | None:
    """An address from a header or a DSN field (`rfc822; a@b`), lowercased; None if none."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    kind, separator, rest = text.partition(";")
    if separator and "@" not in kind:
        text = rest
    address = email.utils.parseaddr(text.strip())[1].strip()
    # Untrusted text ends up in logs and on the terminal: no control characters or spaces.
    if "@" not in address or not address.isprintable() or " " in address:
        return None
    return address.lower()


def _envelope_addresses(message: Message) -> tuple[str, ...]:
    found: list[str] = []
    for header in _ENVELOPE_HEADERS:
        for value in message.get_all(header, []):
            for _, address in email.utils.getaddresses([str(value)]):
                if "@" in address and address.isprintable() and " " not in address:
                    found.append(address.lower())
    return tuple(dict.fromkeys(found))


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": the time is UTC, the zone unknown (RFC 5322)
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
