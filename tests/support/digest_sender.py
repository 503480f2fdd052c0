"""`cmsfeed digest send` in a subprocess, for the tests that kill it mid-round."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from support.cli import CMSFEED

# The senders' `digests.concurrency`: at most this many messages are in flight at a kill.
CONCURRENCY = 4


def send(config: Path, now: str) -> subprocess.Popen[bytes]:
    """Start a round as at `now` (ISO time); the caller waits for it or kills it."""
    return subprocess.Popen(
        [*CMSFEED, "--config", str(config), "digest", "send", "--now", now],
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CMSFEED_SECRET": "s"},
    )
