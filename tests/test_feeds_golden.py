"""Golden files: one feed of each format, byte for byte.

Rendering takes no clock at all (a feed's time is its newest entry's), so fixed items give
fixed bytes. After a deliberate change, regenerate with CMSFEED_UPDATE_GOLDEN=1 and review
the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cmsfeed.feeds.document import make_document
from cmsfeed.feeds.site import render_feed
from cmsfeed.feeds.urls import Selection
from support.feeds import make_site, sample_items, with_translations

GOLDEN = Path(__file__).parent / "data" / "feeds"
FORMATS = ["atom", "rss", "json", "html"]


def rendered() -> dict[str, bytes]:
    items = with_translations(sample_items())
    chosen = Selection(("bukhara-deer",), None)
    found = [item for item in items if "bukhara-deer" in item.topics]
    site = make_site(hub_url="https://hub.example.net/", author_email="cami@example.org")
    document = make_document(site, chosen, found, {item.id: item for item in items})
    return dict(zip(FORMATS, (file.body for file in render_feed(document)), strict=True))


@pytest.mark.parametrize("fmt", FORMATS)
def test_feed_matches_its_golden_file(fmt):
    golden = GOLDEN / f"bukhara-deer-all.{fmt}"
    body = rendered()[fmt]
    if os.environ.get("CMSFEED_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(body)
    assert body == golden.read_bytes()
