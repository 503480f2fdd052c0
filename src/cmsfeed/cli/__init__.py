"""The `cmsfeed` command: the operator's interface. A thin adapter over the library.

Each command group lives in its own module and registers itself on `main`. Errors are one
line on stderr; exit code 2 for bad configuration, 1 for other failures; tracebacks only
with `--debug`.
"""

from __future__ import annotations

from cmsfeed.cli import (  # noqa: F401  (registers the commands)
    bounces,
    db,
    digest,
    feeds,
    ingest,
    items,
    run,
    setup,
    subscribers,
)
from cmsfeed.cli.app import main

__all__ = ["main"]
