"""Making untrusted text safe to store and to serve. Pure: no I/O.

Summaries are kept as HTML cleaned by nh3 (the Ammonia sanitizer): a short allow-list of
tags, only http(s)/mailto links, every URL made absolute against the story's page. Titles are
plain text. Characters XML 1.0 forbids are removed, because every feed is XML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import nh3
from selectolax.lexbor import LexborHTMLParser

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "cite",
        "code",
        "em",
        "figcaption",
        "figure",
        "h2",
        "h3",
        "h4",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "small",
        "strong",
        "sub",
        "sup",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "abbr": {"title"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRIBUTES = frozenset({"href", "src"})

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates
# and U+FFFE/U+FFFF. Lone surrogates come from bytes that were not UTF-8 (surrogateescape).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_UNSAFE_TAGS = frozenset(
    {"script", "iframe", "object", "embed", "style", "form", "svg", "math", "base", "meta"}
    | {"link", "frame", "frameset", "applet"}
)
# Attributes a browser reads as a URL, wherever they appear; cleaning drops them all.
_URL_BEARING_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "data"}
    | {"srcset", "codebase", "cite", "longdesc", "lowsrc", "dynsrc", "ping", "manifest"}
)
_SCRIPT_URL = re.compile(r"(javascript|vbscript|data):", re.IGNORECASE)
# What the URL parser ignores (WHATWG URL: tab and newline anywhere; C0 controls and spaces
# at the start), so "java&#x09;script:" and " \x01javascript:" are script URLs as well.
_URL_IGNORED = re.compile("[\t\n\r]")
_URL_LEADING = "".join(chr(code) for code in range(0x21))
_SPACES = re.compile(r"\s+")
# What makes nh3 change text: tags, entities, and NUL (which an HTML parser drops).
_MARKUP = re.compile("[<&\x00]")


def clean_html(fragment: str, base_url: str | None = None) -> str:
    """Sanitized HTML with absolute URLs; scripts, styles and event handlers are gone."""

    def keep_attribute(element: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            absolute = urljoin(base_url, value.strip()) if base_url else value.strip()
            if urlsplit(absolute).scheme not in URL_SCHEMES:
                return None
            return absolute
        return value

    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        attribute_filter=keep_attribute,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def unsafe_markup(fragment: str) -> list[str]:
    """Names of the dangerous constructs in `fragment` that cleaning removes, for reporting.

    The fragment is parsed, not searched: "onerror=" or "javascript:" written as text (or
    escaped, as a listing's paragraphs are) is harmless and not reported.
    """
    if "<" not in fragment:
        return []
    body = LexborHTMLParser(f"<body>{fragment}</body>").body
    found: set[str] = set()
    for node in body.traverse() if body is not None else ():
        if node.tag in _UNSAFE_TAGS:
            found.add(node.tag)
        for name, value in node.attributes.items():
            name = name.lower()
            script_url = script_scheme(value or "") if name in _URL_BEARING_ATTRIBUTES else None
            if name.startswith("on"):
                found.add(name)
            elif script_url is not None:
                found.add(script_url)
    return sorted(found)


def script_scheme(url: str) -> str | None:
    """ "javascript:", "vbscript:" or "data:" when `url` (entities decoded) is read as one.

    The URL is normalised as a browser reads it: tab, newline and carriage return removed
    everywhere, controls and spaces at the start dropped.
    """
    normalised = _URL_IGNORED.sub("", url).lstrip(_URL_LEADING)
    found = _SCRIPT_URL.match(normalised)
    return None if found is None else found.group(1).lower() + ":"


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment on one line: tags dropped, entities decoded."""
    if not _MARKUP.search(fragment):  # most titles: nothing for nh3 to do
        return _SPACES.sub(" ", fragment).strip()
    text = nh3.clean(fragment, tags=set(), clean_content_tags={"script", "style"})
    return _SPACES.sub(" ", html.unescape(text)).strip()


def paragraphs_to_html(paragraphs: Iterable[str]) -> str:
    """Plain-text paragraphs as escaped `<p>` elements."""
    return "".join(f"<p>{html.escape(p.strip(), quote=False)}</p>" for p in paragraphs if p.strip())


def remove_xml_forbidden(text: str) -> tuple[str, int]:
    """`text` without characters XML 1.0 forbids, and how many were removed."""
    cleaned, count = _XML_FORBIDDEN.subn("", text)
    return cleaned, count


def first_undecodable_byte(text: str) -> int | None:
    """The first byte that was not valid UTF-8 (decoded with surrogateescape), if any."""
    found = _UNDECODABLE.search(text)
    return None if found is None else ord(found.group(0)) - 0xDC00


def split_lines(text: str) -> list[str]:
    """Lines ended by \\n, \\r\\n or \\r only.

    str.splitlines also breaks at \\v, \\f, \\x1c-\\x1e, \\x85 and U+2028/U+2029, which would
    split a story in two and shift every line number after it.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
