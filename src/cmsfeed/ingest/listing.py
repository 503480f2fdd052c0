"""The news-listing text format. Pure: bytes in, stories and problems out.

A listing is a sequence of stories separated by blank lines, each a title line, one or more
summary paragraphs and a date line, as copied from a news page:

    A new Work Programme for the Bukhara Deer for 2025-2032

    On 10-11 September 2024, Signatories ... met in Almaty ...
    траны-подписанты Меморандума ... встретились в Алматы ...

    29 October 2024

A line that reads as a date ends a story, and so does a line that stands where a date goes
but cannot be read ("yesterday", "TBD", "12/05/2024"): that story is rejected with the line's
number and text, and the lines after it start the next story, so no story ever absorbs
another. Every line of the summary is one paragraph.

A missing date line would let a story absorb the next one, so a later block of a story that
is one short line reading like a title (no closing punctuation) and has paragraphs after it
is taken as the next story's title: the story before it is rejected, naming that line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo

from cmsfeed.dates import looks_like_date, month_names, parse_date
from cmsfeed.errors import DateError
from cmsfeed.model import ParseResult, Problem, Story
from cmsfeed.sanitize import paragraphs_to_html, split_lines

# Lines written where a date goes that no parser reads: relative days, placeholders, numeric
# day/month orders that are ambiguous ("12/05/2024"), a month without its day. Such a line
# ends its story (which is rejected, naming the line) instead of being read as a paragraph,
# which would let the story absorb the next one.
_PLACEHOLDERS = frozenset(
    {
        "yesterday",
        "today",
        "tomorrow",
        "tbd",
        "tba",
        "tbc",
        "n/a",
        "unknown",
        "no date",
        "date unknown",
        "date tbd",
        "undated",
        "coming soon",
        "вчера",
        "сегодня",
        "завтра",
        "позавчера",
        "неизвестно",
        "без даты",
        "дата неизвестна",
    }
)
_RELATIVE = re.compile(
    r"^(\d+|an?|one|a few)\s+(minute|hour|day|week|month|year)s?\s+ago$"
    r"|^(last|this|next)\s+(week|month|year|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday)$"
    r"|^\d+\s+(минут|час|дн|день|недел|месяц|год|лет)\w*\s+назад$"
)
_NUMERIC_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(\s+\d{1,2}:\d{2}(:\d{2})?)?$")
_YEAR = re.compile(r"^(19|20|21)\d\d$")
_DATE_WORD = re.compile(r"[^\W_]+|\d+")
_DATE_FILLERS = frozenset({"of", "the", "г", "года", "год"})
MEANT_AS_DATE_CHARS = 40


def meant_as_date(line: str, locales: Sequence[str] = ("en",)) -> bool:
    """Whether a line stands where a date goes, read or not ("yesterday", "12/05/2024").

    True for every line `looks_like_date` accepts, and for short lines made only of date
    words: relative days, placeholders, numeric dates, month names with numbers.
    """
    if looks_like_date(line, locales):
        return True
    cleaned = " ".join(line.lower().split()).strip(" .,:;!")
    if not cleaned or len(cleaned) > MEANT_AS_DATE_CHARS:
        return False
    if cleaned in _PLACEHOLDERS or _RELATIVE.match(cleaned) or _NUMERIC_DATE.match(cleaned):
        return True
    if _YEAR.match(cleaned):
        return True
    words = _DATE_WORD.findall(cleaned)
    months = month_names(locales)
    return (
        any(word in months for word in words)
        and any(word.isdigit() for word in words)
        and all(word in months or word.isdigit() or word in _DATE_FILLERS for word in words)
    )


@dataclass
class _Line:
    number: int
    text: str
    alone: bool  # a blank line (or the file's edge) before and after it
    opens_block: bool = True  # a blank line (or the file's start) before it


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
    pending: list[_Line] = []
    for line in _lines(text):
        if not (_is_date(line.text, locales, date_format) or meant_as_date(line.text, locales)):
            pending.append(line)
            continue
        if not line.alone:
            problems.append(
                Problem(
                    source_id,
                    f"line {line.number}",
                    f"read {line.text!r} as a date line, though no blank line sets it apart",
                    rejected=False,
                )
            )
        pending = _reject_absorbed_stories(pending, source_id, problems)
        _finish(pending, line, source_id, locales, zone, date_format, stories, problems)
        pending = []
    pending = _reject_absorbed_stories(pending, source_id, problems)
    if pending:
        problems.append(
            Problem(
                source_id,
                f"line {pending[0].number}",
                "no date line after the story (expected e.g. '02 December 2024')",
            )
        )
    return ParseResult(stories, problems)


def _lines(text: str) -> list[_Line]:
    """The non-blank lines, stripped, each knowing whether blank lines set it apart."""
    raw = split_lines(text)
    found: list[_Line] = []
    for index, line in enumerate(raw):
        if line.strip():
            before = index == 0 or not raw[index - 1].strip()
            after = index == len(raw) - 1 or not raw[index + 1].strip()
            found.append(_Line(index + 1, line.strip(), before and after, before))
    return found


# A title is one short line without the punctuation that closes a sentence or leads on.
TITLE_CHARS = 150
_TITLE_END_PUNCTUATION = frozenset(".!?…:;,")
_CLOSING_MARKS = "\"'»”’)]"


def reads_like_title(line: str) -> bool:
    """Whether a line could be a story's title: short, with letters, not ending a sentence."""
    bare = line.rstrip(_CLOSING_MARKS + " ")
    return (
        0 < len(line) <= TITLE_CHARS
        and any(character.isalpha() for character in line)
        and bare[-1:] not in _TITLE_END_PUNCTUATION
    )


def _reject_absorbed_stories(
    lines: list[_Line], source_id: str, problems: list[Problem]
) -> list[_Line]:
    """The lines of the last story in `lines`; each story before it is rejected.

    A story is its title block, a paragraph block, then more blocks. A later block that is a
    single title-like line with paragraphs after it is where a date line went missing: a
    summary does not go on after a line that reads as a heading, a new story does.
    """
    blocks: list[list[_Line]] = []
    for line in lines:
        if line.opens_block or not blocks:
            blocks.append([])
        blocks[-1].append(line)
    start = 0
    for index in range(start + 2, len(blocks) - 1):
        block = blocks[index]
        if index - start < 2 or len(block) != 1 or not block[0].alone:
            continue
        if not reads_like_title(block[0].text):
            continue
        problems.append(
            Problem(
                source_id,
                f"line {blocks[start][0].number}",
                f"line {block[0].number} looks like the title of another story; "
                "is a date line missing?",
            )
        )
        start = index
    return [line for block in blocks[start:] for line in block]


def _is_date(line: str, locales: Sequence[str], date_format: str | None) -> bool:
    if date_format is None:
        return looks_like_date(line, locales)
    try:
        parse_date(line, locales=locales, date_format=date_format)
    except DateError:
        return looks_like_date(line, locales)
    return True


def _finish(
    lines: list[_Line],
    date_line: _Line,
    source_id: str,
    locales: Sequence[str],
    zone: tzinfo,
    date_format: str | None,
    stories: list[Story],
    problems: list[Problem],
) -> None:
    if not lines:
        problems.append(
            Problem(
                source_id,
                f"line {date_line.number}",
                f"a date line with no story before it ({date_line.text!r})",
            )
        )
        return
    position = f"line {lines[0].number}"
    try:
        published_at = parse_date(
            date_line.text, locales=locales, zone=zone, date_format=date_format
        )
    except DateError as err:
        if looks_like_date(date_line.text, locales) or date_format is not None:
            reason = f"bad date {date_line.text!r}: {err.problem}"
        else:
            reason = (
                f"unreadable date {date_line.text!r} for the story at {position} "
                "(expected e.g. '02 December 2024')"
            )
        problems.append(Problem(source_id, f"line {date_line.number}", reason))
        return
    title, *paragraphs = (line.text for line in lines)
    stories.append(
        Story(
            position=position,
            title=title,
            summary_html=paragraphs_to_html(paragraphs),
            published_at=published_at,
        )
    )
