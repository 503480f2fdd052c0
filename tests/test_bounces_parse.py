"""Parsing returned mail (pure): real-shaped DSNs, abuse reports, a bounce only flufl.bounce
recognises, an auto-reply and garbage; VERP tokens; generated reports in volume."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage, Message
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.bounces.match import Sent, Unmatched, match_report
from cmsfeed.bounces.parse import BounceParseError, parse_report
from cmsfeed.bounces.verp import make_token, outbox_id_of, read_token, verp_address

DATA = Path(__file__).parent / "data" / "bounces"
DIGEST_ID = "<digest.0123456789abcdef01234567@cmsfeed.example>"


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "format", "recipient", "kind", "status"),
    [
        ("postfix-hard.eml", "dsn", "reader.gone@example.org", "hard", "5.1.1"),
        ("gmail-hard.eml", "dsn", "reader.gmail@gmail.com", "hard", "5.1.1"),
        ("microsoft-hard.eml", "dsn", "reader.ms@outlook.com", "hard", "5.1.10"),
        ("soft-mailbox-full.eml", "dsn", "reader.full@example.org", "soft", "4.2.2"),
        ("exim-hard.eml", "heuristic", "reader.exim@example.net", "hard", "5.1.1"),
        ("arf-yahoo.eml", "arf", "reader.yahoo@yahoo.com", "complaint", None),
    ],
)
def test_each_bounce_and_complaint_is_read(
    name: str, format: str, recipient: str, kind: str, status: str | None
) -> None:
    report = parse_report(fixture(name))
    assert report.format == format
    assert [(f.recipient, f.kind, f.status) for f in report.failures] == [(recipient, kind, status)]
    assert report.kind == kind
    assert report.original_message_id == DIGEST_ID
    assert "bounces@cmsfeed.example" in report.envelope_addresses
    assert report.reported_at is not None and report.reported_at.tzinfo is not None


def test_a_report_is_keyed_by_its_own_message_id() -> None:
    report = parse_report(fixture("postfix-hard.eml"))
    assert report.key == "mid:<20241202080007.4Xk2Lq0Z3Tz9sWc@mail.cmsfeed.example>"
    assert report.reported_at == datetime(2024, 12, 2, 8, 0, 7, tzinfo=UTC)
    without_id = fixture("postfix-hard.eml").replace(b"Message-Id: <2024", b"X-Was-Id: <2024")
    hashed = parse_report(without_id).key
    assert hashed.startswith("sha256:") and hashed == parse_report(without_id).key


def test_microsoft_complaint_hides_the_recipient_but_keeps_the_envelope_sender() -> None:
    report = parse_report(fixture("arf-microsoft-jmrp.eml"))
    assert report.format == "arf"
    assert [(f.recipient, f.kind) for f in report.failures] == [(None, "complaint")]
    assert report.original_message_id is None
    assert report.envelope_addresses == ("bounces@cmsfeed.example",)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("autoreply-outlook.eml", "an auto-reply, not a bounce"),
        ("delayed-warning.eml", "with no failure (Action: delayed)"),
    ],
)
def test_warnings_and_auto_replies_are_not_bounces(name: str, reason: str) -> None:
    report = parse_report(fixture(name))
    assert report.failures == () and report.kind is None
    assert reason in report.reason


def test_not_spam_feedback_is_not_a_complaint() -> None:
    raw = fixture("arf-yahoo.eml").replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam")
    report = parse_report(raw)
    assert report.failures == ()
    assert "'not-spam', not a complaint" in report.reason


@pytest.mark.parametrize("raw", [fixture("garbage.eml"), b"", b"   \n"])
def test_garbage_is_unreadable(raw: bytes) -> None:
    with pytest.raises(BounceParseError, match="message: "):
        parse_report(raw)


def test_a_failure_with_a_success_status_is_refused_not_guessed() -> None:
    raw = fixture("postfix-hard.eml").replace(b"Status: 5.1.1", b"Status: 2.0.0")
    raw = raw.replace(b"Diagnostic-Code: smtp; 550 5.1.1", b"Diagnostic-Code: smtp; 250 2.0.0")
    with pytest.raises(BounceParseError, match=r"reader\.gone@example\.org: Action: failed with a"):
        parse_report(raw)


def test_a_failed_recipient_without_any_code_is_refused_not_guessed() -> None:
    raw = fixture("postfix-hard.eml").replace(b"Status: 5.1.1\n", b"")
    raw = raw.replace(b"Diagnostic-Code: smtp; 550 5.1.1", b"Diagnostic-Code: smtp; rejected")
    with pytest.raises(BounceParseError, match="without a Status"):
        parse_report(raw)


# -- VERP -----------------------------------------------------------------------------------

SECRET = b"test-secret"


@given(st.integers(min_value=0, max_value=2**62), st.binary(min_size=1, max_size=64))
def test_verp_tokens_round_trip_and_fit_a_local_part(outbox_id: int, secret: bytes) -> None:
    address = verp_address(secret, outbox_id, "bounces@cmsfeed.example")
    local = address.rpartition("@")[0]
    assert len(local) <= 64 and local == local.lower()
    assert outbox_id_of(secret, address, "bounces@cmsfeed.example") == outbox_id
    # Servers may change case or add angle brackets; neither matters.
    assert outbox_id_of(secret, f"<{address.upper()}>", "Bounces@CMSFEED.example") == outbox_id
    # Another secret, another mailbox or domain: not ours.
    assert outbox_id_of(secret + b"x", address, "bounces@cmsfeed.example") is None
    assert outbox_id_of(secret, address, "other@cmsfeed.example") is None
    assert outbox_id_of(secret, address, "bounces@elsewhere.example") is None


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=15))
def test_an_altered_verp_token_is_rejected(outbox_id: int, position: int) -> None:
    token = make_token(SECRET, outbox_id)
    ident, _, mac = token.partition("-")
    changed = mac[:position] + ("a" if mac[position] != "a" else "b") + mac[position + 1 :]
    assert read_token(SECRET, f"{ident}-{changed}") is None
    assert read_token(SECRET, f"{ident}1-{mac}") is None
    assert read_token(SECRET, token) == outbox_id


# -- generated reports in volume --------------------------------------------------------------

_LOCAL = st.from_regex(r"[a-z][a-z0-9._-]{0,20}[a-z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)
_STATUS = st.tuples(st.sampled_from("45"), st.integers(0, 7), st.integers(0, 30)).map(
    lambda t: f"{t[0]}.{t[1]}.{t[2]}"
)


def _dsn(recipients: list[tuple[str, str, str]]) -> bytes:
    """A DSN as an MTA writes it: one per-recipient block for each (address, action, status)."""
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mail.cmsfeed.example"
    report["To"] = "bounces@cmsfeed.example"
    report["Subject"] = "Delivery Status Notification"
    report["Message-ID"] = "<generated@mail.cmsfeed.example>"
    report.set_content("Your message could not be delivered.")
    report.make_mixed()
    report.replace_header("Content-Type", "multipart/report; report-type=delivery-status")
    status = Message()
    blocks = [Message()]
    blocks[0]["Reporting-MTA"] = "dns; mail.cmsfeed.example"
    for address, action, code in recipients:
        block = Message()
        block["Final-Recipient"] = f"rfc822; {address}"
        block["Action"] = action
        block["Status"] = code
        block["Diagnostic-Code"] = f"smtp; {code[0]}50 {code} refused"
        blocks.append(block)
    status.set_type("message/delivery-status")
    status.set_payload(blocks)
    del status["MIME-Version"]
    report.attach(status)
    return report.as_bytes()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(_LOCAL, st.sampled_from(["failed", "delayed", "delivered"]), _STATUS),
        min_size=1,
        max_size=30,
        unique_by=lambda r: r[0],
    )
)
def test_every_failed_recipient_comes_out_once_with_its_kind(
    recipients: list[tuple[str, str, str]],
) -> None:
    rows = [(f"{local}@example.org", action, code) for local, action, code in recipients]
    failed = [
        (a, "hard" if c[0] == "5" else "soft", c) for a, action, c in rows if action == "failed"
    ]
    report = parse_report(_dsn(rows))
    assert [(f.recipient, f.kind, f.status) for f in report.failures] == failed
    assert report.format == "dsn"
    if not failed:
        assert "with no failure" in report.reason
    assert parse_report(_dsn(rows)) == report  # the same input twice: the same report


# -- matching (pure) ----------------------------------------------------------------------------

T = datetime(2024, 12, 2, 8, 0, tzinfo=UTC)


def test_verp_wins_over_everything_the_report_says() -> None:
    report = parse_report(fixture("postfix-hard.eml"))
    verp = Sent(7, "s-verp", "forwarder@example.net", DIGEST_ID, T)
    by_id = Sent(8, "s-mid", "reader.gone@example.org", DIGEST_ID, T)
    (target,) = match_report(report, by_verp=verp, by_message_id=by_id, subscribers={})  # type: ignore[misc]
    assert (target.subscriber_id, target.matched_by, target.outbox_id) == ("s-verp", "verp", 7)
    assert (target.kind, target.status) == ("hard", "5.1.1")


def test_verp_naming_another_digest_than_the_quoted_message_id_is_left_in_place() -> None:
    # The token names row 7, but the report quotes another digest's Message-ID: row 7 is not
    # the returned digest (an id reused after a deletion), so nobody is charged.
    report = parse_report(fixture("postfix-hard.eml"))
    assert report.original_message_id == DIGEST_ID
    verp = Sent(7, "s-new", "new.reader@example.org", "<another.digest@cmsfeed.example>", T)
    matched = match_report(report, by_verp=verp, by_message_id=None, subscribers={})
    assert isinstance(matched, Unmatched)
    assert DIGEST_ID in matched.reason and "new.reader@example.org" in matched.reason
    same = Sent(7, "s-verp", "forwarder@example.net", DIGEST_ID, T)
    (target,) = match_report(report, by_verp=same, by_message_id=None, subscribers={})  # type: ignore[misc]
    assert (target.subscriber_id, target.matched_by) == ("s-verp", "verp")


def test_a_message_id_sent_to_someone_else_is_not_charged_to_them() -> None:
    report = parse_report(fixture("postfix-hard.eml"))
    by_id = Sent(8, "s-mid", "someone.else@example.org", DIGEST_ID, T)
    matched = match_report(report, by_verp=None, by_message_id=by_id, subscribers={})
    assert isinstance(matched, Unmatched)
    assert "someone.else@example.org" in matched.reason
    assert "reader.gone@example.org" in matched.reason


def test_without_digest_a_subscribers_address_matches_by_recipient() -> None:
    report = parse_report(fixture("exim-hard.eml"))
    (target,) = match_report(  # type: ignore[misc]
        report, by_verp=None, by_message_id=None, subscribers={"reader.exim@example.net": "s1"}
    )
    assert (target.subscriber_id, target.matched_by, target.outbox_id) == ("s1", "recipient", None)
    unmatched = match_report(report, by_verp=None, by_message_id=None, subscribers={})
    assert isinstance(unmatched, Unmatched)
    assert unmatched.reason == (
        "hard bounce for reader.exim@example.net: matches no digest or subscriber"
    )


# -- hostile input ------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(p.name for p in DATA.iterdir())),
    st.lists(st.tuples(st.integers(0, 10_000), st.binary(min_size=0, max_size=8)), max_size=6),
)
def test_a_damaged_message_is_read_or_refused_never_crashes(
    name: str, damage: list[tuple[int, bytes]]
) -> None:
    raw = fixture(name)
    for position, junk in damage:
        at = position % (len(raw) + 1)
        raw = raw[:at] + junk + raw[at + len(junk) :]
    try:
        report = parse_report(raw)
    except BounceParseError as err:
        assert str(err).split(": ")[0] and "\n" not in str(err)
        return
    for failure in report.failures:
        for address in (failure.recipient, failure.original_recipient):
            assert address is None or (address.isprintable() and " " not in address)
    assert report.key.startswith(("mid:", "sha256:"))


@given(st.binary(max_size=2000))
def test_random_bytes_are_read_or_refused(raw: bytes) -> None:
    try:
        report = parse_report(raw)
    except BounceParseError as err:
        assert (
            err.subject in ("message", "delivery-status", "feedback-report") or "@" in err.subject
        )
        return
    assert report.format in ("dsn", "arf", "heuristic", "none")


def test_control_characters_in_a_reported_address_are_not_passed_on() -> None:
    raw = fixture("postfix-hard.eml").replace(
        b"Final-Recipient: rfc822; reader.gone@example.org",
        b"Final-Recipient: rfc822; reader\x1b[31m.gone@example.org",
    )
    report = parse_report(raw)
    assert [f.recipient for f in report.failures] == ["reader.gone@example.org"]
