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


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("language", "path"), [("en", "/"), ("ru", "/ru/")])
def test_index_fits_the_window_without_errors(
    site: Site, page: Watched, artifacts: Path, language: str, path: str, width: int
) -> None:
    page.page.set_viewport_size({"width": width, "height": 900})
    page.page.goto(site.base + path)
    page.page.screenshot(path=str(artifacts / f"index-{language}-{width}.png"), full_page=True)
    assert page.page.locator("html").get_attribute("lang") == language
    assert page.layout_problems() == []
    assert page.errors == []
    # Species names in both languages, a sign-up button per topic, a copyable feed address.
    argali = page.page.locator("#topic-argali")
    assert "Argali" in argali.inner_text() and "Аргали" in argali.inner_text()
    assert argali.get_by_role(
        "link", name="Новости на почту" if language == "ru" else "Email digest"
    ).is_visible()
    # The page's language is shown; the other languages are one tap away.
    assert argali.locator("input.url:visible").count() == 1
    visible = argali.locator("input.url").first
    assert visible.input_value() == f"{site.base}/feeds/argali/{language}.atom"
    more = argali.locator("details.more > summary")
    more.click()
    assert argali.locator("input.url:visible").count() == 3  # en, ru and all languages
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
    playwright_api.expect(copy).to_contain_text("Скопировано" if language == "ru" else "Copied")
    copied = page.page.evaluate("navigator.clipboard.readText().catch(() => null)")
    assert copied in (None, f"{site.base}/feeds/argali/{language}.atom")  # None: http, no API
    # Each card tells how many stories it holds and the newest one's date; empty ones say so.
    size = page.page.locator("#topic-bukhara-deer > p.size").inner_text()
    assert re.match(r"^\d+ (stories|материал\w*) · (newest|последний — ) ?\w", size), size
    empty = "Материалов пока нет" if language == "ru" else "No stories yet"
    assert page.page.locator("#topic-kulan > p.size").inner_text() == empty
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


def test_sign_up_for_argali_in_russian_confirm_change_and_unsubscribe(
    site: Site, page: Watched, artifacts: Path
) -> None:
    address = "olga@example.org"
    browser_page = page.page
    browser_page.set_viewport_size({"width": 375, "height": 800})

    def looks_right(name: str) -> None:
        browser_page.screenshot(path=str(artifacts / f"{name}-375.png"), full_page=True)
        assert browser_page.locator("html").get_attribute("lang") == "ru"
        assert page.layout_problems() == []
        assert page.errors == []
        unlabelled = browser_page.evaluate("""[...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')].filter(e => !e.labels.length
            && !e.getAttribute('aria-label')).map(e => e.name)""")
        assert unlabelled == []

    # From the Russian index, the Argali card's button leads to a form already filled in.
    browser_page.goto(site.base + "/ru/")
    browser_page.locator("#topic-argali").get_by_role("link", name="Новости на почту").click()
    browser_page.wait_for_url(f"{site.base}/subscribe?lang=ru&topic=argali")
    looks_right("signup-form")
    assert browser_page.get_by_role("checkbox", name="Аргали").is_checked()
    assert not browser_page.get_by_role("checkbox", name="Сайгак").is_checked()
    assert browser_page.locator("select#language").input_value() == "ru"
    browser_page.locator("#email").fill(address)
    browser_page.locator("#email").press("Enter")
    browser_page.wait_for_url(f"{site.base}/subscribe")
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
    assert subscriber.topics == ("argali",) and subscriber.language == "ru"

    # The welcome email links to the preferences: weekly, and the saiga too.
    welcome = site.mail_to(address, 2)[1].message
    browser_page.goto(site.local(link_in(welcome, "preferences")))
    looks_right("preferences")
    browser_page.locator("select#frequency").select_option("weekly")
    browser_page.get_by_role("checkbox", name="Сайгак").check()
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
