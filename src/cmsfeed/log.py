"""Structured logs: one line per event, as text or JSON. Does I/O (stderr).

An event is a short name and fields: `log.info("digest round", extra=fields(sent=3))`
prints `2026-11-23T09:00:00Z INFO cmsfeed.run digest round sent=3` as text, or
`{"at": "...", "level": "info", "logger": "cmsfeed.run", "event": "digest round", "sent": 3}`
as JSON (`[log] format = "json"` or CMSFEED_LOG__FORMAT=json), which log shippers read
without parsing. Every line also names the process (`pid`), since several workers share a
database and usually a journal.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]
_FIELDS = "cmsfeed_fields"


def fields(**values: Any) -> dict[str, Any]:
    """The `extra` of a log call that carries structured fields."""
    return {_FIELDS: values}


def _event_fields(record: logging.LogRecord) -> dict[str, Any]:
    found: dict[str, Any] = getattr(record, _FIELDS, {})
    return found


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text_value(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text


class TextFormatter(logging.Formatter):
    """`AT LEVEL LOGGER event key=value ...`: one line, greppable."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            _timestamp(record),
            record.levelname,
            record.name,
            record.getMessage().replace("\n", " | "),
        ]
        parts += [f"{key}={_text_value(value)}" for key, value in _event_fields(record).items()]
        parts.append(f"pid={record.process}")
        if record.exc_info:
            parts.append(
                "error=" + _text_value(self.formatException(record.exc_info).replace("\n", " | "))
            )
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "at": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "pid": record.process,
        }
        event.update(_event_fields(record))
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False, default=str)


def configure_logging(
    fmt: LogFormat = "text", level: str = "info", stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to `stream` (stderr) in `fmt`; replaces earlier handlers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own loggers propagate to ours, so its lines share the format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("apscheduler").setLevel(max(root.level, logging.WARNING))
    # flufl.bounce logs a traceback at ERROR for each of its detectors that trips over an odd
    # message, then carries on with the others; the bounce reader reports what it could not
    # read in its own one line, so those tracebacks are only noise in the operator's log.
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    return handler
