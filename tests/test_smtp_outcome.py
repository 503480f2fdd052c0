"""Whose fault: the pure classification of SMTP outcomes, as a table, plus its purity."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.smtp_outcome import Stage, Verdict, classify, classify_reply, enhanced_code

PAUSE, BOUNCE, DEFER, REFUSE = Verdict.PAUSE, Verdict.BOUNCE, Verdict.DEFER, Verdict.REFUSE

TABLE: list[tuple[Stage, int | None, str, Verdict]] = [
    # the server or the session
    ("connect", None, "Connection refused", PAUSE),
    ("greeting", 554, "5.3.2 No SMTP service here", PAUSE),
    ("greeting", 421, "4.3.2 Service not available", PAUSE),
    ("tls", None, "certificate verify failed", PAUSE),
    ("ehlo", 502, "5.5.2 Error: command not recognized", PAUSE),
    ("auth", 535, "5.7.8 Authentication credentials invalid", PAUSE),
    ("auth", 454, "4.7.0 Temporary authentication failure", PAUSE),
    ("mail", 550, "5.7.1 Sender address rejected: not owned by user", PAUSE),
    ("mail", 451, "4.3.0 Temporary lookup failure", PAUSE),
    ("mail", 553, "5.1.8 Bad sender address", PAUSE),
    ("local", None, "No space left on device", PAUSE),
    ("rcpt", 421, "4.7.0 Too many connections, closing", PAUSE),
    ("rcpt", None, "Connection lost", PAUSE),
    ("rcpt", 530, "5.7.0 Authentication required", PAUSE),
    ("rcpt", 530, "Authentication required", PAUSE),
    ("rcpt", 503, "5.5.1 Error: need MAIL command", PAUSE),
    ("rcpt", 501, "Syntax error", PAUSE),
    # relaying, authentication, TLS or our host refused at RCPT: the session, whatever the code
    ("rcpt", 550, "relay not permitted", PAUSE),  # Exim
    ("rcpt", 553, "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", PAUSE),
    ("rcpt", 554, "5.7.1 <x@example.org>: Relay access denied", PAUSE),  # Postfix
    ("rcpt", 454, "4.7.1 <x@example.org>: Relay access denied", PAUSE),
    ("rcpt", 550, "5.7.1 Unable to relay", PAUSE),  # Exchange
    ("rcpt", 550, "5.7.1 <x@example.org>... Relaying denied", PAUSE),  # Sendmail
    ("rcpt", 550, "Sender verify failed: we do not relay", PAUSE),
    ("rcpt", 550, "Host not permitted to relay", PAUSE),
    (
        "rcpt",
        554,
        "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        PAUSE,
    ),
    ("rcpt", 550, "Your IP 192.0.2.1 is listed at bl.spamcop.net", PAUSE),
    ("rcpt", 530, "5.7.0 Must issue a STARTTLS command first", PAUSE),
    ("rcpt", 550, "5.7.0 Authentication required", PAUSE),
    ("rcpt", 554, "Authentication is required to send mail", PAUSE),
    ("data", 554, "5.7.1 Message rejected by policy", PAUSE),
    ("data", 550, "5.4.5 Daily sending quota exceeded", PAUSE),
    ("data", 452, "4.3.1 Insufficient system storage", PAUSE),
    ("data", 552, "5.3.4 Message size exceeds fixed limit", PAUSE),
    ("data", 554, "Transaction failed", PAUSE),
    ("data", 421, "4.7.0 too busy", PAUSE),
    ("data", None, "Server disconnected", PAUSE),
    # the recipient, for good
    ("rcpt", 550, "5.1.1 <gone@example.org>: Recipient address rejected: User unknown", BOUNCE),
    ("rcpt", 550, "5.1.2 Host unknown", BOUNCE),
    ("rcpt", 553, "5.1.3 Bad destination mailbox address syntax", BOUNCE),
    ("rcpt", 550, "5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found", BOUNCE),
    ("rcpt", 550, "5.2.1 The email account that you tried to reach is disabled", BOUNCE),
    ("rcpt", 550, "No such user here", BOUNCE),
    ("rcpt", 551, "User not local", BOUNCE),
    ("rcpt", 550, "5.0.0 <x@example.org>: User unknown in local recipient table", BOUNCE),
    (
        "rcpt",
        550,
        "5.1.1 <x@example.org>: Recipient address rejected: User unknown in relay recipient table",
        BOUNCE,
    ),
    ("rcpt", 550, "5.1.1 User not listed in public Name & Address Book", BOUNCE),
    ("data", 550, "5.1.1 The email account does not exist", BOUNCE),
    # the recipient, for now
    ("rcpt", 450, "4.2.1 Greylisted, try again later", DEFER),
    ("rcpt", 451, "4.7.1 Please try again later", DEFER),
    ("rcpt", 451, "Requested action aborted: local error", DEFER),
    ("rcpt", 452, "4.2.2 Mailbox full", DEFER),
    ("rcpt", 552, "5.2.2 Mailbox full", DEFER),
    ("rcpt", 552, "Requested mail action aborted: exceeded storage allocation", DEFER),
    ("rcpt", 450, "4.1.1 Recipient address verification in progress", DEFER),
    ("data", 452, "4.2.2 The email account that you tried to reach is over quota", DEFER),
    ("data", 552, "5.2.2 Mailbox full", DEFER),
    # refused, not the address: nobody is charged
    ("rcpt", 550, "5.7.26 Unauthenticated email is not accepted", REFUSE),
    ("rcpt", 554, "Transaction failed", REFUSE),
    ("rcpt", 550, "5.4.1 Recipient address rejected: Access denied", REFUSE),
    ("encode", None, "'ascii' codec can't encode character", REFUSE),
]


@pytest.mark.parametrize(("stage", "code", "message", "verdict"), TABLE)
def test_every_outcome_is_classified_by_stage_and_code(
    stage: Stage, code: int | None, message: str, verdict: Verdict
) -> None:
    outcome = classify_reply(stage, code, message)
    assert outcome.verdict is verdict, (stage, code, message)
    assert outcome.stage == stage and outcome.code == code


def test_an_enhanced_code_of_the_wrong_class_is_ignored() -> None:
    # 550 with a 4.x.x code contradicts itself: the basic code decides (550: mailbox unavailable).
    assert classify("rcpt", 550, "4.2.2", "4.2.2 full").verdict is BOUNCE
    assert classify("rcpt", 450, "5.1.1", "5.1.1 no").verdict is DEFER


def test_enhanced_codes_are_read_from_the_start_of_the_reply() -> None:
    assert enhanced_code("5.1.1 no such user") == "5.1.1"
    assert enhanced_code("  4.7.26 later") == "4.7.26"
    assert enhanced_code("no such user 5.1.1") is None
    assert enhanced_code("3.1.1 nonsense class") is None


def test_the_reply_reads_as_the_operator_needs_it() -> None:
    outcome = classify_reply("auth", 535, "5.7.8 Authentication credentials invalid")
    assert outcome.reply == "AUTH 535 5.7.8 Authentication credentials invalid"
    assert classify_reply("connect", None, "Connection refused").reply == (
        "CONNECT Connection refused"
    )


def test_the_classification_imports_nothing_but_the_standard_library() -> None:
    code = (
        "import sys, cmsfeed.smtp_outcome; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aiosmtplib', 'sqlalchemy', 'pydantic') or m.startswith('cmsfeed.') "
        "and m != 'cmsfeed.smtp_outcome'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


STAGES: list[Stage] = [
    "connect",
    "greeting",
    "tls",
    "ehlo",
    "auth",
    "mail",
    "rcpt",
    "data",
    "local",
    "encode",
]
codes = st.one_of(st.none(), st.integers(200, 599))
enhanced = st.one_of(
    st.none(),
    st.builds(
        lambda k, s, d: f"{k}.{s}.{d}",
        st.sampled_from([2, 4, 5]),
        st.integers(0, 9),
        st.integers(0, 30),
    ),
)


@settings(max_examples=300)
@given(st.sampled_from(STAGES), codes, enhanced, st.text(max_size=40))
def test_only_a_refusal_of_the_address_ever_charges_the_subscriber(
    stage: Stage, code: int | None, status: str | None, message: str
) -> None:
    verdict = classify(stage, code, status, message).verdict
    if verdict is BOUNCE:  # a 5xx at RCPT or DATA that names the address
        assert stage in ("rcpt", "data") and code is not None and 500 <= code < 600
        parts = (status or "0.0.0").split(".")
        assert code in (550, 551, 553) or parts[:2] == ["5", "1"] or parts == ["5", "2", "1"]
    if code == 421 or stage in ("connect", "greeting", "tls", "ehlo", "auth", "mail", "local"):
        assert verdict is PAUSE
    if code is not None and 400 <= code < 500:
        assert verdict is not BOUNCE  # a temporary reply never suspends anybody
