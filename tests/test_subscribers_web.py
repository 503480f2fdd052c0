"""The sign-up flow against a real uvicorn server and a real SMTP server: subscribe →
confirmation mail → confirm → digest → one-click POST unsubscribe."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from urllib.parse import unquote

import httpx

from cmsfeed.delivery import run_round
from cmsfeed.wiring import build_delivery
from support.items import make_item
from support.signup_site import ENV, signup, signup_site  # noqa: F401  (the `site` fixture)
from support.smtp_server import SmtpServer

SECRET = ENV["CMSFEED_SECRET"].encode()


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
        round_delivery = build_delivery(config, digests, clock, ENV)

        async def go() -> None:
            await run_round(round_delivery)
            await round_delivery.transport.close()

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
            SECRET, "confirm", {"email": "x@example.org"}, clock() - timedelta(seconds=1)
        )
        assert web.post("/confirm", data={"token": expired}).status_code == 400
        assert digests.get_subscriber("x@example.org") is None


# -- links bound to the subscriber's version (issue 12, part 3) --------------------------------


def link_in(received: object, path: str, base: str) -> str:
    text = received.message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    return local(re.search(rf"http://\S+/{path}\?token=\S+", text).group(0), base)  # type: ignore[union-attr]


def sign_up_and_confirm(web: httpx.Client, smtp: SmtpServer, base: str, **values: object) -> str:
    """Sign up through the form, confirm by the mailed link; return the confirmation link."""
    address = str(values.get("email", "anna@example.org"))
    signup(web, {"email": address, "language": "ru", "topic": ["saiga"], **values})
    confirm_url = link_in(smtp.handler.to(address)[-1], "confirm", base)
    answer = web.post(confirm_url)
    assert answer.status_code == 200 and "Подписка подтверждена" in answer.text
    return confirm_url


def welcomes(smtp: SmtpServer, address: str) -> int:
    return sum("welcome." in r.message["Message-ID"] for r in smtp.handler.to(address))


def test_a_confirmation_replayed_after_unsubscribe_changes_nothing(site) -> None:  # type: ignore[no-untyped-def]
    base, smtp, (_config, _store, digests), clock = site
    with httpx.Client(base_url=base) as web:
        confirm_url = sign_up_and_confirm(web, smtp, base)
        again = web.post(confirm_url)  # pressed twice: the subscription as it is, no new mail
        assert again.status_code == 409 and "Подписка подтверждена" in again.text
        (welcome,) = [
            r for r in smtp.handler.to("anna@example.org") if "welcome." in r.data.decode()
        ]
        one_click = web.post(
            local(welcome.message["List-Unsubscribe"].strip("<>"), base),
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200
        gone = digests.get_subscriber("anna@example.org")
        assert gone is not None and gone.status == "unsubscribed"
        clock.advance(days=2)  # within the seven days the link works for
        for replay in (web.get(confirm_url), web.post(confirm_url)):
            assert replay.status_code == 409 and "Подписка отменена" in replay.text
            assert 'action="confirm"' not in replay.text  # no button to press
        assert digests.get_subscriber("anna@example.org") == gone
        assert welcomes(smtp, "anna@example.org") == 1
        assert len(smtp.handler.to("anna@example.org")) == 2  # confirmation and welcome only


def test_the_unsubscribed_page_undoes_it_once(site) -> None:  # type: ignore[no-untyped-def]
    base, smtp, (_config, _store, digests), _clock = site
    with httpx.Client(base_url=base) as web:
        sign_up_and_confirm(web, smtp, base)
        anna = digests.get_subscriber("anna@example.org")
        welcome = smtp.handler.to("anna@example.org")[-1]
        out = web.post(link_in(welcome, "unsubscribe", base))
        assert out.status_code == 200 and 'action="resubscribe?token=' in out.text
        undo = unquote(re.search(r'action="resubscribe\?token=([^"]+)"', out.text).group(1))  # type: ignore[union-attr]
        back = web.post("/resubscribe", data={"token": undo})
        assert back.status_code == 200 and "Вы по-прежнему подписаны" in back.text
        again = digests.get_subscriber("anna@example.org")
        assert anna is not None and again is not None and again.status == "active"
        assert (again.topics, again.language) == (anna.topics, anna.language)
        replay = web.post("/resubscribe", data={"token": undo})
        assert replay.status_code == 409 and digests.get_subscriber(anna.id) == again
        assert web.post("/resubscribe", data={"token": undo[:-2]}).status_code == 400
    assert welcomes(smtp, "anna@example.org") == 1


def test_the_unsubscribe_page_of_a_reader_already_out_offers_no_button(site) -> None:  # type: ignore[no-untyped-def]
    base, smtp, (_config, _store, digests), _clock = site
    with httpx.Client(base_url=base) as web:
        sign_up_and_confirm(web, smtp, base)
        link = link_in(smtp.handler.to("anna@example.org")[-1], "unsubscribe", base)
        before = web.get(link)
        assert before.status_code == 200 and 'action="unsubscribe' in before.text
        assert web.post(link).status_code == 200
        after = web.get(link)
        assert after.status_code == 200
        assert "Подписка отменена" in after.text and "Дайджестов больше не будет" in after.text
        assert 'action="unsubscribe' not in after.text and "<form" not in after.text
        assert digests.get_subscriber("anna@example.org").status == "unsubscribed"  # type: ignore[union-attr]


def preferences_form(web: httpx.Client, url: str) -> dict[str, str]:
    page = web.get(url)
    assert page.status_code == 200
    return {
        name: re.search(rf'name="{name}" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        for name in ("csrf", "token")
    }


def test_a_confirmation_replayed_after_preferences_saved_changes_nothing(site) -> None:  # type: ignore[no-untyped-def]
    base, smtp, (_config, _store, digests), _clock = site
    with httpx.Client(base_url=base) as web:
        confirm_url = sign_up_and_confirm(web, smtp, base)
        welcome = smtp.handler.to("anna@example.org")[-1]
        preferences_url = link_in(welcome, "preferences", base)
        form = preferences_form(web, preferences_url)
        weekly = {"language": "ru", "topic": ["argali"], "frequency": "weekly", "weekday": "wed"}
        saved = web.post("/preferences", data={**form, **weekly, "time": "10:00"})
        assert saved.status_code == 200 and "Сохранено" in saved.text
        anna = digests.get_subscriber("anna@example.org")
        assert anna is not None and anna.frequency == "weekly" and anna.topics == ("argali",)
        replay = web.post(confirm_url)
        assert replay.status_code == 409 and "Подписка подтверждена" in replay.text
        assert "10:00" in replay.text  # the preferences as they are now, not as signed up
        assert digests.get_subscriber("anna@example.org") == anna
        # The same form sent again is older than what it saved: shown as it is now, not saved.
        stale = web.post("/preferences", data={**form, "language": "en", "frequency": "daily"})
        assert stale.status_code == 409 and "Срок действия формы истёк" in stale.text
        assert 'value="weekly" selected' in stale.text
        assert digests.get_subscriber("anna@example.org") == anna
        # The link in the welcome mail still opens the form, bound to the version now.
        fresh = preferences_form(web, preferences_url)
        assert web.post("/preferences", data={**fresh, **weekly, "time": "9:30"}).status_code == 200
        assert welcomes(smtp, "anna@example.org") == 1


def test_signed_links_with_missing_or_malformed_fields_answer_400_in_their_language(site) -> None:  # type: ignore[no-untyped-def]
    base, _smtp, (_config, _store, digests), clock = site
    from cmsfeed.digest.links import make_token

    later = clock() + timedelta(days=1)
    confirm = {"email": "x@example.org", "language": "ru"}  # every other field missing
    broken = [
        ("/confirm", make_token(SECRET, "confirm", confirm, later), "Ссылка не работает"),
        ("/confirm", make_token(SECRET, "confirm", [1, 2], later), "This link does not"),
        ("/preferences", make_token(SECRET, "preferences", {"id": 5}), "This link does"),
        ("/unsubscribe", make_token(SECRET, "unsubscribe", {"id": "x"}), "This link do"),
        ("/unsubscribe?lang=ru", make_token(SECRET, "unsubscribe", 7), "Ссылка не"),
    ]
    with httpx.Client(base_url=base) as web:
        for path, token, words in broken:
            joiner = "&" if "?" in path else "?"
            for answer in (
                web.get(f"{path}{joiner}token={token}"),
                web.post(path, data={"token": token}),
            ):
                assert answer.status_code == 400, (path, answer.text)
                assert words in answer.text
    assert digests.get_subscriber("x@example.org") is None


def test_a_confirmation_that_cannot_be_delivered_costs_only_itself(site) -> None:  # type: ignore[no-untyped-def]
    base, smtp, (_config, _store, digests), _clock = site
    smtp.handler.rcpt_replies["gone@example.org"] = "550 5.1.1 no such user"
    with httpx.Client(base_url=base) as web:
        refused = signup(web, {"email": "gone@example.org"})
        accepted = signup(web, {"email": "ok@example.org"})
        assert refused.status_code == accepted.status_code == 200
        assert refused.text == accepted.text  # nothing is revealed about either address
    assert smtp.handler.to("gone@example.org") == []
    assert len(smtp.handler.to("ok@example.org")) == 1
    assert digests.get_subscriber("gone@example.org") is None
