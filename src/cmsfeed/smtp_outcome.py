"""Whose fault a failed delivery is: the mail server's (or the session's), or the recipient's.
Pure: no I/O, no third-party imports.

`classify(stage, code, enhanced, message)` turns one SMTP reply (or a reply-less failure such
as a refused or dropped connection, `code=None`) into an `Outcome` with one of four verdicts:

| verdict | meaning | what delivery does |
| --- | --- | --- |
| PAUSE  | the server or the session is at fault | pause every send, charge nobody, probe later |
| BOUNCE | the recipient's address is refused for good | fail the row, charge the subscriber |
| DEFER  | the recipient cannot take it now | retry that row with backoff |
| REFUSE | this message is refused, but not for its address | fail the row, charge nobody |

The rules, in order (RFC 5321 reply codes, RFC 3463 enhanced status codes):

1. 421 at any stage: the server is closing the session — PAUSE.
2. Any failure before a recipient is named (connect, greeting, TLS, EHLO, AUTH, MAIL FROM) or
   the local hand-over (a Maildir that cannot be written) — PAUSE.
3. No reply at all at RCPT or DATA (connection dropped, timeout) — PAUSE.
4. At RCPT, 530, 535 or 538 (authentication required), or a reply whose words say the server
   will not relay for us or will not take mail from our host — relaying refused ("Relay access
   denied", "relay not permitted", "Unable to relay", qmail's "rcpthosts"), authentication or
   STARTTLS required, our client host blocked or listed at a DNSBL: the session's fault, whatever
   the codes say (Exim and qmail answer a bare 550 or 553, as for an unknown user) — PAUSE.
5. At RCPT, by the enhanced code when it is present, specific (not X.0.0) and of the reply's
   class: X.1.x (bad address), 5.2.1 (mailbox disabled) — BOUNCE for 5, DEFER for 4; 4.x.x
   otherwise — DEFER (greylisting, a busy mailbox); 5.2.2 (mailbox full) — DEFER; 5.5.x (the
   protocol, our client's fault) — PAUSE; 5.7.x (policy), 5.3.x, 5.4.x, 5.6.x — REFUSE:
   nobody can tell from the reply alone whose fault a policy refusal is, so nobody is charged.
6. At RCPT without a usable enhanced code: 4xx — DEFER; 550, 551, 553 (mailbox unavailable,
   not local, name not allowed) — BOUNCE; 552 (storage) — DEFER; 500–504 (syntax) — PAUSE;
   anything else (554 …) — REFUSE.
7. At DATA (cmsfeed sends one recipient per message, so a refusal at DATA is a refusal for
   every recipient of that message): X.1.x and 5.2.1 — BOUNCE for 5, DEFER for 4 (servers
   that check recipients late); X.2.2 and 4.2.x — DEFER; everything else (policy, quota,
   content, size, a local error) — PAUSE, since it would refuse every digest alike.
8. An address that cannot travel in an ASCII envelope (`encode`) — REFUSE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Stage = Literal[
    "connect", "greeting", "tls", "ehlo", "auth", "mail", "rcpt", "data", "local", "encode"
]
SESSION_STAGES: frozenset[str] = frozenset(
    {"connect", "greeting", "tls", "ehlo", "auth", "mail", "local"}
)
_AUTHENTICATION = frozenset({530, 535, 538})  # "authentication required" and kin
# Words of a RCPT refusal that blame our session or host, not the recipient. Narrow on purpose:
# Postfix's "User unknown in relay recipient table" is a bounce, and so is Domino's "not listed".
_SESSION_FAULT_WORDS = re.compile(
    r"relay(?:ing)?\s+(?:access\s+)?(?:is\s+)?(?:not\s+(?:permitted|allowed)|denied|prohibited"
    r"|refused)"
    r"|(?:unable\s+to|not\s+permitted\s+to|not\s+allowed\s+to|do\s+not|cannot|can't)\s+relay"
    r"|rcpthosts"
    r"|authentication\s+(?:is\s+)?required"
    r"|must\s+issue\s+a\s+starttls"
    r"|client\s+host"
    r"|blocked\s+using"
    r"|\b(?:spamhaus|spamcop|barracudacentral|sorbs|dnsbl|rbl)\b",
    re.IGNORECASE,
)
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


class Verdict(StrEnum):
    PAUSE = "pause"
    BOUNCE = "bounce"
    DEFER = "defer"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    stage: Stage
    code: int | None
    enhanced: str | None
    message: str

    @property
    def reply(self) -> str:
        """The server's words as an operator reads them: 'RCPT 550 5.1.1 no such user'."""
        text = self.message.strip()
        if self.enhanced and text.startswith(self.enhanced):
            text = text[len(self.enhanced) :].strip()
        parts = [self.stage.upper(), str(self.code or ""), self.enhanced or "", text]
        return " ".join(part for part in parts if part)


def enhanced_code(message: str) -> str | None:
    """The RFC 3463 status code a reply's text starts with, e.g. '5.1.1', else None."""
    found = _ENHANCED.match(message)
    return ".".join(found.groups()) if found else None


def classify(stage: Stage, code: int | None, enhanced: str | None, message: str) -> Outcome:
    """The verdict on one failed step of sending one message (see the module's rules)."""
    if stage == "rcpt" and code is not None and _SESSION_FAULT_WORDS.search(message):
        return Outcome(Verdict.PAUSE, stage, code, enhanced, message)
    return Outcome(_verdict(stage, code, enhanced), stage, code, enhanced, message)


def classify_reply(stage: Stage, code: int | None, message: str) -> Outcome:
    """`classify`, reading the enhanced code from the start of the reply's text."""
    return classify(stage, code, enhanced_code(message), message)


def _verdict(stage: Stage, code: int | None, enhanced: str | None) -> Verdict:
    if code == 421 or stage in SESSION_STAGES:
        return Verdict.PAUSE
    if stage == "encode":
        return Verdict.REFUSE
    if code is None:
        return Verdict.PAUSE
    detail = _usable(code, enhanced)
    if stage == "data":
        return _at_data(code, detail)
    return _at_rcpt(code, detail)


def _usable(code: int, enhanced: str | None) -> tuple[int, int, int] | None:
    """The enhanced code as numbers, when it is specific and agrees with the reply's class."""
    if enhanced is None:
        return None
    klass, subject, detail = (int(part) for part in enhanced.split("."))
    if klass != code // 100 or (subject, detail) == (0, 0):
        return None
    return klass, subject, detail


def _at_rcpt(code: int, detail: tuple[int, int, int] | None) -> Verdict:
    if code in _AUTHENTICATION:
        return Verdict.PAUSE
    if detail is not None:
        klass, subject, number = detail
        if subject == 1 or (subject, number) == (2, 1):
            return Verdict.BOUNCE if klass == 5 else Verdict.DEFER
        if klass == 4 or (subject, number) == (2, 2):
            return Verdict.DEFER
        if subject == 5:
            return Verdict.PAUSE
        return Verdict.REFUSE
    if 400 <= code < 500:
        return Verdict.DEFER
    if code in (550, 551, 553):
        return Verdict.BOUNCE
    if code == 552:
        return Verdict.DEFER
    if 500 <= code <= 504:
        return Verdict.PAUSE
    return Verdict.REFUSE


def _at_data(code: int, detail: tuple[int, int, int] | None) -> Verdict:
    if detail is not None:
        klass, subject, number = detail
        if subject == 1 or (subject, number) == (2, 1):
            return Verdict.BOUNCE if klass == 5 else Verdict.DEFER
        if subject == 2 and (klass == 4 or number == 2):
            return Verdict.DEFER
    return Verdict.PAUSE
