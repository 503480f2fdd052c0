"""Subscribers declared in config.toml: a starting list, not a source of truth. Does I/O
(through the store it is given).

An address in `[[subscribers]]` is added when it is new to the store, and never applied again
after that: what the reader saved on the web, an unsubscribe, the operator's `remove`, a
suspension for bounces all stand, whatever the file says at the next `cmsfeed run`. An
address that reported a digest as spam is added unsubscribed: only the reader can sign up
again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from cmsfeed.config import Config, SubscriberConfig
from cmsfeed.errors import SubscriberError
from cmsfeed.store import Store
from cmsfeed.subscribers import (
    Subscriber,
    check_timezone,
    normalize_email,
    parse_send_time,
    parse_weekday,
)


def subscriber_from_settings(
    settings: SubscriberConfig | Mapping[str, Any], origin: str
) -> Subscriber:
    """A subscriber from a [[subscribers]] table (or a submitted form), validated."""
    if not isinstance(settings, SubscriberConfig):
        try:
            settings = SubscriberConfig.model_validate(dict(settings))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "record"
            raise SubscriberError(
                str(dict(settings).get("email", "record")), f"{where}: {first['msg']}"
            ) from err
    return Subscriber(
        email=normalize_email(settings.email),
        language=settings.language,
        topics=tuple(settings.topics),
        frequency=settings.frequency,
        weekday=parse_weekday(settings.weekday),
        send_time=parse_send_time(settings.time),
        timezone=check_timezone(settings.timezone),
        status="active",
        origin=origin,
    )


def import_configured(config: Config, digests: Store, now: datetime) -> int:
    """Add the config file's subscribers that are new to the store; return how many were."""
    complaints = digests
    new = []
    for settings in config.subscribers:
        subscriber = subscriber_from_settings(settings, "config")
        if complaints.complained_at(subscriber.email) is not None:
            subscriber = replace(subscriber, status="unsubscribed")
        new.append(subscriber)
    return len(digests.write_subscribers(new, (), now, "config"))
