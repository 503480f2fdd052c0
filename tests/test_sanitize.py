"""sanitize by property: the shortcut for plain titles gives what nh3 gives."""

from __future__ import annotations

import html
import re

import nh3
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.sanitize import plain_text


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="<&")))
@settings(max_examples=500)
def test_text_without_markup_is_read_as_nh3_reads_it(text: str) -> None:
    by_nh3 = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    assert plain_text(text) == re.sub(r"\s+", " ", html.unescape(by_nh3)).strip()
