"""Tables for the operator's terminal, and the same rows as plain lines for scripts.

A terminal is often 80 columns wide. rich shrinks columns to fit and cuts what does not fit
with "…", which must never happen to what an operator copies into the next command (an
address, an id, a URL): such `KEY` columns fold onto a second line instead. Counts never wrap;
a `TEXT` column (a title) is the one that gives way, cut to one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import click
from rich import box
from rich.console import Console
from rich.table import Column, Table

Kind = Literal["key", "count", "short", "text"]
KEY: Kind = "key"  # copied into commands: folded, never cut
COUNT: Kind = "count"  # a number: one line, right-aligned
SHORT: Kind = "short"  # a code or a word: one line, folded if it must
TEXT: Kind = "text"  # prose: cut to one line with "…"

# `--format plain`: one line per row, fields separated by tabs, no header; for scripts.
FORMATS = click.Choice(["table", "plain", "json"])


def fitting_table(
    columns: Sequence[tuple[str, Kind]],
    rows: Sequence[Sequence[str]],
    width: int,
    title: str | None = None,
) -> Table:
    """A table for a terminal `width` wide whose keys survive (see the module docstring)."""
    widths = [
        _width(header, kind, [row[i] for row in rows]) for i, (header, kind) in enumerate(columns)
    ]
    widths = _narrow_keys(columns, widths, width)
    # What the other columns and the two spaces between columns leave for the text.
    spare = width - sum(w for w, (_, kind) in zip(widths, columns, strict=True) if kind != TEXT)
    spare -= 2 * (len(columns) - 1)
    table = Table(
        *(
            _column(header, kind, minimum, max(spare, 10))
            for minimum, (header, kind) in zip(widths, columns, strict=True)
        ),
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
        show_edge=False,
    )
    for row in rows:
        table.add_row(*row)
    return table


def _narrow_keys(columns: Sequence[tuple[str, Kind]], widths: list[int], width: int) -> list[int]:
    """Keys give up width (they fold, never lose a character) when the other columns would
    not fit beside them otherwise; down to 20 characters or their header."""
    text = 10 if any(kind == TEXT for _, kind in columns) else 0
    over = sum(w for w, (_, kind) in zip(widths, columns, strict=True) if kind != TEXT)
    over += text + 2 * (len(columns) - 1) - width
    narrowed = list(widths)
    for i, (header, kind) in enumerate(columns):
        if over <= 0 or kind != KEY:
            continue
        given = min(over, narrowed[i] - max(20, len(header)))
        if given > 0:
            narrowed[i] -= given
            over -= given
    return narrowed


def _width(header: str, kind: Kind, values: Sequence[str]) -> int:
    widest = max((len(value) for value in values), default=0)
    if kind == KEY:  # as wide as the longest key up to half a narrow terminal; longer ones fold
        return max(min(widest, 40), len(header))
    if kind == COUNT:
        return max(widest, len(header))
    if kind == SHORT:
        return min(max(widest, len(header)), 16)
    return 10


def _column(header: str, kind: Kind, minimum: int, spare: int) -> Column:
    if kind == KEY:
        return Column(header, overflow="fold", min_width=minimum)
    if kind == COUNT:
        return Column(header, no_wrap=True, justify="right", min_width=minimum)
    if kind == SHORT:
        return Column(header, overflow="fold", min_width=minimum, max_width=minimum)
    return Column(header, no_wrap=True, overflow="ellipsis", max_width=spare)


def print_rows(
    out: Console,
    columns: Sequence[tuple[str, Kind]],
    rows: Iterable[Sequence[str]],
    output: str,
    title: str | None = None,
) -> None:
    """The rows as a fitting table, or as tab-separated lines (`output == "plain"`)."""
    if output == "plain":
        for row in rows:
            click.echo("\t".join(" ".join(field.split()) for field in row))
        return
    out.print(fitting_table(columns, list(rows), out.width, title))
