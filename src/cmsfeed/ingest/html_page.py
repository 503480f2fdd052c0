"""News-listing web pages, read with CSS selectors from config.toml. Pure: bytes in.

For sites that offer no feed: `selectors.item` picks each story's element; `title`, `link`,
`summary`, `date` and `image` are looked up inside it. The selectors come as plain values
(`Selectors`), so this parser knows nothing of config.toml. Dates are read with the source's
`date_format` and `date_locale` when given. Relative links are made absolute against the
page's URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from cmsfeed.dates import parse_date
from cmsfeed.errors import DateError
from cmsfeed.model import ParseResult, Problem, Story, language_code


@dataclass(frozen=True, slots=True)
class Selectors:
    """CSS selectors: `item` picks each story's element, the others look inside it."""

    item: str
    title: str
    date: str
    link: str | None = None
    summary: str | None = None
    image: str | None = None
    date_attribute: str | None = None  # read the date from this attribute, not the text


def parse_html_page(
    data: bytes,
    source_id: str,
    selectors: Selectors,
    *,
    page_url: str | None = None,
    locales: tuple[str, ...] = ("en",),
    zone: tzinfo = UTC,
    date_format: str | None = None,
) -> ParseResult:
    tree = LexborHTMLParser(data.decode("utf-8", errors="surrogateescape"))
    stories: list[Story] = []
    problems: list[Problem] = []
    nodes = tree.css(selectors.item)
    # <html lang="ru">: the fallback for a story too short to tell (an item's own lang wins).
    root = tree.root
    page_language = language_code(root.attributes.get("lang") or "") if root else None
    if not nodes:
        problems.append(
            Problem(
                source_id,
                "",
                f"no element matches selectors.item {selectors.item!r}; has the page changed?",
            )
        )
    for number, node in enumerate(nodes, start=1):
        position = f"item {number}"
        title_node = node.css_first(selectors.title)
        date_node = node.css_first(selectors.date)
        if date_node is None:
            problems.append(
                Problem(
                    source_id,
                    position,
                    f"no date (selectors.date {selectors.date!r} found nothing)",
                )
            )
            continue
        raw_date = (
            date_node.attributes.get(selectors.date_attribute) or ""
            if selectors.date_attribute
            else date_node.text(deep=True)
        )
        try:
            published_at = parse_date(
                raw_date or "", locales=locales, zone=zone, date_format=date_format
            )
        except DateError as err:
            problems.append(Problem(source_id, position, f"bad date {raw_date!r}: {err.problem}"))
            continue
        link = _attribute(node, selectors.link, "href") if selectors.link else None
        if link is None and title_node is not None and title_node.tag == "a":
            link = title_node.attributes.get("href")
        url = urljoin(page_url or "", link) if link else None
        summary_node = node.css_first(selectors.summary) if selectors.summary else None
        image = _attribute(node, selectors.image, "src") if selectors.image else None
        stories.append(
            Story(
                position=position,
                title=title_node.text(deep=True) if title_node is not None else "",
                summary_html=summary_node.inner_html or "" if summary_node is not None else "",
                published_at=published_at,
                url=url,  # a page gives no ids: a story is known by its link
                image_url=urljoin(page_url or "", image) if image else None,
                language=language_code(node.attributes.get("lang") or "") or page_language,
            )
        )
    return ParseResult(stories, problems)


def _attribute(node: LexborNode, selector: str, attribute: str) -> str | None:
    found = node.css_first(selector)
    if found is None:
        return None
    value = found.attributes.get(attribute)
    return value.strip() if value else None
