"""A story's summary as paragraphs, and a title made from a paragraph. Pure: no I/O.

Paragraphs are what a story is split into language versions by, so every source kind must
give them alike: `<p>` and other blocks from HTML, and lines from plain text (a JSON or
feed summary written as "English text\\n\\nРусский текст"). A line break starts a new
paragraph where a blank line follows or where the script changes; lines in one script
with single breaks between them (a hard-wrapped paragraph) stay one paragraph.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

from cmsfeed.classify import script_of
from cmsfeed.sanitize import plain_text

TITLE_LENGTH = 90
# Too short a clause says too little for a title; below this the cut falls at a word instead.
MIN_CLAUSE = TITLE_LENGTH // 2
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\W*[\w])")
# The word before a full stop, with the dots inside it ("e.g", "i.e", "U.S").
_WORD_BEFORE_STOP = re.compile(r"(?<![\w.])([^\W\d_]+(?:\.[^\W\d_]+)*)\.$")
# A full stop after these ends an abbreviation, not a sentence: "В 2024 г. в Алматы",
# "Заповедник им. Гайдара", "10 сент. 2024", "Prof. Smith".
ABBREVIATIONS = frozenset(
    {"г", "гг", "им", "т", "е", "ст", "сент", "окт", "нояб", "дек", "янв", "февр", "авг"}
    | {"см", "ср", "др", "пр", "тыс", "млн", "млрд", "обл", "ул", "сокр", "напр"}
    | {"mr", "mrs", "ms", "dr", "prof", "st", "no", "nos", "vol", "fig", "approx", "etc"}
    | {"jr", "sr", "gen", "col", "lt", "mt", "cf", "vs", "ca"}
    | {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
)
SHORT_WORD = 3
_CLAUSE_END = re.compile(r"[,;:](?=\s)|\s[—–-](?=\s)")
_LINE_BREAK = re.compile(r"(\n[ \t\r\f\v]*\n\s*|\n)")
_PARENTHETICAL = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_OPENERS = "(["
_CLOSERS = ")]"
_CUT_PUNCTUATION = " ,;:—–-"

_PLAIN_PARAGRAPH = re.compile(r"<p>([^<>]*)</p>")
_PLAIN_PARAGRAPHS = re.compile(r"(?:<p>[^<>]*</p>\s*)+")

_INLINE = frozenset(
    {"-text", "a", "b", "i", "em", "strong", "abbr", "code", "small", "sub", "sup", "q", "cite"}
    | {"img", "span", "u", "s", "mark", "time"}
)


@dataclass(frozen=True, slots=True)
class Paragraph:
    html: str
    text: str  # its plain text on one line, read while splitting (nh3 need not run again)


@dataclass
class _Line:
    html: list[str]
    text: list[str]
    hard: bool = False  # a blank line or a block ends it: the next line is a new paragraph
    breaker: str = "\n"  # what joins it to the next line of the same paragraph


def paragraphs(summary: str) -> list[Paragraph]:
    """Top-level blocks of sanitized HTML with their text; loose text split at line breaks."""
    if not summary:
        return []
    if is_plain_paragraphs(summary):
        # Paragraphs of plain text, the commonest summary: the same result without parsing.
        return [
            Paragraph(found.group(0), _one_line(html.unescape(found.group(1))))
            for found in _PLAIN_PARAGRAPH.finditer(summary)
        ]
    return parsed_paragraphs(summary)


def is_plain_paragraphs(summary: str) -> bool:
    """Whether `summary` is only `<p>` elements of text: no other markup, no attributes."""
    return _PLAIN_PARAGRAPHS.fullmatch(summary) is not None


def parsed_paragraphs(summary: str) -> list[Paragraph]:
    """`paragraphs` by parsing the HTML: for any summary."""
    body = LexborHTMLParser(f"<body>{summary}</body>").body
    if body is None:
        return [Paragraph(summary, plain_text(summary))]
    blocks: list[Paragraph] = []
    lines: list[_Line] = [_Line([], [])]

    def close_inline_run() -> None:
        blocks.extend(_join_lines(lines))
        lines[:] = [_Line([], [])]

    for node in body.iter(include_text=True):
        if node.tag == "-text":
            for piece in _LINE_BREAK.split(node.text(deep=True) or ""):
                if piece.startswith("\n"):
                    lines[-1].hard = piece.count("\n") > 1
                    lines.append(_Line([], []))
                elif piece:
                    lines[-1].html.append(html.escape(piece, quote=False))
                    lines[-1].text.append(piece)
        elif node.tag == "br":
            lines[-1].breaker = "<br>"
            lines.append(_Line([], []))
        elif node.tag in _INLINE:
            lines[-1].html.append(node.html or "")
            lines[-1].text.append(node.text(deep=True) or "")
        else:
            close_inline_run()
            blocks.append(Paragraph(node.html or "", _one_line(node.text(deep=True) or "")))
    close_inline_run()
    return blocks


def _join_lines(lines: list[_Line]) -> list[Paragraph]:
    """Lines as paragraphs: a new one after a blank line or where the script changes."""
    found: list[Paragraph] = []
    html_parts: list[str] = []
    text_parts: list[str] = []
    script, breaker = "", "\n"
    hard = True
    for line in lines:
        text = _one_line("".join(line.text))
        if not text:
            hard = hard or line.hard
            continue
        line_script = script_of(text)
        if html_parts and (hard or line_script != script):
            found.append(Paragraph(f"<p>{''.join(html_parts).strip()}</p>", " ".join(text_parts)))
            html_parts, text_parts = [], []
        if html_parts:
            html_parts.append(breaker)
        html_parts.append("".join(line.html).strip())
        text_parts.append(text)
        script, hard, breaker = line_script, line.hard, line.breaker
    if html_parts:
        found.append(Paragraph(f"<p>{''.join(html_parts).strip()}</p>", " ".join(text_parts)))
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split())


def derived_title(text: str) -> str:
    """A title for a version the source gave none: its first sentence, or clause, shortened.

    At most TITLE_LENGTH characters, ending at a word and never inside a parenthesis
    (asides in brackets are left out when the sentence is too long), with an ellipsis
    when cut. A full stop after an abbreviation or an initial does not end the sentence.
    """
    sentence = first_sentence(_one_line(text))
    if len(sentence) <= TITLE_LENGTH and _open_bracket(sentence) is None:
        return sentence.rstrip(".").rstrip()
    shorter = _without_asides(sentence)
    if len(shorter) <= TITLE_LENGTH:
        return shorter.rstrip(".").rstrip()
    clause_ends = [
        found.start()
        for found in _CLAUSE_END.finditer(shorter)
        if MIN_CLAUSE <= found.start() < TITLE_LENGTH
    ]
    if clause_ends:
        return shorter[: clause_ends[-1]].rstrip(_CUT_PUNCTUATION) + "…"
    cut = shorter[: TITLE_LENGTH - 1]
    if not shorter[TITLE_LENGTH - 1].isspace() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(_CUT_PUNCTUATION) + "…"


def first_sentence(text: str) -> str:
    """`text` up to the first full stop, "!", "?" or "…" that ends a sentence."""
    for found in _SENTENCE_END.finditer(text):
        if not _ends_abbreviation(text[: found.start()]):
            return text[: found.start()]
    return text


def _ends_abbreviation(text: str) -> bool:
    """Whether `text` ends with an abbreviation's or an initial's full stop ("г.", "J.")."""
    word = _WORD_BEFORE_STOP.search(text)
    if word is None:
        return False
    letters = word.group(1)
    return (
        letters.lower() in ABBREVIATIONS
        or "." in letters  # e.g., i.e., U.S.
        or len(letters) == 1  # an initial
        or (len(letters) <= SHORT_WORD and letters.islower())
    )


def _open_bracket(text: str) -> int | None:
    """Where the outermost bracket left open in `text` starts, if any."""
    opened: list[int] = []
    for index, character in enumerate(text):
        if character in _OPENERS:
            opened.append(index)
        elif character in _CLOSERS and opened:
            opened.pop()
    return opened[0] if opened else None


def _without_asides(text: str) -> str:
    """`text` without its asides in brackets, nested ones too, and without an unclosed one."""
    while True:
        shorter = _PARENTHETICAL.sub("", text)
        if shorter == text:
            break
        text = shorter
    start = _open_bracket(text)
    return text if start is None else text[:start].rstrip()
