"""The listing parser, by property: what a listing says comes back; no input crashes it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.ingest.listing import meant_as_date, parse_listing, reads_like_title
from cmsfeed.model import ParseResult

LOCALES = ("en", "ru")
# Any character but the line ends \n and \r, lone surrogates and the byte-order mark (a
# listing may start with one). \v, \f, \x85 and U+2028 are in: they do not end a line.
line_characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\ufeff")
text_lines = (
    st.text(line_characters, min_size=1, max_size=60)
    .map(str.strip)
    .filter(lambda line: bool(line) and not meant_as_date(line, LOCALES))
)
# A paragraph ends its sentence; a bare short line in the middle of a story reads as the
# title of the next one (a date line went missing), so paragraphs are written as sentences.
paragraph_lines = text_lines.map(lambda line: line + ".").filter(
    lambda line: not meant_as_date(line, LOCALES)
)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def written_dates(draw: st.DrawFn) -> tuple[date, str]:
    day = draw(days)
    form = draw(st.sampled_from(["en", "ru", "iso"]))
    if form == "iso":
        return day, day.isoformat()
    return day, format_date(day, "dd MMMM y" if form == "en" else "d MMMM y", locale=form)


stories = st.tuples(text_lines, st.lists(paragraph_lines, max_size=4), written_dates())


def render(generated: list[tuple[str, list[str], tuple[date, str]]]) -> tuple[str, list[int]]:
    """The listing text, and the line number of each story's title."""
    lines: list[str] = []
    title_lines = []
    for title, paragraphs, (_, written) in generated:
        title_lines.append(len(lines) + 1)
        lines += [title, ""]
        for paragraph in paragraphs:
            lines += [paragraph, ""]
        lines += [written, "", ""]
    return "\n".join(lines), title_lines


@given(st.lists(stories, max_size=8), st.sampled_from(["\n", "\r\n"]))
@settings(max_examples=200)
def test_random_stories_come_back_with_their_titles_dates_and_positions(generated, newline):
    text, title_lines = render(generated)
    parsed = parse_listing(text.replace("\n", newline).encode(), "random", locales=LOCALES)
    assert parsed.problems == []
    assert len(parsed.stories) == len(generated)
    for story, (title, paragraphs, (day, _)), line in zip(
        parsed.stories, generated, title_lines, strict=True
    ):
        assert story.title == title
        assert story.published_at == datetime(day.year, day.month, day.day, tzinfo=UTC)
        assert story.position == f"line {line}"
        assert story.summary_html.count("<p>") == len(paragraphs)


def check_result(parsed: ParseResult) -> None:
    for story in parsed.stories:
        assert story.title and story.published_at is not None
        assert story.published_at.tzinfo is UTC
        assert story.position.startswith("line ")
    for problem in parsed.problems:
        assert problem.source_id == "bytes" and problem.reason
        assert problem.position.startswith("line ")


@given(st.binary(max_size=2000))
@settings(max_examples=300)
def test_arbitrary_bytes_never_crash_the_parser(data: bytes):
    check_result(parse_listing(data, "bytes", locales=LOCALES))


tricky_lines = st.one_of(
    st.sampled_from(
        [
            "",
            "",
            "02 December 2024",
            "31 February 2024",
            "24 января 2023",
            "2024-02-30",
            "Mon, 02 Dec 2024 10:00:00 GMT",
            "December 2, 2024",
            "0000-01-01",
            "32 Dec 2024",
            "\ufeff",
            "\x0b",
            "  ",
            "\udcff",
        ]
    ),
    st.text(max_size=30),
)


@given(st.lists(tricky_lines, max_size=30))
@settings(max_examples=300)
def test_lines_that_are_nearly_dates_never_crash_the_parser(lines: list[str]):
    data = "\n".join(lines).encode("utf-8", errors="surrogateescape")
    check_result(parse_listing(data, "bytes", locales=LOCALES))
    check_result(parse_listing(data, "bytes", locales=LOCALES, date_format="%d %B %Y"))


def test_a_story_without_a_date_line_is_a_problem_naming_its_first_line():
    parsed = parse_listing(
        b"Saiga news\n\nA paragraph.\n\n02 May 2024\n\nKulan news\n\nThe count goes on.", "news"
    )
    assert [s.title for s in parsed.stories] == ["Saiga news"]
    assert [str(p) for p in parsed.problems] == [
        "news: line 7: rejected: no date line after the story (expected e.g. '02 December 2024')"
    ]


def test_a_date_line_with_no_story_before_it_is_a_problem():
    parsed = parse_listing(b"02 May 2024\n\nSaiga news\n\n03 May 2024\n", "news")
    assert [s.title for s in parsed.stories] == ["Saiga news"]
    assert [str(p) for p in parsed.problems] == [
        "news: line 1: rejected: a date line with no story before it ('02 May 2024')"
    ]


def test_a_byte_order_mark_and_windows_line_ends_are_read():
    parsed = parse_listing(
        "\ufeffSaiga news\r\n\r\nCalves.\r\n\r\n02 May 2024\r\n".encode(), "news"
    )
    [story] = parsed.stories
    assert story.title == "Saiga news" and story.summary_html == "<p>Calves.</p>"


UNREADABLE_DATES = [
    "yesterday",
    "Yesterday",
    "TBD",
    "today",
    "12/05/2024",
    "05.12.2024",
    "May 2024",
    "3 days ago",
    "вчера",
    "2 дня назад",
    "2024",
]


@given(
    st.lists(stories, min_size=1, max_size=8),
    st.lists(st.sampled_from(UNREADABLE_DATES), min_size=8, max_size=8),
    st.lists(st.booleans(), min_size=8, max_size=8),
)
@settings(max_examples=200)
def test_a_story_with_an_unreadable_date_costs_only_itself(generated, unreadable, spoiled):
    """No story absorbs another: each spoiled date line rejects its own story and no other."""
    spoiled = [flag for flag, _ in zip(spoiled, generated, strict=False)]
    written = [
        (title, paragraphs, (day, unreadable[n] if spoiled[n] else text))
        for n, (title, paragraphs, (day, text)) in enumerate(generated)
    ]
    text, title_lines = render(written)
    parsed = parse_listing(text.encode(), "spoiled", locales=LOCALES)
    kept = [story for story, bad in zip(generated, spoiled, strict=True) if not bad]
    assert [s.title for s in parsed.stories] == [title for title, _, _ in kept]
    assert [s.summary_html.count("<p>") for s in parsed.stories] == [len(p) for _, p, _ in kept]
    expected = []
    for n, (_, paragraphs, _) in enumerate(generated):
        if spoiled[n]:
            date_line = title_lines[n] + 2 * (1 + len(paragraphs))
            expected.append(
                f"spoiled: line {date_line}: rejected: unreadable date {unreadable[n]!r} "
                f"for the story at line {title_lines[n]} (expected e.g. '02 December 2024')"
            )
    assert [str(p) for p in parsed.problems] == expected


def test_an_unreadable_date_line_rejects_its_story_and_the_next_one_stands_alone():
    parsed = parse_listing(
        b"Saiga news\n\nCalves were born.\n\nyesterday\n\n"
        b"Kulan news\n\nKulans came back.\n\n03 May 2024\n",
        "news",
        locales=LOCALES,
    )
    [kulan] = parsed.stories
    assert (kulan.title, kulan.summary_html, kulan.position) == (
        "Kulan news",
        "<p>Kulans came back.</p>",
        "line 7",
    )
    assert [str(p) for p in parsed.problems] == [
        "news: line 5: rejected: unreadable date 'yesterday' for the story at line 1 "
        "(expected e.g. '02 December 2024')"
    ]


def test_an_unreadable_line_where_no_story_is_open_is_a_stray_date():
    parsed = parse_listing(b"Saiga news\n\n02 May 2024\n\nTBD\n\nKulan news\n\n03 May 2024\n", "n")
    assert [s.title for s in parsed.stories] == ["Saiga news", "Kulan news"]
    assert [str(p) for p in parsed.problems] == [
        "n: line 5: rejected: a date line with no story before it ('TBD')"
    ]


def test_a_date_line_without_a_blank_line_before_it_still_ends_its_story():
    parsed = parse_listing(
        b"Saiga news\n\nCalves were born.\n02 May 2024\nKulan news\n\n03 May 2024\n", "n"
    )
    assert [(s.title, s.summary_html) for s in parsed.stories] == [
        ("Saiga news", "<p>Calves were born.</p>"),
        ("Kulan news", ""),
    ]
    assert [str(p) for p in parsed.problems] == [
        "n: line 4: warning: read '02 May 2024' as a date line, though no blank line sets it apart"
    ]


def test_lines_that_merely_mention_dates_are_paragraphs():
    for line in ["Action Plan", "Report for May 2024", "Rangers counted 2024 saigas", "1"]:
        assert not meant_as_date(line, LOCALES), line
    parsed = parse_listing(
        b"Saiga news\n\nReport for May 2024\n\nAction Plan\n\n02 May 2024\n", "n", locales=LOCALES
    )
    [story] = parsed.stories
    assert story.summary_html == "<p>Report for May 2024</p><p>Action Plan</p>"


def test_a_story_whose_date_line_is_missing_does_not_absorb_the_next_one():
    parsed = parse_listing(
        b"Saiga news\n\nCalves were born.\n\nKulan news\n\nKulans came back.\n\n03 May 2024\n",
        "news",
    )
    [kulan] = parsed.stories
    assert (kulan.title, kulan.summary_html, kulan.position) == (
        "Kulan news",
        "<p>Kulans came back.</p>",
        "line 5",
    )
    assert [str(p) for p in parsed.problems] == [
        "news: line 1: rejected: line 5 looks like the title of another story; "
        "is a date line missing?"
    ]


def test_each_story_missing_its_date_line_is_rejected_and_the_last_one_too():
    parsed = parse_listing(
        b"Saiga news\n\nCalves.\n\nKulan news\n\nKulans.\n\n"
        b"Deer news\n\nDeer.\n\nGoitered gazelle news\n\nGazelles.\n",
        "news",
    )
    assert parsed.stories == []
    assert [str(p) for p in parsed.problems] == [
        "news: line 1: rejected: line 5 looks like the title of another story; "
        "is a date line missing?",
        "news: line 5: rejected: line 9 looks like the title of another story; "
        "is a date line missing?",
        "news: line 9: rejected: line 13 looks like the title of another story; "
        "is a date line missing?",
        "news: line 13: rejected: no date line after the story (expected e.g. '02 December 2024')",
    ]


def test_a_short_last_paragraph_or_a_sentence_is_not_taken_for_a_title():
    parsed = parse_listing(
        b"MoU on Bukhara Deer\n\nThe MoU was signed.\n\nAction Plan\n\n12 March 2014\n\n"
        b'Saiga news\n\nCalves were born.\n\nRangers said: "more than ever."\n\n'
        b"A long paragraph follows.\n\n02 May 2024\n",
        "news",
    )
    assert parsed.problems == []
    assert [s.summary_html.count("<p>") for s in parsed.stories] == [2, 3]


def test_what_reads_like_a_title():
    for line in ["Kulan news", "MoU on Bukhara Deer", "Saigas (2024)", "«Minex Central Asia»"]:
        assert reads_like_title(line), line
    for line in ["Calves were born.", "They came back!", "Why?", "As follows:", "1 2 3", "x" * 151]:
        assert not reads_like_title(line), line


title_like_lines = text_lines.filter(reads_like_title)


@given(
    st.lists(
        st.tuples(
            title_like_lines, st.lists(paragraph_lines, min_size=1, max_size=3), written_dates()
        ),
        min_size=2,
        max_size=6,
    ),
    st.lists(st.booleans(), min_size=6, max_size=6),
)
@settings(max_examples=200)
def test_a_story_with_a_missing_date_line_costs_only_itself(generated, dropped):
    """No story absorbs another: each story whose date line is gone is rejected, naming the
    title of the story after it, and every other story comes back whole."""
    dropped = [flag for flag, _ in zip(dropped, generated[:-1], strict=False)] + [False]
    lines: list[str] = []
    title_lines = []
    for (title, paragraphs, (_, written)), drop in zip(generated, dropped, strict=True):
        title_lines.append(len(lines) + 1)
        lines += [title, ""]
        for paragraph in paragraphs:
            lines += [paragraph, ""]
        if not drop:
            lines += [written, ""]
    parsed = parse_listing("\n".join(lines).encode(), "gone", locales=LOCALES)
    kept = [
        (story, line)
        for story, line, drop in zip(generated, title_lines, dropped, strict=True)
        if not drop
    ]
    assert [(s.title, s.position) for s in parsed.stories] == [
        (title, f"line {line}") for (title, _, _), line in kept
    ]
    assert [s.summary_html.count("<p>") for s in parsed.stories] == [
        len(paragraphs) for (_, paragraphs, _), _ in kept
    ]
    assert [str(p) for p in parsed.problems] == [
        f"gone: line {title_lines[n]}: rejected: line {title_lines[n + 1]} looks like the title "
        "of another story; is a date line missing?"
        for n, drop in enumerate(dropped)
        if drop
    ]
