"""What people see, in a real browser: headless Chromium (Debian's package) driven by
Playwright, against a real `cmsfeed run` on 127.0.0.1 with the bundled sample and a real SMTP
server (aiosmtpd). Screenshots are kept as artifacts (see support/browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.browser import (
    WIDTHS,
    Site,
    Watched,
    artifacts_folder,
    html_part,
    launch_browser,
    link_in,
    start_site,
)
from support.smtp_server import SmtpServer

playwright_api = pytest.importorskip("playwright.sync_api")

# What each language's reader sees, word for word (from the bundled catalogs and config).
WORDS = {
    "en": {
        "digest": "Email digest",
        "copied": "Copied",
        "empty": "No stories yet",
        "size": r"\d+ stor(y|ies) · newest \w",
        "argali": "Argali",
        "saiga": "Saiga antelope",
    },
    "fr": {
        "digest": "Lettre d’information",
        "copied": "Copié",
        "empty": "Aucun article pour l’instant",
        "size": r"\d+ articles? · le plus récent\u00a0: \w",
        "argali": "Argali",
        "saiga": "Antilope saïga",
    },
    "es": {
        "digest": "Boletín por correo",
        "copied": "Copiado",
        "empty": "Todavía no hay noticias",
        "size": r"\d+ noticias? · la más reciente: \w",
        "argali": "Argalí",
        "saiga": "Antílope saiga",
    },
    "ru": {
        "digest": "Новости на почту",
        "copied": "Скопировано",
        "empty": "Материалов пока нет",
        "size": r"\d+ материал\w* · последний — \w",
        "argali": "Аргали",
        "saiga": "Сайгак",
    },
}
LANGUAGES = list(WORDS)  # the bundled config's site.languages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with SmtpServer() as smtp:
        yield from start_site(tmp_path_factory.mktemp("site") / "site", smtp)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return artifacts_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        yield from launch_browser(playwright)


@pytest.fixture
def page(browser: Any) -> Iterator[Watched]:
    page = browser.new_page()
    watched = Watched(page)
    yield watched
    page.close()


@pytest.mark.parametrize(
    ("language", "path", "width"),
    [
        *(
            (language, path, width)
            for language, path in (("en", "/"), ("ru", "/ru/"))
            for width in WIDTHS
        ),
        # French and Spanish at the narrow width, where their longer words would overflow.
        ("fr", "/fr/", WIDTHS[0]),
        ("es", "/es/", WIDTHS[0]),
    ],
)
def test_index_fits_the_window_without_errors(
    site: Site, page: Watched, artifacts: Path, language: str, path: str, width: int
) -> None:
    words = WORDS[language]
    page.page.set_viewport_size({"width": width, "height": 900})
    page.page.goto(site.base + path)
    page.page.screenshot(path=str(artifacts / f"index-{language}-{width}.png"), full_page=True)
    assert page.page.locator("html").get_attribute("lang") == language
    assert page.layout_problems() == []
    assert page.errors == []
    # Species names in every language, a sign-up button per topic, a copyable feed address.
    argali = page.page.locator("#topic-argali")
    assert all(WORDS[other]["argali"] in argali.inner_text() for other in LANGUAGES)
    assert argali.get_by_role("link", name=words["digest"]).is_visible()
    # The language switch offers all four, the page's own one marked as current.
    switch = page.page.get_by_role("navigation")
    assert switch.locator("li").count() == len(LANGUAGES)
    assert switch.locator("[aria-current=page]").get_attribute("lang") == language
    # The page's language is shown; the other languages are one tap away.
    assert argali.locator("input.url:visible").count() == 1
    visible = argali.locator("input.url").first
    assert visible.input_value() == f"{site.base}/feeds/argali/{language}.atom"
    more = argali.locator("details.more > summary")
    more.click()
    # every language and all languages
    assert argali.locator("input.url:visible").count() == len(LANGUAGES) + 1
    visible.focus()  # selected on focus, ready to copy
    assert (
        page.page.evaluate(
            "window.getSelection().toString() || document.activeElement.selectionEnd"
        )
        != 0
    )
    # The copy button puts the address on the clipboard and says so.
    page.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = argali.locator("button.copy").first
    assert copy.is_visible()
    copy.click()
    # (the label changes once the clipboard has answered: waited for, not slept for)
    playwright_api.expect(copy).to_contain_text(words["copied"])
    copied = page.page.evaluate("navigator.clipboard.readText().catch(() => null)")
    assert copied in (None, f"{site.base}/feeds/argali/{language}.atom")  # None: http, no API
    # Each card tells how many stories it holds and the newest one's date; empty ones say so.
    size = page.page.locator("#topic-argali > p.size").inner_text()
    assert re.match(words["size"], size), size
    # (the sample has no story about the wild yak)
    assert page.page.locator("#topic-wild-yak > p.size").inner_text() == words["empty"]
    # OPML is explained where the main button leads.
    assert page.page.locator("a[href$='feeds.opml']").count() == 1
    assert "OPML" in page.page.locator("#opml + p").inner_text()
    page.page.screenshot(path=str(artifacts / f"index-{language}-{width}-open.png"), full_page=True)
    assert page.layout_problems() == []
    assert page.errors == []


def test_language_switch_and_feed_page(site: Site, page: Watched, artifacts: Path) -> None:
    page.page.set_viewport_size({"width": 375, "height": 800})
    page.page.goto(site.base + "/")
    page.page.get_by_role("navigation").get_by_role("link", name="Русский").click()
    page.page.wait_for_url(f"{site.base}/ru/")
    assert page.page.locator("html").get_attribute("lang") == "ru"
    page.page.locator("#topic-bukhara-deer").get_by_role("link", name="Читать").first.click()
    page.page.wait_for_url(f"{site.base}/feeds/bukhara-deer/ru.html")
    assert page.page.locator("html").get_attribute("lang") == "ru"
    assert page.page.locator("article").count() >= 1
    page.page.screenshot(path=str(artifacts / "feed-bukhara-deer-ru-375.png"), full_page=True)
    assert page.layout_problems() == []
    page.page.get_by_role("navigation").get_by_role("link", name="English").click()
    page.page.wait_for_url(f"{site.base}/feeds/bukhara-deer/en.html")
    assert page.page.locator("html").get_attribute("lang") == "en"
    assert page.layout_problems() == []
    # French and Spanish: the same topic's page in each, its words and the stories in it.
    page.page.get_by_role("navigation").get_by_role("link", name="Français").click()
    page.page.wait_for_url(f"{site.base}/feeds/bukhara-deer/fr.html")
    assert page.page.locator("html").get_attribute("lang") == "fr"
    assert page.page.get_by_role("link", name="← Tous les flux").is_visible()
    page.page.screenshot(path=str(artifacts / "feed-bukhara-deer-fr-375.png"), full_page=True)
    assert page.layout_problems() == []
    page.page.get_by_role("navigation").get_by_role("link", name="Español").click()
    page.page.wait_for_url(f"{site.base}/feeds/bukhara-deer/es.html")
    page.page.get_by_role("link", name="← Todos los canales").click()
    page.page.wait_for_url(f"{site.base}/es/")
    page.page.locator("#topic-kulan").get_by_role("link", name="Leer").first.click()
    page.page.wait_for_url(f"{site.base}/feeds/kulan/es.html")
    assert page.page.locator("html").get_attribute("lang") == "es"
    story = page.page.locator("article")
    assert story.count() == 1 and story.first.get_attribute("lang") == "es"
    assert "kulanes" in story.first.inner_text()  # the sample's Spanish story
    assert re.search(r"\d+ de marzo de 2025", story.first.locator("time").inner_text())
    page.page.screenshot(path=str(artifacts / "feed-kulan-es-375.png"), full_page=True)
    assert page.layout_problems() == []
    assert page.errors == []


def test_keyboard_reaches_the_skip_link_and_the_sign_up(site: Site, page: Watched) -> None:
    page.page.goto(site.base + "/ru/")
    page.page.keyboard.press("Tab")
    focused = page.page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#content"
    for _ in range(40):  # the first sign-up button is a few tabs away
        page.page.keyboard.press("Tab")
        if "subscribe" in (page.page.evaluate("document.activeElement.href") or ""):
            break
    page.page.keyboard.press("Enter")
    page.page.wait_for_url(f"{site.base}/subscribe?lang=ru")
    assert page.page.locator("html").get_attribute("lang") == "ru"


def test_digest_as_received_fits_a_narrow_window(
    site: Site, browser: Any, page: Watched, artifacts: Path
) -> None:
    # ranger@example.org (config.toml) gets a digest as soon as `cmsfeed run` has ingested.
    digest = site.mail_to("ranger@example.org")[-1].message
    html = html_part(digest)
    (artifacts / "digest.html").write_text(html, encoding="utf-8")
    page.page.set_viewport_size({"width": 375, "height": 800})
    page.page.set_content(html)
    page.page.screenshot(path=str(artifacts / "digest-375.png"), full_page=True)
    assert page.page.locator("html").get_attribute("lang") == "en"
    assert page.layout_problems() == []
    assert page.errors == []
    text = page.page.inner_text("body")
    assert page.page.locator(".covers").inner_text() == "Saiga antelope, Argali · English"
    titles = page.page.locator("h3 a").all_inner_texts()
    assert titles
    # One link per story: its title.
    for story in page.page.locator("h3 a").all():
        assert page.page.locator(f'a[href="{story.get_attribute("href")}"]').count() == 1
    assert page.page.get_by_role("link", name="Unsubscribe").is_visible()
    assert page.page.get_by_role("link", name="Change topics, language or schedule").is_visible()
    assert link_in(digest, "unsubscribe").startswith(site.base)

    # "View this digest in your browser" opens the same stories on the site.
    page.page.goto(site.local(link_in(digest, "digest")))
    page.page.screenshot(path=str(artifacts / "digest-web-375.png"), full_page=True)
    assert page.page.locator("h3 a").all_inner_texts() == titles
    assert page.layout_problems() == [] and page.errors == []
    page.page.set_content(html)

    # With images off, the text and links are all there and nothing overflows.
    blind = browser.new_page()
    blind.route(
        "**/*",
        lambda route: (
            route.abort() if route.request.resource_type == "image" else route.continue_()
        ),
    )
    blind.set_viewport_size({"width": 375, "height": 800})
    blind.set_content(html)
    blind.screenshot(path=str(artifacts / "digest-375-no-images.png"), full_page=True)
    assert Watched(blind).layout_problems() == []
    assert blind.inner_text("body") == text
    blind.close()


@pytest.mark.parametrize("language", ["ru", "fr", "es"])
def test_sign_up_for_argali_confirm_change_and_unsubscribe_in_one_language(
    site: Site, page: Watched, artifacts: Path, language: str
) -> None:
    address = {"ru": "olga@example.org"}.get(language, f"reader-{language}@example.org")
    words = WORDS[language]
    browser_page = page.page
    browser_page.set_viewport_size({"width": 375, "height": 800})

    def looks_right(name: str) -> None:
        shot = name if language == "ru" else f"{name}-{language}"  # README shows the Russian
        browser_page.screenshot(path=str(artifacts / f"{shot}-375.png"), full_page=True)
        assert browser_page.locator("html").get_attribute("lang") == language
        assert page.layout_problems() == []
        assert page.errors == []
        unlabelled = browser_page.evaluate("""[...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')].filter(e => !e.labels.length
            && !e.getAttribute('aria-label')).map(e => e.name)""")
        assert unlabelled == []

    # From the index in that language, the Argali card's button leads to a form filled in.
    browser_page.goto(f"{site.base}/{language}/")
    browser_page.locator("#topic-argali").get_by_role("link", name=words["digest"]).click()
    browser_page.wait_for_url(f"{site.base}/subscribe?lang={language}&topic=argali")
    looks_right("signup-form")
    assert browser_page.get_by_role("checkbox", name=words["argali"]).is_checked()
    assert not browser_page.get_by_role("checkbox", name=words["saiga"]).is_checked()
    assert browser_page.locator("select#language").input_value() == language
    browser_page.locator("#email").fill(address)
    browser_page.locator("#email").press("Enter")
    browser_page.wait_for_url(f"{site.base}/subscribe?lang={language}")
    looks_right("signup-sent")
    assert site.subscriber(address) is None  # nothing is stored before confirmation

    # The link in the email that the SMTP server received shows a button; pressing it confirms.
    confirmation = site.mail_to(address)[0].message
    browser_page.goto(site.local(link_in(confirmation, "confirm")))
    looks_right("confirm")
    assert site.subscriber(address) is None  # a GET never confirms
    browser_page.get_by_role("button").click()
    browser_page.wait_for_url(f"{site.base}/confirm")
    looks_right("confirmed")
    subscriber = site.subscriber(address)
    assert subscriber is not None and subscriber.status == "active"
    assert subscriber.topics == ("argali",) and subscriber.language == language

    # The welcome email links to the preferences: weekly, and the saiga too.
    welcome = site.mail_to(address, 2)[1].message
    browser_page.goto(site.local(link_in(welcome, "preferences")))
    looks_right("preferences")
    browser_page.locator("select#frequency").select_option("weekly")
    browser_page.get_by_role("checkbox", name=words["saiga"]).check()
    browser_page.get_by_role("button").click()
    browser_page.wait_for_url(f"{site.base}/preferences")
    looks_right("preferences-saved")
    subscriber = site.subscriber(address)
    assert subscriber is not None and subscriber.status == "active"
    assert subscriber.frequency == "weekly" and set(subscriber.topics) == {"argali", "saiga"}

    # And out again, with one button.
    browser_page.goto(site.local(link_in(welcome, "unsubscribe")))
    looks_right("unsubscribe")
    browser_page.get_by_role("button").click()
    browser_page.wait_for_url(f"{site.base}/unsubscribe")
    looks_right("unsubscribed")
    subscriber = site.subscriber(address)
    assert subscriber is not None and subscriber.status == "unsubscribed"


FORM_WORDS = {
    "en": {
        "title": "Subscribe to the news digest",
        "email": "Please enter an email address such as name@example.org.",
        "time": "Please enter a time of day such as 8:00 or 18:30.",
        "zone": "Please choose a time zone from the list, such as Asia/Almaty.",
        "summary": "Please correct the 3 fields marked below.",
        "sent": "Check your inbox",
        "weekly": "Weekly instead",
        "undo": "Undo",
        "still": "You are still subscribed",
        "out": "Unsubscribe from the digest",
    },
    "ru": {
        "title": "Подписка на дайджест новостей",
        "email": "Укажите адрес электронной почты, например name@example.org.",
        "time": "Укажите время, например 8:00 или 18:30.",
        "zone": "Выберите часовой пояс из списка, например Asia/Almaty.",
        "summary": "Исправьте 3 поля, отмеченных ниже.",
        "sent": "Проверьте почту",
        "weekly": "Раз в неделю",
        "undo": "Отменить",
        "still": "Вы по-прежнему подписаны",
        "out": "Отписаться от рассылки",
    },
}


def problem_below(page: Any, field: str) -> str:
    """The problem shown for a field, which must sit just below it."""
    control = page.locator(f"#{field}")
    problem = page.locator(f"#{control.get_attribute('aria-describedby')}")
    field_box, problem_box = control.bounding_box(), problem.bounding_box()
    assert 0 <= problem_box["y"] - (field_box["y"] + field_box["height"]) < 40, field
    return str(problem.inner_text())


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_sign_up_form_for_people(
    site: Site, browser: Any, page: Watched, artifacts: Path, language: str
) -> None:
    words = FORM_WORDS[language]
    tab = page.page
    tab.set_viewport_size({"width": 375, "height": 800})
    # The reader's browser is in Almaty: the zone is chosen for them.
    browser.new_cdp_session(tab).send(
        "Emulation.setTimezoneOverride", {"timezoneId": "Asia/Almaty"}
    )
    tab.goto(f"{site.base}/subscribe?lang={language}")
    assert tab.locator("h1").inner_text() == words["title"]
    assert tab.locator("#timezone").input_value() == "Asia/Almaty"
    # The day of the week only for weekly digests.
    assert not tab.locator("#weekday").is_visible()
    tab.locator("#frequency").select_option("weekly")
    assert tab.locator("#weekday").is_visible()
    tab.locator("#frequency").select_option("daily")
    assert not tab.locator("#weekday").is_visible()

    # Three mistakes: all reported at once, each below its field, in the page's language.
    tab.locator("#email").fill("olga at example")
    tab.locator("#time").fill("25:00")
    tab.locator("#timezone").fill("Nowhere/Land")
    tab.get_by_role("button").click()
    tab.wait_for_url(f"{site.base}/subscribe?lang={language}")  # the page language rides along
    tab.screenshot(path=str(artifacts / f"signup-errors-{language}-375.png"), full_page=True)
    assert tab.locator("html").get_attribute("lang") == language
    assert tab.get_by_role("alert").inner_text() == words["summary"]
    assert problem_below(tab, "email") == words["email"]
    assert problem_below(tab, "time") == words["time"]
    assert problem_below(tab, "timezone") == words["zone"]
    assert page.layout_problems() == []
    # The form sent back is a 400 (Chromium logs that status), and nothing else went wrong.
    assert page.errors == [
        f"console: Failed to load resource: the server responded with a status of 400 "
        f"(Bad Request) ({site.base}/subscribe?lang={language})"
    ]
    page.errors.clear()

    # Corrected, with the hour written without its zero.
    address = f"people-{language}@example.org"
    tab.locator("#email").fill(address)
    tab.locator("#time").fill("8:00")
    tab.locator("#timezone").fill("Asia/Almaty")
    tab.get_by_role("button").click()
    tab.wait_for_url(f"{site.base}/subscribe?lang={language}")
    assert tab.locator("h1").inner_text() == words["sent"]
    confirm = site.local(link_in(site.mail_to(address)[0].message, "confirm"))
    tab.goto(confirm)
    tab.get_by_role("button").click()
    tab.wait_for_url(f"{site.base}/confirm")
    subscriber = site.subscriber(address)
    assert subscriber is not None and subscriber.status == "active"
    assert f"{subscriber.send_time:%H:%M}" == "08:00" and subscriber.timezone == "Asia/Almaty"

    # The preferences page says whose digest it is and has a way out.
    welcome = site.mail_to(address, 2)[1].message
    tab.goto(site.local(link_in(welcome, "preferences")))
    tab.screenshot(path=str(artifacts / f"preferences-{language}-375.png"), full_page=True)
    assert address in tab.locator("p.address").inner_text()
    assert tab.locator("#timezone").input_value() == "Asia/Almaty"  # theirs, not a guess
    tab.get_by_role("link", name=words["out"]).click()

    # The unsubscribe page offers a weekly digest instead.
    tab.wait_for_url(re.compile(r".*/unsubscribe\?token=.*"))
    tab.screenshot(path=str(artifacts / f"unsubscribe-{language}-375.png"), full_page=True)
    tab.get_by_role("button", name=words["weekly"]).click()
    tab.wait_for_url(re.compile(r".*/weekly\?token=.*"))
    subscriber = site.subscriber(address)
    assert subscriber is not None
    assert subscriber.frequency == "weekly" and subscriber.status == "active"

    # Unsubscribed, then undone with one press.
    tab.goto(site.local(link_in(welcome, "unsubscribe")))
    tab.get_by_role("button", name=words["weekly"]).wait_for(state="detached")
    tab.get_by_role("button").first.click()
    tab.wait_for_url(f"{site.base}/unsubscribe")
    tab.screenshot(path=str(artifacts / f"unsubscribed-{language}-375.png"), full_page=True)
    assert site.subscriber(address).status == "unsubscribed"  # type: ignore[union-attr]
    tab.get_by_role("button", name=words["undo"]).click()
    tab.wait_for_url(re.compile(r".*/resubscribe\?token=.*"))
    assert tab.locator("h1").inner_text() == words["still"]
    assert site.subscriber(address).status == "active"  # type: ignore[union-attr]
    assert page.layout_problems() == [] and page.errors == []


def test_without_a_script_every_field_shows_and_the_zone_is_left_alone(
    site: Site, browser: Any, page: Watched
) -> None:
    tab = page.page
    browser.new_cdp_session(tab).send("Emulation.setScriptExecutionDisabled", {"value": True})
    tab.goto(f"{site.base}/subscribe?lang=ru")
    assert tab.locator("#weekday").is_visible()
    assert tab.locator("#timezone").input_value() == "UTC"
