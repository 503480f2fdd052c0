"""Rendering digests and building messages: languages, dates, structure, safety."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from cmsfeed.config import Config
from cmsfeed.digest.message import Sender, build_message, message_bytes
from cmsfeed.digest.render import EmailRenderer, Personal, personalise
from cmsfeed.i18n import LOCALES
from cmsfeed.subscribers import Subscriber
from support.clock import T0
from support.config import digest_config
from support.items import make_item

PERSONAL = Personal(
    "http://127.0.0.1:8080/unsubscribe?token=u",
    "http://127.0.0.1:8080/preferences?token=p",
    "why & because",
)


def renderer_for(config: Config) -> EmailRenderer:
    return EmailRenderer(config.site_info(), confirm_days=config.digests.confirm_days)


def render(tmp_path: Path, subscriber: Subscriber, items: list) -> EmailMessage:  # type: ignore[type-arg]
    renderer = renderer_for(digest_config(tmp_path))
    rendered = personalise(renderer.digest(subscriber, items, T0), PERSONAL)
    raw = message_bytes(
        build_message(
            rendered,
            sender=Sender("news@cmsfeed.example", "ЦАМИ новости"),
            to=subscriber.email,
            message_id="<m1@cmsfeed.example>",
            now=T0,
            list_id="CAMI <digests.example>",
            unsubscribe_url=PERSONAL.unsubscribe_url,
        )
    )
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_russian_digest_is_localized_with_babel_dates(tmp_path: Path) -> None:
    sub = Subscriber("boris@example.org", language="ru", topics=("saiga", "argali"))
    items = [
        make_item("Сайгаки вернулись", language="ru", topics=("saiga",)),
        make_item(
            "Аргали в горах", language="ru", topics=("argali",), published_at=T0 - timedelta(days=1)
        ),
    ]
    message = render(tmp_path, sub, items)
    assert message["Subject"] == "Новости CAMI: 2 новых материала (Аргали, Сайгак)"
    text = message.get_body(("plain",)).get_content()
    assert "2 декабря 2024 г." in " ".join(text.split()).replace("\u202f", " ")
    assert "== Аргали ==" in text and "== Сайгак ==" in text
    assert "Отписаться" in text
    html = message.get_body(("html",)).get_content()
    assert 'lang="ru"' in html and "Изменить темы" in html


def test_a_language_without_a_catalog_falls_back_to_english_words(tmp_path: Path) -> None:
    sub = Subscriber("k@example.org", language="kk")
    message = render(tmp_path, sub, [make_item("Киік", language="kk")])
    text = message.get_body(("plain",)).get_content()
    assert "Unsubscribe" in text
    assert "2024" in text  # Kazakh date words come from Babel's own data


def test_structure_headers_and_links(tmp_path: Path) -> None:
    sub = Subscriber("anna@example.org")
    message = render(
        tmp_path,
        sub,
        [
            make_item(
                "Argali <b>counted</b>",
                summary=('<p>Herd <a href="/relative">seen</a><script>alert(1)</script></p>'),
            )
        ],
    )
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["List-Unsubscribe"] == f"<{PERSONAL.unsubscribe_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["From"].addresses[0].display_name == "ЦАМИ новости"
    html = message.get_body(("html",)).get_content()
    assert "<script" not in html and "&lt;b&gt;counted" in html
    assert "why &amp; because" in html
    assert "<style" not in html and 'style="' in html  # CSS inlined
    import re

    for href in re.findall(r'href="([^"]+)"', html):
        assert href.startswith(("http://", "https://")), href


def test_a_title_cannot_inject_a_header(tmp_path: Path) -> None:
    sub = Subscriber("anna@example.org")
    message = render(tmp_path, sub, [make_item("Saiga\r\nBcc: victim@example.org\nX: y")])
    assert message["Bcc"] is None and message["X"] is None
    assert "\n" not in message["Subject"] and "Bcc: victim" in message["Subject"]


def test_non_ascii_subject_is_rfc2047_encoded(tmp_path: Path) -> None:
    sub = Subscriber("boris@example.org", language="ru")
    raw = render(tmp_path, sub, [make_item("Сайгак", language="ru")]).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    assert b"=?utf-8?" in head
    assert all(byte < 128 for byte in head)


def test_same_items_render_once_and_personalise_cheaply(tmp_path: Path) -> None:
    renderer = renderer_for(digest_config(tmp_path))
    items = [make_item("x")]
    a = renderer.digest(Subscriber("a@example.org"), items, T0)
    b = renderer.digest(Subscriber("b@example.org", timezone="UTC"), items, T0)
    assert a is b
    assert personalise(a, PERSONAL).text != personalise(a, replace(PERSONAL, why="other")).text


def test_compiled_catalogs_match_their_po_files() -> None:
    for po_path in LOCALES.glob("*/LC_MESSAGES/cmsfeed.po"):
        with po_path.open("rb") as po, po_path.with_suffix(".mo").open("rb") as mo:
            source, compiled = read_po(po), read_mo(mo)

        def flat(catalog):  # type: ignore[no-untyped-def]
            return {
                str(tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id): tuple(m.string)
                if isinstance(m.string, (list, tuple))
                else m.string
                for m in catalog
                if m.id and m.string
            }

        expected, found = flat(source), flat(compiled)
        assert found == expected, f"{po_path}: run pybabel compile (see locale/README.md)"


@pytest.mark.parametrize("template", ["confirmation", "welcome"])
def test_confirmation_and_welcome_in_russian(tmp_path: Path, template: str) -> None:
    renderer = renderer_for(digest_config(tmp_path))
    if template == "confirmation":
        rendered = renderer.confirmation("ru", "http://127.0.0.1:8080/confirm?token=t")
        assert "Подтвердите подписку" in rendered.subject
        assert "7 дней" in rendered.text
    else:
        rendered = renderer.welcome(Subscriber("b@example.org", language="ru"), PERSONAL)
        assert "Добро пожаловать" in rendered.subject
        assert PERSONAL.unsubscribe_url in rendered.text


def test_a_story_without_a_page_links_to_its_entry_on_the_all_topics_page(tmp_path: Path) -> None:
    story = replace(make_item("Argali counted"), url=None)
    message = render(tmp_path, Subscriber("anna@example.org"), [story])
    body = message.get_body(("html",))
    assert body is not None
    assert f'href="http://127.0.0.1:8080/feeds/all/en.html#item-{story.id}"' in body.get_content()
