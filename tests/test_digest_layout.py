"""The digest's HTML as mail clients get it (issue 13, part 8): a table wrapper that keeps its
width in desktop Outlook, the site's colours in the header, one link per story, and only CSS
that caniemail's data (checked with the doiuse-email package) finds supported in Gmail,
Apple Mail, Thunderbird, Samsung Email and Outlook for Windows."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import html as lxml_html

import cmsfeed
from cmsfeed.digest.render import EmailRenderer, Personal, personalise
from cmsfeed.subscribers import Subscriber
from support.clock import T0
from support.config import digest_config
from support.items import make_item

STYLE = Path(cmsfeed.__file__).parent / "templates" / "web" / "style.css"
PERSONAL = Personal("http://127.0.0.1:8080/u", "http://127.0.0.1:8080/p", "why")
# CSS properties that doiuse-email 0.4.1 reported no error for in those clients (caniemail,
# November 2026). border-radius was dropped from the digest: Outlook for Windows ignores it.
SUPPORTED = {
    "background-color", "border-bottom", "border-collapse", "border-top", "color",
    "display", "font-family", "font-size", "font-weight", "height", "line-height", "margin",
    "margin-top", "max-width", "padding", "padding-bottom", "padding-top", "text-decoration",
    "width",
}  # fmt: skip


def digest_html(tmp_path: Path, language: str = "en") -> str:
    config = digest_config(tmp_path)
    renderer = EmailRenderer(config.site_info(), confirm_days=7)
    items = [
        make_item("Saiga counted", topics=("saiga",), language=language),
        make_item("Argali seen", topics=("argali",), language=language),
        make_item("Argali again", topics=("argali",), language=language),
    ]
    subscriber = Subscriber("a@example.org", language=language)
    return personalise(renderer.digest(subscriber, items, T0), PERSONAL).html


def test_a_table_wrapper_keeps_600_px_in_outlook(tmp_path: Path) -> None:
    body = digest_html(tmp_path)
    tree = lxml_html.fromstring(body)
    wrapper = tree.xpath("//body/table")
    assert len(wrapper) == 1 and wrapper[0].get("role") == "presentation"
    page = tree.xpath("//body/table//table[@role='presentation']")
    assert page and "max-width: 600px" in page[0].get("style")
    # Word's renderer ignores max-width: a fixed 600 px table only it sees.
    ghost = re.findall(r"<!--\[if mso\]>(.*?)<!\[endif\]-->", body, re.DOTALL)
    assert len(ghost) == 2 and 'width="600"' in ghost[0]
    assert not tree.xpath("//div[contains(@style, 'max-width')]")
    # The Nu HTML checker's rule: no obsolete presentational attributes outside that comment.
    assert not tree.xpath("//*[@bgcolor or @cellpadding or @cellspacing or @align or @border]")


def test_the_header_wears_the_sites_colours(tmp_path: Path) -> None:
    brand = re.search(r"--brand: (#[0-9a-f]{6})", STYLE.read_text()).group(1)  # type: ignore[union-attr]
    ink = re.search(r"--brand-ink: (#[0-9a-f]{3,6})", STYLE.read_text()).group(1)  # type: ignore[union-attr]
    tree = lxml_html.fromstring(digest_html(tmp_path, "ru"))
    [header] = tree.xpath("//td[contains(@class, 'header')]")
    assert f"background-color: {brand}" in header.get("style")
    assert header.text_content().strip() == "Новости CAMI"
    [name] = header.xpath(".//p")
    assert ink.lower() in {"#fff", "#ffffff"} and "color: #ffffff" in name.get("style")


def test_one_link_per_story(tmp_path: Path) -> None:
    tree = lxml_html.fromstring(digest_html(tmp_path))
    titles = tree.xpath("//h3/a")
    assert [a.text for a in titles] == ["Argali seen", "Argali again", "Saiga counted"]
    hrefs = [a.get("href") for a in tree.xpath("//a")]
    for title in titles:
        assert hrefs.count(title.get("href")) == 1


def test_only_css_the_clients_support(tmp_path: Path) -> None:
    styles = " ".join(
        element.get("style")
        for element in lxml_html.fromstring(digest_html(tmp_path)).iter()
        if isinstance(element.tag, str) and element.get("style")
    )
    used = {
        declaration.split(":")[0].strip() for declaration in styles.split(";") if ":" in declaration
    }
    assert used and used <= SUPPORTED, used - SUPPORTED
