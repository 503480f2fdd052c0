"""The `cmsfeed` command in a subprocess, for the subscriber commands' tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.cli import CMSFEED

ENV = {"PATH": "/usr/bin:/bin", "COLUMNS": "160", "CMSFEED_SECRET": "s"}


def cmsfeed(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `cmsfeed --config CONFIG ARGS...` from the config's folder; never raises on exit."""
    return subprocess.run(
        [*CMSFEED, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
        cwd=config.parent,
        input=stdin,
    )


def ok(config: Path, *args: str) -> str:
    """Run a command that must succeed; its standard output."""
    done = cmsfeed(config, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout
