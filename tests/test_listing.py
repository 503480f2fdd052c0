"""The listing parser, by property: what a listing says comes back; no input crashes it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsfeed.dates import looks_like_date
from cmsfeed.ingest.listing import parse_listing
from cmsfeed.model import ParseResult

LOCALES = ("en", "ru")
# Any character but the line ends \n and \r, lone surrogates and the byte-order mark (a
# listing may start with one). \v, \f, \x85 and U+2028 are in: they do not end a line.
line_characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\ufeff")
text_lines = (
    st.text(line_characters, min_size=1, max_size=60)
    .map(str.strip)
    .filter(lambda line: bool(line) and not looks_like_date(line, LOCALES))
)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def written_dates(draw: st.DrawFn) -> tuple[date, str]:
    day = draw(days)
    form = draw(st.sampled_from(["en", "ru", "iso"]))
    if form == "iso":
        return day, day.isoformat()
    return day, format_date(day, "dd MMMM y" if form == "en" else "d MMMM y", locale=form)


stories = st.tuples(text_lines, st.lists(text_lines, max_size=4), written_dates())


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
        b"Saiga news\n\nA paragraph.\n\n02 May 2024\n\nKulan news\n\nNo date", "news"
    )
    assert [s.title for s in parsed.stories] == ["Saiga news"]
    assert [str(p) for p in parsed.problems] == [
        "news: line 7: rejected: no date line after the story (expected e.g. '02 December 2024')"
    ]


def test_a_date_line_with_no_story_before_it_is_a_problem():
    parsed = parse_listing(b"02 May 2024\n\nSaiga news\n\n03 May 2024\n", "news")
    assert [s.title for s in parsed.stories] == ["Saiga news"]
    assert [str(p) for p in parsed.problems] == [
        "news: line 1: rejected: a date line with no story before it"
    ]


def test_a_byte_order_mark_and_windows_line_ends_are_read():
    parsed = parse_listing(
        "\ufeffSaiga news\r\n\r\nCalves.\r\n\r\n02 May 2024\r\n".encode(), "news"
    )
    [story] = parsed.stories
    assert story.title == "Saiga news" and story.summary_html == "<p>Calves.</p>"
