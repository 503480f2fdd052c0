"""Golden digest emails: an English and a Russian digest, byte for byte, as `cmsfeed digest
preview` writes them (the same code path), on SQLite and PostgreSQL.

The bytes are fixed by a fixed `--now`, the secret from the environment (signed links), the
Message-ID derived from the subscriber and period, and the MIME boundary derived from the
Message-ID. Each .eml is also parsed back, so that a regression names the header that changed.
After a deliberate change, regenerate with CMSFEED_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

import pytest
from click.testing import CliRunner

from cmsfeed.cli import main  # noqa: F401  (registers every command)
from cmsfeed.cli.app import cli
from cmsfeed.config import load_config
from cmsfeed.store import Store
from support.clock import T0
from support.config import write_config
from support.items import make_item

GOLDEN = Path(__file__).parent / "data" / "digests"
ENV = {"CMSFEED_SECRET": "golden-digest-secret"}
READERS = {"en": "reader.en@example.org", "ru": "chitatel@пример.рф"}
SUBSCRIBERS = "".join(
    f'\n[[subscribers]]\nemail = "{email}"\nlanguage = "{language}"\n'
    'topics = ["argali", "saiga"]\ntime = "08:00"\n'
    for language, email in READERS.items()
)
# Before the items: the subscribers join (created from config.toml) at the first preview.
JOINED = T0
STORED = T0 + timedelta(hours=2)
NOW = T0 + timedelta(days=1, hours=2)
ITEMS = [
    make_item(
        "Saiga calves counted: “record” year & more",
        topics=("saiga",),
        published_at=T0 + timedelta(hours=1),
        summary="<p>Rangers in <b>Betpak-Dala</b> counted 1,200 calves.</p>",
    ),
    make_item("Argali survey in the Pamirs", published_at=T0 + timedelta(minutes=30)),
    make_item(
        "Сайгаков стало больше",
        topics=("saiga",),
        language="ru",
        published_at=T0 + timedelta(hours=1),
        summary="<p>Инспекторы насчитали 1200 сайгачат.</p>",
    ),
    make_item("Учёт аргали на Памире", language="ru", published_at=T0 + timedelta(minutes=30)),
    # Not in either reader's topics: a digest that holds it has chosen wrongly.
    make_item("Bukhara deer return to the Amu Darya", topics=("bukhara-deer",)),
]


def invoke(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], env=ENV)
    assert result.exit_code == 0, result.output
    return result.output


def preview(config: Path, email: str, now: str, out: Path) -> bytes:
    invoke(config, "digest", "preview", "--subscriber", email, "--out", str(out), "--now", now)
    (eml,) = out.glob("*.eml")
    return eml.read_bytes()


@pytest.fixture
def digests(tmp_path: Path, store_url: str) -> dict[str, bytes]:
    """Each reader's previewed digest, keyed by language."""
    config = write_config(tmp_path, None, store_url=store_url)
    config.write_text(config.read_text(encoding="utf-8") + SUBSCRIBERS, encoding="utf-8")
    for language, email in READERS.items():  # the subscribers join at JOINED, with no items
        preview(config, email, JOINED.isoformat(), tmp_path / f"joined-{language}")
    store = Store.open(load_config(config, ENV).store.url)
    try:
        store.upsert_items(ITEMS, STORED)
    finally:
        store.close()
    return {
        language: preview(config, email, NOW.isoformat(), tmp_path / f"digest-{language}")
        for language, email in READERS.items()
    }


@pytest.mark.parametrize("language", sorted(READERS))
def test_digest_matches_its_golden_file(digests: dict[str, bytes], language: str) -> None:
    golden = GOLDEN / f"digest-{language}.eml"
    if os.environ.get("CMSFEED_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(digests[language])
    assert digests[language] == golden.read_bytes()


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def raw_header(raw: bytes, name: str) -> str:
    """A header as it travels (folded lines joined), before any decoding."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    found = re.search(rf"(?im)^{name}:[ \t]*([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head)
    assert found, f"no {name} header"
    return re.sub(r"\r\n[ \t]", " ", found.group(1))


@pytest.mark.parametrize("language", sorted(READERS))
def test_golden_digest_headers(language: str) -> None:
    raw = (GOLDEN / f"digest-{language}.eml").read_bytes()
    message = parsed(raw)
    assert raw.isascii(), "a header or body line is not 7-bit"
    assert b"\n" not in raw.replace(b"\r\n", b""), "a line ends without CR"
    assert message["Date"] == format_datetime(NOW)
    assert re.fullmatch(r"<digest\.[0-9a-f]{24}@cmsfeed\.example>", message["Message-ID"])
    assert parseaddr(message["From"])[1] == "news@cmsfeed.example"
    # The sender's Cyrillic name (smtp.from_name) travels RFC 2047-encoded too.
    assert raw_header(raw, "From").lower().startswith("=?utf-8?"), raw_header(raw, "From")
    assert re.search("[а-яё]", message["From"].addresses[0].display_name, re.IGNORECASE)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(
        r"<http://127\.0\.0\.1:8080/unsubscribe\?token=[\w.-]+>", message["List-Unsubscribe"]
    )
    subject = raw_header(raw, "Subject")
    assert subject.isascii(), subject
    decoded = str(message["Subject"])
    if language == "ru":  # the Cyrillic words travel as RFC 2047 encoded words
        assert re.search(r"=\?utf-8\?[bq]\?[^?\s]+\?=", subject, re.IGNORECASE), subject
        assert re.search("[а-яё]", decoded, re.IGNORECASE) and "=?" not in decoded, decoded
    else:
        assert subject == decoded
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "text/html"]


@pytest.mark.parametrize("language", sorted(READERS))
def test_golden_digest_holds_its_readers_items_and_no_others(language: str) -> None:
    message = parsed((GOLDEN / f"digest-{language}.eml").read_bytes())
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    for item in ITEMS:
        wanted = item.language == language and "bukhara-deer" not in item.topics
        assert (item.title in text.get_content()) == wanted, item.title
        # The HTML part escapes what it shows: `&` becomes `&amp;`.
        assert (item.title.replace("&", "&amp;") in html.get_content()) == wanted, item.title
