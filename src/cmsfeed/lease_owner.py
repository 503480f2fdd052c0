"""Who holds a lease on outbox rows, and whether that process still runs. Does I/O (/proc).

An owner is a host name, a pid and a start token. On Linux the token is the kernel's boot id
and the process's start time in clock ticks since boot (field 22 of /proc/PID/stat): a pid
reused by another process, or the same pid after a reboot, gets another token, so a dead
sender is never taken for a live one. psutil would do the same and is not worth a dependency.

`is_running(owner)` answers for owners on this host only: True (alive), False (gone: its rows
may be reclaimed at once). An owner on another host, or on a system without /proc, is
`None` (unknown): its rows wait for their lease to run out, which a live owner renews.
Workers that share a host name must share a pid namespace (containers get their own
host names by default).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class LeaseOwner:
    host: str
    pid: int
    started: str  # the process start token (see the module docstring)
    lease: str  # one sender run: the rows it claimed carry this id

    def describe(self) -> str:
        return f"{self.host} pid {self.pid}"


def start_token(pid: int, proc: Path = _PROC) -> str | None:
    """The start token of process `pid`, or None when it does not exist (or no /proc)."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
        boot = (proc / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rpartition(")")[2].split()
    return f"{boot}:{fields[19]}"  # field 22 overall is the 20th after the name


_OWN_TOKEN = start_token(os.getpid()) or f"random:{uuid.uuid4().hex}"


def this_process() -> LeaseOwner:
    """The owner for a new sender run of this process."""
    return LeaseOwner(socket.gethostname(), os.getpid(), _OWN_TOKEN, uuid.uuid4().hex)


def is_running(host: str, pid: int, started: str, proc: Path = _PROC) -> bool | None:
    """Whether the process that took a lease still runs; None when this host cannot tell."""
    if host != socket.gethostname() or started.startswith("random:"):
        return None
    if not (proc / "sys" / "kernel" / "random" / "boot_id").exists():
        return None
    return start_token(pid, proc) == started
