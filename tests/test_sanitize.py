"""sanitize by property: the shortcut for plain titles gives what nh3 gives; every unsafe
construct that cleaning removes is reported, however its URL is written."""

from __future__ import annotations

import html
import re

import nh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from cmsfeed.sanitize import clean_html, plain_text, script_scheme, unsafe_markup


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<&")))
@settings(max_examples=500)
def test_text_without_markup_is_read_as_nh3_reads_it(text: str) -> None:
    by_nh3 = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    assert plain_text(text) == re.sub(r"\s+", " ", html.unescape(by_nh3)).strip()


HOSTILE_FRAGMENTS = [
    ('<a href="java&#x09;script:alert(1)">x</a>', ["javascript:"]),
    ('<a href="java&Tab;script:alert(1)">x</a>', ["javascript:"]),
    ('<a href="ja&#10;vas&#13;cript&colon;alert(1)">x</a>', ["javascript:"]),
    ('<a href="java\nscript:alert(1)">x</a>', ["javascript:"]),
    ('<a href="&#x01; JavaScript:alert(1)">x</a>', ["javascript:"]),
    ('<img src="VBScript:msgbox(1)">', ["vbscript:"]),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', ["data:"]),
    ('<svg><a xlink:href="javascript:alert(1)">x</a></svg>', ["javascript:", "svg"]),
    ('<form><button formaction="javascript:alert(1)">go</button></form>', ["form", "javascript:"]),
    ('<video poster="javascript:alert(1)"></video>', ["javascript:"]),
    ('<table background="javascript:alert(1)"></table>', ["javascript:"]),
    ("<math><mi>x</mi></math>", ["math"]),
    ('<base href="https://evil.example/">', ["base"]),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', ["meta"]),
    ('<link rel="stylesheet" href="https://evil.example/a.css">', ["link"]),
    # Harmless: written as text, or a safe link.
    ("javascript:alert(1) as text", []),
    ("<p>javascript:alert(1) &lt;script&gt;</p>", []),
    ('<a href="https://e.org/javascript:x">x</a>', []),
]


@pytest.mark.parametrize("fragment, reported", HOSTILE_FRAGMENTS)
def test_unsafe_markup_reports_what_cleaning_removes(fragment: str, reported: list[str]):
    assert unsafe_markup(fragment) == reported
    cleaned = clean_html(fragment, "https://e.org/")
    if reported:
        assert cleaned != fragment
    for node in LexborHTMLParser(f"<body>{cleaned}</body>").body.traverse():
        for value in node.attributes.values():
            assert script_scheme(value or "") is None, cleaned


# Ways to write "javascript:" that a browser still reads as "javascript:".
ignored_in_urls = st.sampled_from(
    ["\t", "\n", "\r", "&#x09;", "&#9;", "&Tab;", "&NewLine;", "&#13;"]
)
leading_in_urls = st.sampled_from(["", " ", "&#x01;", "\x01", "&#32;", "\x1f "])


@st.composite
def obfuscated_script_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["javascript", "vbscript"]))
    letters = [draw(st.sampled_from([c.lower(), c.upper()])) for c in scheme]
    written = "".join(
        letter + "".join(draw(st.lists(ignored_in_urls, max_size=2))) for letter in letters
    )
    colon = draw(st.sampled_from([":", "&colon;", "&#58;", "&#x3a;"]))
    return draw(leading_in_urls) + written + colon + "alert(1)"


@given(
    obfuscated_script_urls(),
    st.sampled_from(
        [
            '<a href="{}">x</a>',
            '<img src="{}">',
            '<svg><a xlink:href="{}">x</a></svg>',
            '<form action="{}"></form>',
            '<button formaction="{}">go</button>',
        ]
    ),
)
@settings(max_examples=300)
def test_every_script_link_that_cleaning_removes_is_reported(url: str, template: str):
    fragment = template.format(url)
    found = unsafe_markup(fragment)
    assert "javascript:" in found or "vbscript:" in found, fragment
    cleaned = clean_html(fragment, "https://e.org/")
    assert "script:" not in html.unescape(cleaned).replace("\t", "").lower(), cleaned
