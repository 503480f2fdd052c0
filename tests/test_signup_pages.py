"""The sign-up, preferences and unsubscribe pages on a real uvicorn server with a real SMTP
server: problems in the page's language beside their fields, the address and a way out on
the preferences page, "weekly instead" and an undo on the unsubscribe pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser

from cmsfeed.digest.links import make_token, preferences_link, unsubscribe_link
from cmsfeed.store import Store
from cmsfeed.subscribers import Subscriber
from support.clock import FixedClock
from support.config import digest_config
from support.signup import ENV, csrf_of, serving, signup, signup_app
from support.smtp_server import SmtpServer

SECRET = ENV["CMSFEED_SECRET"].encode()


@pytest.fixture
def site(tmp_path: Path, store_url: str) -> Iterator[tuple[httpx.Client, Any, FixedClock]]:
    clock = FixedClock()
    with SmtpServer() as smtp:
        config = digest_config(tmp_path, smtp.port, store_url=store_url, signups_per_hour=50)
        store = Store.open(store_url)
        with (
            serving(signup_app(config, store, clock, smtp.port)) as base,
            httpx.Client(base_url=base) as web,
        ):
            yield web, (smtp, store), clock
        store.close()


def tree(answer: httpx.Response) -> LexborHTMLParser:
    return LexborHTMLParser(answer.text)


def beside(page: LexborHTMLParser, field: str) -> str:
    """The problem shown for `field`, found through the field's aria-describedby."""
    control = page.css_first(f'[name="{field}"]:not([type=hidden])')
    if field == "topic":
        control = page.css_first("fieldset")
    assert control is not None, field
    described = control.attributes.get("aria-describedby")
    assert described, f"{field} has no problem attached"
    problem = page.css_first(f"#{described}")
    assert problem is not None
    return problem.text(strip=True)


def test_every_problem_in_russian_beside_its_field(site) -> None:  # type: ignore[no-untyped-def]
    web, (smtp, _digests), _clock = site
    form = web.get("/subscribe?lang=ru")
    answer = web.post(
        "/subscribe",
        data={
            "csrf": csrf_of(form),
            "email": "анна собака пример",
            "language": "ru",
            "frequency": "daily",
            "weekday": "mon",
            "time": "25:61",
            "timezone": "Марс/Олимп",
            "topic": ["argali"],
        },
    )
    assert answer.status_code == 400
    page = tree(answer)
    assert page.css_first("html").attributes["lang"] == "ru"
    assert beside(page, "email") == "Укажите адрес электронной почты, например name@example.org."
    assert beside(page, "time") == "Укажите время, например 8:00 или 18:30."
    assert beside(page, "timezone").startswith("Выберите часовой пояс из списка")
    assert page.css_first("#form-errors").text(strip=True) == "Исправьте 3 поля, отмеченных ниже."
    assert "String should" not in answer.text and "pattern" not in answer.text
    # What was typed comes back to be corrected, the ticked topic still ticked.
    assert page.css_first("#time").attributes["value"] == "25:61"
    assert page.css_first("#timezone").attributes["value"] == "Марс/Олимп"
    assert "checked" in page.css_first('input[value="argali"]').attributes
    assert smtp.handler.received == []


def test_the_answers_to_the_form_keep_the_page_language_not_the_digest_language(site) -> None:  # type: ignore[no-untyped-def]
    web, (_smtp, _digests), _clock = site
    form = web.get("/subscribe?lang=ru")
    action = tree(form).css_first("form").attributes["action"]
    fields = {"csrf": csrf_of(form), "language": "en", "frequency": "daily", "weekday": "mon"}
    fields |= {"time": "8:00", "timezone": "UTC"}
    bad = web.post("/" + action, data={**fields, "email": "no address"})
    assert bad.status_code == 400 and tree(bad).css_first("html").attributes["lang"] == "ru"
    assert beside(tree(bad), "email").startswith("Укажите адрес")
    good = web.post("/" + action, data={**fields, "email": "reader@example.org"})
    assert good.status_code == 200 and tree(good).css_first("html").attributes["lang"] == "ru"


def test_a_stale_preferences_form_stays_stale_after_a_mistake(site) -> None:  # type: ignore[no-untyped-def]
    web, (_smtp, digests), clock = site
    anna = digests.save_subscriber(Subscriber("anna@example.org", language="ru"), clock())
    url = "/" + preferences_link("", SECRET, anna.id)
    tab_a, tab_b = web.get(url), web.get(url)
    token_a = tree(tab_a).css_first('input[name="token"]').attributes["value"]
    token_b = tree(tab_b).css_first('input[name="token"]').attributes["value"]
    saved = web.post(
        "/preferences", data={"token": token_b, "csrf": csrf_of(tab_b), "time": "9:00"}
    )
    assert saved.status_code == 200
    wrong = web.post("/preferences", data={"token": token_a, "csrf": csrf_of(tab_a), "time": "7h"})
    assert wrong.status_code == 400
    again = tree(wrong).css_first('input[name="token"]').attributes["value"]
    assert again == token_a  # the token the form was opened with, not a fresh one
    late = web.post("/preferences", data={"token": again, "csrf": csrf_of(wrong), "time": "7:00"})
    assert late.status_code == 409
    kept = digests.get_subscriber(anna.id)
    assert kept is not None and f"{kept.send_time:%H:%M}" == "09:00"


def test_a_time_without_its_leading_zero_signs_up(site) -> None:  # type: ignore[no-untyped-def]
    web, (smtp, digests), _clock = site
    answer = signup(
        web,
        {"email": "olga@example.org", "language": "ru", "time": "8:00", "timezone": "asia/almaty"},
    )
    assert answer.status_code == 200
    (mail,) = smtp.handler.to("olga@example.org")
    text = mail.message.get_body(("plain",)).get_content()
    token = re.search(r"/confirm\?token=(\S+)", text).group(1)  # type: ignore[union-attr]
    assert web.post("/confirm", data={"token": token}).status_code == 200
    subscriber = digests.get_subscriber("olga@example.org")
    assert subscriber is not None
    assert f"{subscriber.send_time:%H:%M}" == "08:00" and subscriber.timezone == "Asia/Almaty"


def test_the_form_offers_every_zone_and_hides_nothing_without_a_script(site) -> None:  # type: ignore[no-untyped-def]
    web, _stores, _clock = site
    page = tree(web.get("/subscribe"))
    zones = [option.attributes["value"] for option in page.css("#timezones option")]
    assert "Asia/Almaty" in zones and "UTC" in zones and zones == sorted(zones)
    assert page.css_first("#timezone").attributes["list"] == "timezones"
    assert "data-guess" in page.css_first("#timezone").attributes  # a new form: guess it
    assert "hidden" not in page.css_first("#weekday-field").attributes


def test_preferences_show_the_address_and_a_way_out(site) -> None:  # type: ignore[no-untyped-def]
    web, (_smtp, digests), clock = site
    anna = digests.save_subscriber(Subscriber("anna@example.org", language="ru"), clock())
    url = preferences_link("", SECRET, anna.id)
    page = web.get("/" + url)
    parsed = tree(page)
    assert "anna@example.org" in parsed.css_first("p.address").text()
    assert "data-guess" not in parsed.css_first("#timezone").attributes  # theirs is kept
    out = parsed.css_first('a[href^="unsubscribe?token="]')
    assert out is not None and out.text(strip=True) == "Отписаться от рассылки"
    assert web.get("/" + out.attributes["href"]).status_code == 200
    # A bad time on the preferences form: the problem in Russian, nothing saved.
    bad = web.post(
        "/preferences",
        data={"token": url.split("token=")[1], "csrf": csrf_of(page), "time": "8 утра"},
    )
    assert bad.status_code == 400
    assert beside(tree(bad), "time") == "Укажите время, например 8:00 или 18:30."
    assert "anna@example.org" in tree(bad).css_first("p.address").text()
    assert digests.get_subscriber("anna@example.org") == anna


def test_weekly_instead_and_undo_from_the_unsubscribe_pages(site) -> None:  # type: ignore[no-untyped-def]
    web, (_smtp, digests), clock = site
    anna = digests.save_subscriber(Subscriber("anna@example.org", frequency="daily"), clock())
    url = "/" + unsubscribe_link("", SECRET, anna.id)
    offer = tree(web.get(url)).css_first('form[action^="weekly?token="]')
    assert offer is not None
    assert web.post("/" + offer.attributes["action"]).status_code == 200
    weekly = digests.get_subscriber(anna.id)
    assert weekly is not None and weekly.frequency == "weekly" and weekly.status == "active"
    assert tree(web.get(url)).css_first('form[action^="weekly"]') is None  # weekly already

    gone = web.post(url)
    assert digests.get_subscriber(anna.id).status == "unsubscribed"  # type: ignore[union-attr]
    undo = "/" + tree(gone).css_first('form[action^="resubscribe?token="]').attributes["action"]
    assert web.post(undo).status_code == 200
    back = digests.get_subscriber(anna.id)
    assert back is not None and back.status == "active" and back.frequency == "weekly"

    web.post(url)  # out again
    again = web.post(url)
    assert tree(again).css_first('form[action^="resubscribe"]') is None  # already out: no undo
    assert web.post(undo).status_code == 409  # used once already, and changed since
    assert digests.get_subscriber(anna.id).status == "unsubscribed"  # type: ignore[union-attr]
    # Another purpose's token is no undo.
    other = make_token(SECRET, "unsubscribe", anna.id)
    assert web.post("/resubscribe", params={"token": other}).status_code == 400


def html_rule_breaches(page: LexborHTMLParser) -> list[str]:
    """The Nu HTML checker's rules these pages could break: ids unique, every reference to an
    id (label for, aria-describedby, list) finds one, no white space in a URL attribute."""
    ids = [node.attributes["id"] for node in page.css("[id]")]
    found = [f"duplicate id {name}" for name in sorted({i for i in ids if ids.count(i) > 1})]
    for attribute in ("for", "aria-describedby", "list"):
        for node in page.css(f"[{attribute}]"):
            for name in (node.attributes[attribute] or "").split():
                if name not in ids:
                    found.append(f"{node.tag} {attribute}={name}: no such id")
    for node in page.css("[href], [src], [action]"):
        for attribute in ("href", "src", "action"):
            value = node.attributes.get(attribute)
            if value is not None and any(c.isspace() for c in value):
                found.append(f"{node.tag} {attribute} has white space")
    return found


def test_the_pages_keep_the_html_checkers_rules(site) -> None:  # type: ignore[no-untyped-def]
    web, (_smtp, digests), clock = site
    anna = digests.save_subscriber(Subscriber("anna@example.org"), clock())
    form = web.get("/subscribe?lang=ru")
    every_problem = web.post(
        "/subscribe",
        data={"csrf": csrf_of(form), "email": "", "topic": ["x"], "language": "x",
              "frequency": "x", "weekday": "x", "time": "x", "timezone": "x"},
    )  # fmt: skip
    assert every_problem.status_code == 400
    pages = {
        "form": form,
        "every problem": every_problem,
        "preferences": web.get("/" + preferences_link("", SECRET, anna.id)),
        "unsubscribe": web.get("/" + unsubscribe_link("", SECRET, anna.id)),
        "unsubscribed": web.post("/" + unsubscribe_link("", SECRET, anna.id)),
    }
    assert len(tree(every_problem).css(".field-error")) == 7
    assert {name: html_rule_breaches(tree(page)) for name, page in pages.items()} == {
        name: [] for name in pages
    }
