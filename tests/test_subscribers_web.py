"""The sign-up flow against a real uvicorn server and a real SMTP server: subscribe →
confirmation mail → confirm → digest → one-click POST unsubscribe."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx

from cmsfeed.delivery import make_mailer, run_round
from support.items import make_item
from support.signup_site import ENV, signup, signup_site  # noqa: F401  (the `site` fixture)


def local(url: str, base: str) -> str:
    return url.replace("http://127.0.0.1:8080", base)


def test_subscribe_confirm_digest_unsubscribe(site) -> None:  # type: ignore[no-untyped-def]
    base, smtp, (config, store, digests), clock = site
    with httpx.Client(base_url=base) as web:
        form = web.get("/subscribe?lang=ru")
        assert form.status_code == 200 and "Подписаться" in form.text
        assert "Новости CAMI" in form.text and "CAMI news" not in form.text  # the site's name
        # links home relative to the page, so they hold at a proxy's address too
        assert 'class="brand" href="./ru/"' in form.text and "127.0.0.1:8080" not in form.text
        answer = signup(
            web,
            {
                "email": "anna@example.org",
                "language": "ru",
                "topic": ["saiga"],
                "frequency": "daily",
                "time": "08:00",
                "timezone": "Asia/Almaty",
            },
        )
        assert answer.status_code == 200
        assert digests.get_subscriber("anna@example.org") is None  # nothing before confirming
        (confirmation,) = smtp.handler.to("anna@example.org")
        text = confirmation.message.get_body(("plain",)).get_content()
        assert "Подтвердите" in confirmation.message["Subject"]
        confirm_url = re.search(r"http://\S+/confirm\?token=\S+", text).group(0)  # type: ignore[union-attr]
        page = web.get(local(confirm_url, base))
        assert page.status_code == 200
        assert digests.get_subscriber("anna@example.org") is None  # a GET never confirms
        token = confirm_url.split("token=")[1]
        confirmed = web.post("/confirm", data={"token": token})
        assert confirmed.status_code == 200
        subscriber = digests.get_subscriber("anna@example.org")
        assert subscriber is not None and subscriber.status == "active"
        assert subscriber.topics == ("saiga",) and subscriber.timezone == "Asia/Almaty"
        assert len(smtp.handler.to("anna@example.org")) == 2  # the welcome message

        clock.advance(hours=1)
        store.upsert_items(
            [make_item("Сайгаки вернулись", topics=("saiga",), language="ru")], clock()
        )
        clock.advance(days=1)
        round_mailer = make_mailer(config, digests, clock, ENV)

        async def go() -> None:
            await run_round(round_mailer)
            await round_mailer.transport.close()

        asyncio.run(go())
        digest = smtp.handler.to("anna@example.org")[-1].message
        assert "Сайгаки вернулись" in digest["Subject"]
        unsubscribe_url = local(digest["List-Unsubscribe"].strip("<>"), base)
        assert web.get(unsubscribe_url).status_code == 200
        still = digests.get_subscriber("anna@example.org")
        assert still is not None and still.status == "active"  # a GET never unsubscribes
        one_click = web.post(
            unsubscribe_url,
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200
        gone = digests.get_subscriber("anna@example.org")
        assert gone is not None and gone.status == "unsubscribed"


def test_signup_reveals_nothing_and_is_rate_limited(site) -> None:  # type: ignore[no-untyped-def]
    base, _smtp, (_config, _store, digests), clock = site
    from cmsfeed.subscribers import Subscriber

    digests.save_subscriber(Subscriber("known@example.org"), clock())
    with httpx.Client(base_url=base) as web:
        known = signup(web, {"email": "known@example.org"})
        unknown = signup(web, {"email": "new@example.org"})
        assert known.status_code == unknown.status_code == 200
        assert known.text == unknown.text
        assert signup(web, {"email": "third@example.org"}).status_code == 200
        bad = signup(web, {"email": "not an address"})
        assert bad.status_code == 429  # the fourth sign-up this hour from this client
        clock.advance(hours=1, seconds=1)
        assert signup(web, {"email": "not an address"}).status_code == 400


def test_forms_without_their_token_or_from_another_site_are_refused(site) -> None:  # type: ignore[no-untyped-def]
    base, smtp, (_config, _store, digests), _clock = site
    with httpx.Client(base_url=base) as web:
        assert web.post("/subscribe", data={"email": "x@example.org"}).status_code == 403
        form = web.get("/subscribe?lang=ru")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        assert (
            web.post(
                "/subscribe",
                data={"email": "x@example.org", "csrf": csrf + "0"},
            ).status_code
            == 403
        )
        assert (
            web.post(
                "/subscribe",
                data={"email": "x@example.org", "csrf": csrf},
                headers={"origin": "https://evil.example"},
            ).status_code
            == 403
        )
        assert smtp.handler.to("x@example.org") == []
    with httpx.Client(base_url=base) as stranger:  # another browser: the token is not its own
        answer = stranger.post("/subscribe", data={"email": "x@example.org", "csrf": csrf})
        assert answer.status_code == 403 and "Срок" not in answer.text
    assert digests.get_subscriber("x@example.org") is None


def test_forged_or_expired_links_do_nothing(site) -> None:  # type: ignore[no-untyped-def]
    base, _smtp, (_config, _store, digests), clock = site
    from cmsfeed.digest.links import make_token

    with httpx.Client(base_url=base) as web:
        assert web.post("/unsubscribe?token=abc.def").status_code == 400
        expired = make_token(
            b"web-secret", "confirm", {"email": "x@example.org"}, clock() - timedelta(seconds=1)
        )
        assert web.post("/confirm", data={"token": expired}).status_code == 400
        assert digests.get_subscriber("x@example.org") is None
