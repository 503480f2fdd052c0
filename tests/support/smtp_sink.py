"""A fast SMTP sink in its own process, for the multi-worker test and the scale benchmark.

    python tests/support/smtp_sink.py PORT LOG

aiosmtpd on 127.0.0.1:PORT accepts every message and appends one line per recipient,
`recipient message-id`, to LOG (flushed, so a test can watch deliveries as they happen).
Prints "ready" when listening; stops on SIGTERM or when stdin closes.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    def __init__(self, log: Any) -> None:
        self.log = log

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = bytes(envelope.original_content or envelope.content)[:8192]
        found = MESSAGE_ID.search(head)
        message_id = found.group(1).decode() if found else "-"
        self.log.write("".join(f"{rcpt} {message_id}\n" for rcpt in envelope.rcpt_tos))
        self.log.flush()
        return "250 2.0.0 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with open(path, "a", encoding="utf-8") as log:
        controller = Controller(Sink(log), hostname="127.0.0.1", port=port)
        controller.start()
        print("ready", flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
        done.wait()
        controller.stop()


if __name__ == "__main__":
    main()
