"""Reading and checking a CSV file of subscribers before anything is written. Pure: no I/O.

The columns are exactly the options of `subscribers add` (`options.COLUMNS`); an empty cell
is an option not given. Every row is checked, and every problem is reported with its line
(the line the row starts on, as an editor counts), its column and the reason, so that one
pass over the file finds every mistake. Planning then decides, row by row, what the import
would do: add a new address, update a known one (only with `--update`, only the cells
given), or skip it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cmsfeed.subscribers import PreferenceChange, Subscriber, subscriber_id
from cmsfeed.subscriptions.choices import SiteChoices
from cmsfeed.subscriptions.options import (
    COLUMNS,
    Options,
    Problem,
    apply_fields,
    check_email,
    check_options,
    describe_changes,
    split_topics,
)


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    email: str
    options: Options


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    problem: Problem

    def __str__(self) -> str:
        return f"{self.line}: {self.problem}"


@dataclass
class ImportPlan:
    """What an import would write, and what it would not, with why."""

    new: list[Subscriber] = field(default_factory=list)
    changes: list[PreferenceChange] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # known addresses, left as they are
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """How many rows are bad (a row may have several problems)."""
        return len({problem.line for problem in self.problems})


def read_rows(text: str) -> tuple[list[Row], list[RowProblem]]:
    """The rows of a CSV file, and the problems of its header and its shape."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return [], [RowProblem(1, Problem("email", f"empty file; expected {_columns()}"))]
    names = [name.strip() for name in header]
    problems = [
        RowProblem(1, Problem(name or "(empty)", f"unknown column; the columns are {_columns()}"))
        for name in names
        if name not in COLUMNS
    ]
    problems += [
        RowProblem(1, Problem(name, "column given twice"))
        for name in dict.fromkeys(names)
        if name in COLUMNS and names.count(name) > 1
    ]
    if "email" not in names:
        problems.append(RowProblem(1, Problem("email", "missing column")))
    if problems:
        return [], problems
    rows: list[Row] = []
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank line holds no subscriber
        if len(cells) > len(names):
            reason = f"{len(cells)} cells, but the header names {len(names)} columns"
            problems.append(RowProblem(line, Problem("email", reason)))
            continue
        values = {name: cell.strip() for name, cell in zip(names, cells, strict=False)}
        rows.append(Row(line, values.get("email", ""), _options(values)))
    return rows, problems


def _options(values: Mapping[str, str]) -> Options:
    def given(name: str) -> str | None:
        return values.get(name) or None

    topics = given("topic")
    return Options(
        language=given("lang"),
        topics=split_topics(topics) if topics is not None else None,
        frequency=given("frequency"),
        weekday=given("weekday"),
        send_time=given("time"),
        timezone=given("tz"),
    )


def _columns() -> str:
    return ",".join(COLUMNS)


def plan_import(
    rows: list[Row],
    offered: SiteChoices,
    known: Mapping[str, Subscriber],
    complained_at: Callable[[str], datetime | None],
    update: bool,
) -> ImportPlan:
    """Decide each row: `known` maps subscriber ids to the store's subscribers."""
    plan = ImportPlan()
    first_line: dict[str, int] = {}
    for row in rows:
        email, problems = check_email(row.email) if row.email else (None, [_no_email()])
        fields, option_problems = check_options(row.options, offered)
        problems += option_problems
        if email is not None:
            key = subscriber_id(email)
            if key in first_line:
                problems.append(Problem("email", f"the same address as line {first_line[key]}"))
            else:
                first_line[key] = row.line
        if email is not None and not problems:
            problems += _decide(plan, email, fields, offered, known, complained_at, update)
        plan.problems += [RowProblem(row.line, problem) for problem in problems]
    return plan


def _decide(
    plan: ImportPlan,
    email: str,
    fields: dict[str, object],
    offered: SiteChoices,
    known: Mapping[str, Subscriber],
    complained_at: Callable[[str], datetime | None],
    update: bool,
) -> list[Problem]:
    existing = known.get(subscriber_id(email))
    if existing is None:
        complained = complained_at(email)
        if complained is not None:
            reason = f"reported a digest as spam on {complained:%Y-%m-%d}; only the reader can"
            return [Problem("email", f"{reason} subscribe again, by signing up at /subscribe")]
        new = Subscriber(email, offered.languages[0], origin="import")
        plan.new.append(apply_fields(new, fields))
    elif update:
        changed = apply_fields(existing, fields)
        detail = describe_changes(existing, changed)
        if detail:
            plan.changes.append(PreferenceChange(changed, detail))
        else:
            plan.skipped.append(existing.email)
    else:
        plan.skipped.append(existing.email)
    return []


def _no_email() -> Problem:
    return Problem("email", "missing; every row needs an address")
