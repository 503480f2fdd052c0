"""A subscriber as a row of the `subscribers` table, and back. Pure (no database access)."""

from __future__ import annotations

import json
from datetime import time
from typing import Any, cast

from cmsfeed.subscribers import Frequency, Status, Subscriber


def subscriber_values(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "language": subscriber.language,
        "topics": json.dumps(list(subscriber.topics)),
        "frequency": subscriber.frequency,
        "weekday": subscriber.weekday,
        "send_time": f"{subscriber.send_time:%H:%M}",
        "timezone": subscriber.timezone,
    }


def subscriber_from_row(row: Any) -> Subscriber:
    hour, minute = (int(part) for part in row["send_time"].split(":"))
    return Subscriber(
        email=row["email"],
        language=row["language"],
        topics=tuple(json.loads(row["topics"])),
        frequency=cast(Frequency, row["frequency"]),
        weekday=row["weekday"],
        send_time=time(hour, minute),
        timezone=row["timezone"],
        status=cast(Status, row["status"]),
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        last_slot_at=row["last_slot_at"],
        covered_until=row["covered_until"],
        hard_failures=row["hard_failures"],
        origin=row["origin"],
        suspended_at=row["suspended_at"],
        suspended_reason=row["suspended_reason"],
        version=row["version"],
    )
