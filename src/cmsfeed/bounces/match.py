"""Which subscriber a report is about. Pure: the caller looks things up in the store.

In order of trust:

1. a VERP envelope address with a valid token names the outbox row, so the subscriber and the
   digest, whatever recipient the report names (a forwarded address bounces under another
   name); but not when the report quotes a Message-ID other than that row's: the token then
   names a row that is not the returned digest (on SQLite an id freed by a deletion could be
   given to another reader's row), and the report is left for the operator;
2. the digest's Message-ID quoted in the report names the outbox row; it is accepted only
   when the report names no recipient (providers redact them) or names that row's address,
   since a Message-ID copied into someone else's mail must not charge our reader;
3. otherwise the failed recipient's address, when it is a subscriber's.

Nothing else is guessed: a report that matches none of these is left for the operator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cmsfeed.bounces.parse import Failure, Kind, Report

MatchedBy = Literal["verp", "message-id", "recipient"]
_SEVERITY = {"complaint": 3, "hard": 2, "soft": 1}
_NAMES = {"complaint": "complaint", "hard": "hard bounce", "soft": "soft bounce"}


@dataclass(frozen=True, slots=True)
class Sent:
    """A digest in the outbox, as far as matching needs it."""

    outbox_id: int
    subscriber_id: str
    email: str
    message_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Target:
    """A subscriber a report is charged to, and for what."""

    subscriber_id: str
    email: str
    kind: Kind
    status: str | None
    detail: str
    matched_by: MatchedBy
    outbox_id: int | None = None
    digest_created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Unmatched:
    reason: str


def match_report(
    report: Report,
    *,
    by_verp: Sent | None,
    by_message_id: Sent | None,
    subscribers: Mapping[str, str],
) -> list[Target] | Unmatched:
    """The subscribers `report` concerns, or why it concerns none.

    `by_verp` and `by_message_id` are the outbox rows the report's VERP token and quoted
    Message-ID name (None when absent or unknown); `subscribers` maps the failed recipients'
    addresses that are subscribers to their ids.
    """
    if not report.failures:
        return Unmatched(report.reason or "reports no failure")
    worst = max(report.failures, key=lambda failure: _SEVERITY[failure.kind])
    if by_verp is not None:
        quoted = report.original_message_id
        if quoted is not None and quoted != by_verp.message_id:
            return Unmatched(
                f"its VERP address names the digest {by_verp.message_id} to {by_verp.email} "
                f"but it quotes the Message-ID {quoted}"
            )
        return [_target(by_verp, worst, "verp")]
    named = {
        address
        for failure in report.failures
        for address in (failure.recipient, failure.original_recipient)
        if address
    }
    if by_message_id is not None:
        if named and by_message_id.email.lower() not in named:
            return Unmatched(
                f"quotes the Message-ID of the digest to {by_message_id.email} "
                f"but reports {', '.join(sorted(named))}"
            )
        return [_target(by_message_id, worst, "message-id")]
    targets: dict[str, Target] = {}
    for failure in sorted(report.failures, key=lambda f: -_SEVERITY[f.kind]):
        for address in (failure.recipient, failure.original_recipient):
            if address and address in subscribers and subscribers[address] not in targets:
                subscriber_id = subscribers[address]
                targets[subscriber_id] = Target(
                    subscriber_id,
                    address,
                    failure.kind,
                    failure.status,
                    failure.detail,
                    "recipient",
                )
    if targets:
        return list(targets.values())
    what = ", ".join(sorted(named)) or "a hidden recipient"
    return Unmatched(f"{_NAMES[worst.kind]} for {what}: matches no digest or subscriber")


def _target(sent: Sent, failure: Failure, matched_by: MatchedBy) -> Target:
    return Target(
        sent.subscriber_id,
        sent.email,
        failure.kind,
        failure.status,
        failure.detail,
        matched_by,
        sent.outbox_id,
        sent.created_at,
    )
