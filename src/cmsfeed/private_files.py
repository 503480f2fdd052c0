"""Files and folders that hold personal data, readable by their owner only. Does I/O (disk).

The SQLite store (addresses, preferences, the outbox), the Maildir of digests (each message
carries a subscriber's address and links that act for them) and the key that signs those links
are made 0600, their folders 0700, whatever the process umask: the mode is given when the file
is created and set again on files an earlier version made with a wider one.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create `path` (and missing parents, which stay as the umask makes them) as 0700."""
    path.mkdir(parents=True, exist_ok=True)
    _restrict(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty as 0600 if it does not exist; narrow its mode if it does."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(descriptor)
    _restrict(path, FILE_MODE)
    return path


def _restrict(path: Path, mode: int) -> None:
    # os.open and mkdir apply the umask to the mode they are given; chmod does not. A file
    # someone else owns (a shared folder such as /tmp) is left alone rather than failing.
    if path.stat().st_mode & 0o777 != mode and path.stat().st_uid == os.geteuid():
        os.chmod(path, mode)
