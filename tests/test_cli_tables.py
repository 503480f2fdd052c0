"""Terminal output that fits: at 80 columns no table cuts an address, id or URL; `--format
plain` is one tab-separated line per row; a long ingest prints progress lines to a log."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from cmsfeed.cli.ingest import progress_lines
from support.cli import CMSFEED

LONG_ADDRESS = "very.long.address.of.a.researcher@conservation-programme.example.org"


def run(config_path: Path, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*CMSFEED, "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": str(columns)},
    )
    assert result.returncode in (0, 1), result.stderr
    return result


@pytest.fixture
def config_path(tmp_path: Path, make_config) -> Path:
    make_config()
    return tmp_path / "config.toml"


def widths(text: str) -> list[int]:
    return [cell_len(line.rstrip()) for line in text.splitlines()]


def test_tables_fit_80_columns_and_cut_no_key(config_path: Path):
    ingest = run(config_path, "ingest")
    for address in (LONG_ADDRESS, "ranger@example.org"):
        run(config_path, "subscribers", "add", address, "--lang", "ru", "--topic", "argali")
    subscribers = run(config_path, "subscribers", "list").stdout
    items = run(config_path, "items", "list").stdout
    for output in (ingest.stdout, subscribers, items):
        assert max(widths(output)) <= 80, output
    # The ingest table's source and headers whole, not "cms-cam…" or "unchan…".
    assert "seed " in ingest.stdout
    assert "unchanged" in ingest.stdout and "warnings" in ingest.stdout
    # An address may fold onto a second line, but never loses a character.
    assert "…" not in subscribers
    assert LONG_ADDRESS in "".join(line.split()[0] for line in subscribers.splitlines()[2:5])
    # Every item id whole on its row; a title is the one thing cut, to one line.
    listed = run(config_path, "items", "list", "--format", "plain").stdout.splitlines()
    ids = [line.split("\t")[0] for line in listed]
    assert ids and all(len(item_id) == 16 for item_id in ids)
    rows = [line for line in items.splitlines() if line[:16] in ids]
    assert [line[:16] for line in rows] == ids


def test_plain_format_is_one_tab_separated_line_per_row(config_path: Path):
    run(config_path, "subscribers", "add", LONG_ADDRESS, "--lang", "ru", "--topic", "argali")
    plain = run(config_path, "subscribers", "list", "--format", "plain", columns=40).stdout
    assert plain.splitlines() == [f"{LONG_ADDRESS}\tru\targali\tdaily 08:00 UTC\tactive\tcli"]


class Ticks:
    """A clock the test moves by hand: progress lines depend on time, never on sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_leave_a_quick_source_silent_and_report_a_slow_one():
    console = Console(record=True, width=80, force_terminal=False)
    ticks = Ticks()
    update = progress_lines(console, ticks, every=5.0)
    for done in (100, 200, 300):  # quick: done within a second
        ticks.now += 0.3
        update("quick", done, 300)
    for done in range(1000, 11000, 1000):  # slow: 2 s per thousand, from t = 2.9 s
        ticks.now += 2.0
        update("slow", done, 10000)
    lines = console.export_text().splitlines()
    # 5 s after its first update (4000), every 5 s after that (7000), and when done.
    assert lines == [
        "slow: 4000 of 10000 stories",
        "slow: 7000 of 10000 stories",
        "slow: 10000 of 10000 stories",
    ]
