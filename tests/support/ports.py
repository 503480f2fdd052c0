"""The tests' one port helper: a TCP port on 127.0.0.1 that nothing listens on just now."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port the system just handed out and released (a server started next may take it).

    Servers that can take a bound socket (see support.ingest) are better given that socket;
    this is for the ones that only take a port number (aiosmtpd, `cmsfeed run --port`).
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
