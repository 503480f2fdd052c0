"""A digest's web copy ("view in your browser") at the signed URL it carries, served by a real
uvicorn from the store (SQLite and PostgreSQL): the same body as the email, nothing stored per
message, and a bad, misused or orphaned link answers the "link does not work" page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cmsfeed.digest.links import unsubscribe_link
from cmsfeed.mail import MaildirTransport
from cmsfeed.subscribers import Subscriber
from cmsfeed.web import create_app
from cmsfeed.web.subscriptions import subscription_routes
from cmsfeed.wiring import build_delivery
from support.clock import T0, FixedClock
from support.config import digest_config
from support.digest import open_stores
from support.feeds import running
from support.items import make_item

ENV = {"CMSFEED_SECRET": "archive-secret"}
VIEW_LINE = re.compile(
    r"^(View this digest in your browser|Открыть этот дайджест в браузере): (\S+)$", re.M
)


@pytest.fixture
def site(tmp_path: Path, store_url: str) -> Iterator[tuple[str, Any, Any]]:
    config = digest_config(tmp_path, store_url=store_url)
    store, digests = open_stores(config)
    clock = FixedClock()
    delivery = build_delivery(
        config, digests, clock, ENV, transport=MaildirTransport(tmp_path / "m")
    )
    app = create_app(
        config,
        store,
        clock,
        extra_routes=subscription_routes(
            config, delivery.composer, delivery.digests, delivery.transport, delivery.clock
        ),
        poll=False,
    )
    with running(app) as base:
        yield base, delivery, store


def local(url: str, base: str) -> str:
    return url.replace("http://127.0.0.1:8080", base)


def send(delivery: Any, store: Any, language: str = "en") -> tuple[Subscriber, Any, str]:
    subscriber = delivery.digests.save_subscriber(
        Subscriber(f"{language}@example.org", language=language, topics=("argali", "saiga")),
        T0 - timedelta(days=2),
    )
    items = [
        make_item(
            f"Story {n} <{language}>",
            language=language,
            topics=(("argali", "saiga")[n % 2],),
            published_at=T0 - timedelta(hours=n),
        )
        for n in range(5)
    ]
    store.upsert_items(items, T0 - timedelta(days=1))
    rendered, _raw = delivery.composer.digest_message(subscriber, items, "<m@example>", T0, T0)
    [(_, view_url)] = VIEW_LINE.findall(rendered.text)
    assert view_url in rendered.html.replace("&amp;", "&")
    return subscriber, rendered, view_url


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_web_copy_is_the_digest_as_sent(site, language: str) -> None:  # type: ignore[no-untyped-def]
    base, delivery, store = site
    _subscriber, rendered, view_url = send(delivery, store, language)
    page = httpx.get(local(view_url, base))
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store" and page.headers["x-robots-tag"] == "noindex"
    # The email's body without the link to itself.
    expected = re.sub(r'<p class="view".*?</p>\s*', "", rendered.html, flags=re.S)
    icon = re.search(r'<link rel="icon" href="data:[^"]+">\n', page.text)
    assert icon is not None  # the site's, as its pages have it
    assert page.text.replace(icon.group(0), "", 1) == expected != rendered.html
    for n in range(5):
        assert f"Story {n} &lt;{language}&gt;" in page.text


def test_the_copy_stays_as_sent_when_preferences_change(site) -> None:  # type: ignore[no-untyped-def]
    base, delivery, store = site
    subscriber, _rendered, view_url = send(delivery, store, "ru")
    delivery.digests.save_subscriber(replace(subscriber, language="en", topics=()), T0)
    page = httpx.get(local(view_url, base))
    assert 'lang="ru"' in page.text and "Аргали" in page.text


def test_bad_misused_and_orphaned_links_do_not_work(site) -> None:  # type: ignore[no-untyped-def]
    base, delivery, store = site
    subscriber, _rendered, view_url = send(delivery, store)
    url = local(view_url, base)
    token = url.split("token=", 1)[1]
    altered = url.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    unsubscribe = unsubscribe_link(f"{base}/", delivery.composer.secret, subscriber.id)
    misused = f"{base}/digest?token={unsubscribe.split('token=', 1)[1]}"
    for bad in (altered, misused, f"{base}/digest", f"{base}/digest?token=x.y"):
        answer = httpx.get(bad)
        assert answer.status_code == 400 and "This link does not work" in answer.text, bad
    assert httpx.get(url).status_code == 200
    delivery.digests.remove_subscriber(subscriber.id)
    assert httpx.get(url).status_code == 400


def test_a_message_without_a_web_copy_has_no_dangling_line(tmp_path: Path) -> None:
    from cmsfeed.digest.render import VIEW, EmailRenderer, Personal, personalise

    config = digest_config(tmp_path)
    renderer = EmailRenderer(config.site_info(), confirm_days=7)
    body = renderer.digest(Subscriber("a@example.org"), [make_item("Saiga")], T0)
    plain = personalise(body, Personal("http://u", "http://p", "why"))
    assert VIEW not in plain.html + plain.text
    assert "browser" not in plain.html + plain.text
    linked = personalise(body, Personal("http://u", "http://p", "why", "http://v?a=1&b=2"))
    assert 'href="http://v?a=1&amp;b=2"' in linked.html and "http://v?a=1&b=2" in linked.text
