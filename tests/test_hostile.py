"""Hostile input: among good stories, bad ones. Each bad story is one clear problem line;
every good story is stored, and nothing executable reaches the store.

The fixtures in tests/data/hostile/ hold a marker where a 2 MB summary goes; the tests
expand it into a copy, so the repository does not carry 2 MB of filler.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from cmsfeed.ingest.json_items import parse_json_items
from cmsfeed.ingest.run import Ingester
from cmsfeed.sanitize import script_scheme
from cmsfeed.store import Store
from support.cli import CMSFEED

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
BIG_SUMMARY = "The argali report goes on. " * 74_075  # 2,000,025 bytes

LISTING_PROBLEMS = [
    "hostile: line 7: rejected: no title",
    "hostile: line 17: rejected: bad date '31 February 2024': no such day "
    "(day is out of range for month)",
    "hostile: line 19: rejected: invalid UTF-8 (byte 0xff) in the title",
    "hostile: line 25: warning: removed 2 control character(s) that XML forbids",
    "hostile: line 31: rejected: summary is 2,000,031 bytes, over the limit of 262,144 "
    "(ingest.max_summary_bytes)",
    "hostile: line 37: warning: removed unsafe HTML: script",
]
LISTING_STORED = {
    "Saiga calving season starts early in Betpak-Dala",
    "Goitered gazelles in the Ustyurt plateau",
    "Bukhara deer: a new census",
    "Крупнейшая популяция бухарских оленей в мире нуждается в помощи человека",
}

JSON_PROBLEMS = [
    "hostile-json: line 2: rejected: no title",
    "hostile-json: line 3: rejected: bad date '31 February 2024': no such day "
    "(day is out of range for month)",
    "hostile-json: line 4: rejected: invalid UTF-8 (byte 0xff) in the title",
    "hostile-json: line 5: warning: removed 2 control character(s) that XML forbids",
    "hostile-json: line 6: rejected: summary is 2,000,025 bytes, over the limit of 262,144 "
    "(ingest.max_summary_bytes)",
    "hostile-json: line 7: warning: removed unsafe HTML: javascript:, onerror, script",
]
JSON_STORED = {
    "Saiga antelopes counted from the air",
    "Goitered gazelle census",
    "Bukhara deer census",
    "Куланы вернулись в степь",
}


def in_source_order(lines: list[str]) -> list[str]:
    """Problems by line number (the parser's come before those found when preparing)."""
    return sorted(lines, key=lambda line: int(line.split(": line ")[1].split(":")[0]))


def expanded(name: str, folder: Path) -> Path:
    """A copy of a hostile fixture with its 2 MB summary in place."""
    data = (HOSTILE / name).read_bytes().replace(b"@@BIG_SUMMARY@@", BIG_SUMMARY.encode())
    path = folder / name
    path.write_bytes(data)
    return path


def sources(tmp_path: Path) -> str:
    listing = expanded("listing.txt", tmp_path)
    items = expanded("items.jsonl", tmp_path)
    return (
        f'[[sources]]\nid = "hostile"\nkind = "listing"\npath = "{listing.name}"\n'
        f'[[sources]]\nid = "hostile-json"\nkind = "json"\npath = "{items.name}"\n'
    )


def assert_nothing_executable(html: str) -> None:
    body = LexborHTMLParser(f"<body>{html}</body>").body
    assert body is not None
    for node in body.traverse():
        assert node.tag not in {"script", "style", "iframe", "object", "embed", "form"}, html
        assert node.tag not in {"svg", "math", "base", "meta", "link"}, html
        for name, value in node.attributes.items():
            assert not name.lower().startswith("on"), html
            assert "javascript:" not in (value or "").lower(), html
            assert script_scheme(value or "") is None, html


def test_each_bad_story_is_one_problem_line_and_every_good_story_is_stored(
    tmp_path: Path, make_config, store: Store, clock
):
    report = Ingester(make_config(sources=sources(tmp_path)), store, clock).ingest()
    listing, items = report.sources
    assert in_source_order([str(problem) for problem in listing.problems]) == LISTING_PROBLEMS
    assert in_source_order([str(problem) for problem in items.problems]) == JSON_PROBLEMS
    assert (listing.rejected, listing.warnings, listing.counts.inserted) == (4, 2, 4)
    assert (items.rejected, items.warnings, items.counts.inserted) == (4, 2, 4)
    assert not report.ok and report.failed_sources == []

    stored = store.list_items()
    assert {i.title for i in stored if i.source_id == "hostile"} == LISTING_STORED
    assert {i.title for i in stored if i.source_id == "hostile-json"} == JSON_STORED
    for item in stored:
        assert_nothing_executable(item.summary)
        assert "\x00" not in item.title + item.summary and "\x0b" not in item.summary
        assert "<script" not in item.title.lower()


def test_unsafe_html_is_removed_and_the_rest_kept(tmp_path: Path, make_config, store, clock):
    Ingester(make_config(sources=sources(tmp_path)), store, clock).ingest()
    [census] = [i for i in store.list_items() if i.title == "Bukhara deer census"]
    assert census.summary == (
        '<p>Read <a rel="noopener noreferrer nofollow">the census</a> of the Bukhara deer.'
        '<img src="https://example.org/x.png"></p>'
    )
    assert census.topics == ("bukhara-deer",)
    # A listing is text: markup in it is shown as text, never run.
    [listed] = [i for i in store.list_items() if i.title == "Bukhara deer: a new census"]
    assert "&lt;img src=x onerror=alert(2)&gt;" in listed.summary
    assert_nothing_executable(listed.summary)


def test_control_characters_are_removed_from_what_is_stored(tmp_path, make_config, store, clock):
    Ingester(make_config(sources=sources(tmp_path)), store, clock).ingest()
    [gazelles] = [i for i in store.list_items() if i.title == "Goitered gazelle census"]
    assert gazelles.summary == "<p>Jeyran numbers grow on the Ustyurt.</p>"
    assert gazelles.topics == ("goitered-gazelle",)


def test_a_json_array_names_items_by_number():
    data = (
        b'[{"title": "Saiga", "published": "2024-05-03"}, {"published": "2024-05-04"},'
        b' 7, {"title": "Kulan", "published": "2024-05-05", "colour": "grey"}]'
    )
    parsed = parse_json_items(data, "array")
    assert [s.position for s in parsed.stories] == ["item 1", "item 2"]
    assert [str(p) for p in parsed.problems] == [
        "array: item 3: rejected: expected an object, got int",
        "array: item 4: rejected: unknown field(s) colour; expected id, image, language, "
        "published, summary, title, topics, updated, url",
    ]


def test_a_json_line_that_is_not_json_is_one_problem_and_the_rest_go_on():
    data = (
        b'{"title": "Saiga", "published": "2024-05-03"}\n{"title": "Kulan", \n'
        b'{"title": "Argali\xe2\x80\xa8census", "published": "2024-05-05"}\n'
    )
    parsed = parse_json_items(data, "lines")
    assert [str(p) for p in parsed.problems] == [
        "lines: line 2: rejected: not valid JSON: Expecting property name enclosed in double quotes"
    ]
    # U+2028 is a character inside a JSON string, not a line break.
    assert [s.title for s in parsed.stories] == ["Saiga", "Argali\u2028census"]
    assert [s.position for s in parsed.stories] == ["line 1", "line 3"]


@pytest.mark.parametrize(
    "name, kind, source, problems, stored",
    [
        ("listing.txt", "listing", "hostile", LISTING_PROBLEMS, 4),
        ("items.jsonl", "json", "hostile-json", JSON_PROBLEMS, 4),
    ],
)
def test_items_import_reports_each_problem_and_exits_1_with_the_counts(
    tmp_path: Path, make_config, store: Store, name, kind, source, problems, stored
):
    make_config(sources="")
    path = expanded(name, tmp_path)
    result = subprocess.run(
        [
            *CMSFEED,
            "--config",
            str(tmp_path / "config.toml"),
            "items",
            "import",
            str(path),
            "--kind",
            kind,
            "--source",
            source,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    *lines, summary = result.stderr.splitlines()
    assert in_source_order(lines) == problems
    assert summary == "4 stories rejected, 0 source(s) failed"
    [row] = [line for line in result.stdout.splitlines() if source in line]
    # source, stories (the bad date never became one), new, updated, retagged, unchanged,
    # rejected, warnings
    assert row.split() == [
        source,
        "7",
        "4",
        "0",
        "0",
        "0",
        "4",
        "2",
    ]
    assert store.count_items() == stored


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "feed.rss",
            [
                "hostile-feed: entry 1: warning: removed unsafe HTML: javascript:",
                "hostile-feed: entry 2: warning: removed unsafe HTML: onclick, script",
            ],
        ),
        ("feed.atom", ["hostile-feed: entry 1: warning: removed unsafe HTML: javascript:"]),
        # Written as a browser still reads them: a tab entity, a leading control, a newline,
        # &colon;, in xlink:href and formaction; and tags that cleaning drops whole.
        (
            "obfuscated.rss",
            [
                "hostile-feed: entry 1: warning: removed unsafe HTML: javascript:",
                "hostile-feed: entry 2: warning: removed unsafe HTML: javascript:",
                "hostile-feed: entry 3: warning: removed unsafe HTML: base, javascript:, svg",
                "hostile-feed: entry 4: warning: removed unsafe HTML: link, math, meta, vbscript:",
            ],
        ),
    ],
    ids=["rss", "atom", "obfuscated"],
)
def test_unsafe_links_removed_from_a_feed_are_reported(
    tmp_path: Path, make_config, store: Store, clock, name: str, expected: list[str]
):
    data = (HOSTILE / name).read_bytes()
    (tmp_path / "hostile.xml").write_bytes(data)
    config = make_config(
        sources='[[sources]]\nid = "hostile-feed"\nkind = "feed"\npath = "hostile.xml"\n'
    )
    [report] = Ingester(config, store, clock).ingest().sources
    assert [str(problem) for problem in report.problems] == expected
    stored = store.list_items()
    assert len(stored) == report.counts.inserted == data.count(b"<title>") - 1
    for item in stored:
        assert_nothing_executable(item.summary)
    # A safe link is kept, made absolute and marked nofollow.
    assert any('href="https://e.org/a"' in item.summary for item in stored) == (name == "feed.rss")


def test_a_json_id_may_be_a_number_but_not_a_list():
    data = (
        b'{"id": 7, "title": "Saiga", "published": "2024-05-03"}\n'
        b'{"id": [7], "title": "Kulan", "published": "2024-05-03"}\n'
        b'{"id": true, "title": "Argali", "published": "2024-05-03"}\n'
    )
    parsed = parse_json_items(data, "numbers")
    assert [(s.key, s.title) for s in parsed.stories] == [("7", "Saiga")]
    assert [str(p) for p in parsed.problems] == [
        "numbers: line 2: rejected: id: expected a string, got [7]",
        "numbers: line 3: rejected: id: expected a string, got true",
    ]


def test_items_import_names_an_unreadable_date_line_and_stores_the_next_story(
    tmp_path: Path, make_config, store: Store
):
    make_config(sources="")
    path = tmp_path / "news.txt"
    path.write_text(
        "Saiga calves counted\n\nRangers counted calves.\n\nyesterday\n\n"
        "Kulans return to the steppe\n\nTwenty kulans were released.\n\n03 May 2024\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            *CMSFEED,
            "--config",
            str(tmp_path / "config.toml"),
            *("items", "import", str(path), "--kind", "listing", "--source", "news"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "news: line 5: rejected: unreadable date 'yesterday' for the story at line 1 "
        "(expected e.g. '02 December 2024')",
        "1 story rejected, 0 source(s) failed",
    ]
    [kulans] = store.list_items()
    assert kulans.title == "Kulans return to the steppe"
    assert kulans.summary == "<p>Twenty kulans were released.</p>"
