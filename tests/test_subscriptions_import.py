"""`subscribers import FILE.csv`: every row checked first, every bad row reported by line and
column, all or nothing (unless --skip-bad), known addresses skipped (unless --update)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cmsfeed.store import Store
from cmsfeed.subscriptions.admin import import_subscribers
from cmsfeed.subscriptions.choices import SiteChoices
from cmsfeed.subscriptions.import_file import read_rows
from cmsfeed.subscriptions.options import COLUMNS
from support.config import write_config
from support.subscriber import cmsfeed, ok

OFFERED = SiteChoices(("en", "ru"), ("argali", "saiga", "snow-leopard"))
ZONES = ["UTC", "Asia/Almaty", "Asia/Tashkent", "Europe/Moscow", "America/New_York"]

CELLS = st.fixed_dictionaries(
    {
        "lang": st.sampled_from(["", "en", "ru"]),
        "topic": st.lists(st.sampled_from(OFFERED.topics), unique=True, max_size=3).map(
            lambda topics: "; ".join(topics)
        ),
        "frequency": st.sampled_from(["", "immediate", "daily", "weekly"]),
        "weekday": st.sampled_from(["", "mon", "wed", "sun"]),
        "time": st.builds(
            lambda h, m, pad: f"{h:02d}:{m:02d}" if pad else f"{h}:{m:02d}",
            st.integers(0, 23),
            st.integers(0, 59),
            st.booleans(),
        )
        | st.just(""),
        "tz": st.sampled_from(["", *ZONES]),
    }
)
LOCAL_PARTS = st.lists(
    st.from_regex(r"[a-z][a-z0-9._-]{0,12}[a-z0-9]", fullmatch=True).filter(
        lambda local: ".." not in local
    ),
    min_size=1,
    max_size=25,
    unique=True,
)
BAD_CELLS = st.sampled_from(
    [
        ("email", "not-an-address"),
        ("email", ""),
        ("lang", "de"),
        ("topic", "unicorn"),
        ("frequency", "hourly"),
        ("weekday", "someday"),
        ("time", "25:00"),
        ("time", "8"),
        ("tz", "Mars/Olympus"),
    ]
)


def csv_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def rows_for(locals_: list[str], cells: list[dict[str, str]], domain: str) -> list[dict[str, str]]:
    return [
        {"email": f"{local}@{domain}", **cells[i % len(cells)]} for i, local in enumerate(locals_)
    ]


def in_domain(digests: Store, domain: str) -> dict[str, object]:
    return {s.email: s for s in digests.list_subscribers() if s.email.endswith("@" + domain)}


HYPOTHESIS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HYPOTHESIS
@given(locals_=LOCAL_PARTS, cells=st.lists(CELLS, min_size=1, max_size=5))
def test_n_valid_rows_make_n_subscribers_and_twice_changes_nothing(
    store: Store, clock, locals_: list[str], cells: list[dict[str, str]]
) -> None:
    domain = f"{uuid.uuid4().hex[:10]}.example.org"  # one store serves every example
    rows = rows_for(locals_, cells, domain)
    digests = store
    report = import_subscribers(digests, csv_text(rows), OFFERED, clock())
    assert report.written and report.added == len(rows) and not report.plan.problems
    stored = in_domain(digests, domain)
    assert sorted(stored) == sorted(row["email"] for row in rows)
    for row in rows:
        subscriber = stored[row["email"]]
        assert subscriber.origin == "import"  # type: ignore[attr-defined]
        assert subscriber.language == (row["lang"] or "en")  # type: ignore[attr-defined]
        assert subscriber.timezone == (row["tz"] or "UTC")  # type: ignore[attr-defined]
        expected_topics = tuple(t for t in row["topic"].split("; ") if t)
        assert subscriber.topics == expected_topics  # type: ignore[attr-defined]
    again = import_subscribers(digests, csv_text(rows), OFFERED, clock())
    assert (again.added, len(again.plan.skipped), len(again.plan.changes)) == (0, len(rows), 0)
    assert in_domain(digests, domain) == stored


@HYPOTHESIS
@given(
    locals_=LOCAL_PARTS,
    cells=st.lists(CELLS, min_size=1, max_size=5),
    bad=BAD_CELLS,
    where=st.integers(min_value=0),
)
def test_one_bad_row_writes_nothing_and_names_its_line_and_column(
    store: Store,
    clock,
    locals_: list[str],
    cells: list[dict[str, str]],
    bad: tuple[str, str],
    where: int,
) -> None:
    domain = f"{uuid.uuid4().hex[:10]}.example.org"
    rows = rows_for(locals_, cells, domain)
    index = where % len(rows)
    column, value = bad
    rows[index] = {**rows[index], column: value}
    # A row of blank cells is a blank line, skipped by design (spreadsheets end with them):
    # a bad row here must hold something.
    assume(any(cell.strip() for cell in rows[index].values()))
    digests = store
    report = import_subscribers(digests, csv_text(rows), OFFERED, clock())
    assert not report.written and in_domain(digests, domain) == {}
    assert {(p.line, p.problem.column) for p in report.plan.problems} == {(index + 2, column)}
    assert report.plan.rejected == 1

    skipping = import_subscribers(digests, csv_text(rows), OFFERED, clock(), skip_bad=True)
    assert skipping.written and skipping.added == len(rows) - 1
    assert len(in_domain(digests, domain)) == len(rows) - 1


def test_lines_are_counted_as_an_editor_counts_them() -> None:
    text = (
        "\ufeffemail,lang,topic\n"
        "a@example.org,en,argali\n"
        "\n"
        '"b@example.org",ru,"argali\nsaiga"\n'  # a quoted cell over two lines
        "c@example.org,xx,argali,extra\n"
        "d@example.org,de,\n"
    )
    rows, problems = read_rows(text.removeprefix("\ufeff"))
    assert [(row.line, row.email) for row in rows] == [
        (2, "a@example.org"),
        (4, "b@example.org"),
        (7, "d@example.org"),
    ]
    assert rows[1].options.topics == ("argali", "saiga")
    assert [str(p) for p in problems] == ["6: email: 4 cells, but the header names 3 columns"]


def test_the_header_must_name_the_options_of_add() -> None:
    _, problems = read_rows("email,language,topics,lang,lang\n")
    columns = "the columns are email,lang,topic,frequency,weekday,time,tz"
    assert [str(p) for p in problems] == [
        f"1: language: unknown column; {columns}",
        f"1: topics: unknown column; {columns}",
        "1: lang: column given twice",
    ]
    _, problems = read_rows("lang\nen\n")
    assert [str(p) for p in problems] == ["1: email: missing column"]
    _, problems = read_rows("")
    assert [p.problem.column for p in problems] == ["email"]


def test_import_through_the_cli(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, None, store_url=store_url)
    ok(config, "subscribers", "add", "known@example.org", "--lang", "ru", "--topic", "argali")
    people = tmp_path / "people.csv"
    people.write_text(
        "email,lang,topic,frequency,weekday,time,tz\n"
        "anna@example.org,ru,argali saiga,weekly,fri,8:00,Asia/Tashkent\n"
        "known@example.org,,,weekly,,,\n"
        "bad-address,en,,,,,\n"
        "boris@example.org,de,unicorn,,,,\n"
        "ANNA@example.org,,,,,,\n",
        encoding="utf-8",
    )
    help_text = ok(config, "subscribers", "import", "--help")
    assert "email,lang,topic,frequency,weekday,time,tz" in help_text

    refused = cmsfeed(config, "subscribers", "import", str(people))
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"error: {people}:4: email: An email address must have an @-sign.",
        f"error: {people}:5: lang: 'de' is not one of en, ru",
        f"error: {people}:5: topic: unknown topic(s) unicorn (configured: argali, "
        "bukhara-deer, saiga)",
        f"error: {people}:6: email: the same address as line 2",
    ]
    assert refused.stdout == (
        "nothing written: 3 bad row(s); fix them, or use --skip-bad to import the rest "
        "(would be: 1 added, 0 updated, 1 skipped, 3 rejected)\n"
    )
    assert set(listed_emails(config)) == {"known@example.org"}

    dry = cmsfeed(config, "subscribers", "import", str(people), "--skip-bad", "--dry-run")
    assert dry.stdout.endswith("(dry run: nothing written)\n")
    assert set(listed_emails(config)) == {"known@example.org"}

    skipped = cmsfeed(config, "subscribers", "import", str(people), "--skip-bad")
    assert skipped.returncode == 1  # rows were rejected, even if the rest went in
    assert skipped.stdout == "1 added, 0 updated, 1 skipped, 3 rejected\n"
    anna = listed_emails(config)["anna@example.org"]
    assert (anna["language"], anna["topics"], anna["weekday"], anna["time"]) == (
        "ru",
        ["argali", "saiga"],
        "fri",
        "08:00",
    )
    assert listed_emails(config)["known@example.org"]["frequency"] == "daily"

    good = tmp_path / "good.csv"
    good.write_text("email,frequency\nknown@example.org,weekly\nanna@example.org,\n")
    assert ok(config, "subscribers", "import", str(good)) == (
        "0 added, 0 updated, 2 skipped, 0 rejected\n"
    )
    assert ok(config, "subscribers", "import", str(good), "--update") == (
        "0 added, 1 updated, 1 skipped, 0 rejected\n"
    )
    known = listed_emails(config)["known@example.org"]
    assert (known["frequency"], known["language"], known["topics"]) == ("weekly", "ru", ["argali"])
    history = json.loads(ok(config, "subscribers", "export", "known@example.org"))["history"]
    assert [(e["event"], e["by"]) for e in history] == [("added", "cli"), ("updated", "import")]
    assert history[1]["detail"] == "schedule: daily 08:00 UTC -> weekly mon 08:00 UTC"


def listed_emails(config: Path) -> dict[str, dict[str, object]]:
    return {
        s["email"]: s for s in json.loads(ok(config, "subscribers", "list", "--format", "json"))
    }
