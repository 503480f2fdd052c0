"""The news-listing text format. Pure: bytes in, stories and problems out.

A listing is a sequence of stories separated by blank lines, each a title line, one or more
summary paragraphs and a date line, as copied from a news page:

    A new Work Programme for the Bukhara Deer for 2025-2032

    On 10-11 September 2024, Signatories ... met in Almaty ...
    траны-подписанты Меморандума ... встретились в Алматы ...

    29 October 2024

A line that reads as a date ends a story. Every line of the summary is one paragraph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from cmsfeed.dates import looks_like_date, parse_date
from cmsfeed.errors import DateError
from cmsfeed.model import ParseResult, Problem, Story
from cmsfeed.sanitize import paragraphs_to_html, split_lines


@dataclass
class _Block:
    line: int
    lines: list[str] = field(default_factory=list)


def parse_listing(
    data: bytes,
    source_id: str,
    *,
    locales: Sequence[str] = ("en",),
    zone: tzinfo = UTC,
    date_format: str | None = None,
) -> ParseResult:
    """Stories of a listing; a bad story becomes a problem and parsing goes on after it."""
    # surrogateescape keeps undecodable bytes visible, so one bad story is rejected, not the file.
    text = data.decode("utf-8", errors="surrogateescape").lstrip("\ufeff")
    stories: list[Story] = []
    problems: list[Problem] = []
    pending: list[_Block] = []
    for block in _blocks(text):
        if len(block.lines) == 1 and _is_date(block.lines[0], locales, date_format):
            _finish(pending, block, source_id, locales, zone, date_format, stories, problems)
            pending = []
        else:
            pending.append(block)
    if pending:
        problems.append(
            Problem(
                source_id,
                f"line {pending[0].line}",
                "no date line after the story (expected e.g. '02 December 2024')",
            )
        )
    return ParseResult(stories, problems)


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, line in enumerate(split_lines(text), start=1):
        if line.strip():
            if current is None:
                current = _Block(number)
                blocks.append(current)
            current.lines.append(line.strip())
        else:
            current = None
    return blocks


def _is_date(line: str, locales: Sequence[str], date_format: str | None) -> bool:
    if date_format is None:
        return looks_like_date(line, locales)
    try:
        parse_date(line, locales=locales, date_format=date_format)
    except DateError:
        return looks_like_date(line, locales)
    return True


def _finish(
    blocks: list[_Block],
    date_block: _Block,
    source_id: str,
    locales: Sequence[str],
    zone: tzinfo,
    date_format: str | None,
    stories: list[Story],
    problems: list[Problem],
) -> None:
    position = f"line {blocks[0].line if blocks else date_block.line}"
    if not blocks:
        problems.append(Problem(source_id, position, "a date line with no story before it"))
        return
    date_line = date_block.lines[0]
    try:
        published_at = parse_date(date_line, locales=locales, zone=zone, date_format=date_format)
    except DateError as err:
        problems.append(
            Problem(source_id, f"line {date_block.line}", f"bad date {date_line!r}: {err.problem}")
        )
        return
    title, *rest = blocks[0].lines
    paragraphs = rest + [line for block in blocks[1:] for line in block.lines]
    stories.append(
        Story(
            position=position,
            title=title,
            summary_html=paragraphs_to_html(paragraphs),
            published_at=published_at,
        )
    )
