"""APScheduler wiring for `cmsfeed run`. Wiring only: every job calls a plain function.

- ingest every `ingest.interval_minutes`, followed by a digest round (for `immediate`
  subscribers and anything due);
- one cron job per distinct subscriber schedule (time, weekday, IANA time zone), each running
  a digest round; the set is refreshed every few minutes as people sign up or change;
- a sweep every `digests.retry_seconds` that sends rows waiting for a retry;
- with `[bounces] maildir`, a read of the bounce mailbox every `bounces.interval_minutes`.

Rounds never overlap (one lock), and a round after downtime covers the whole gap, so a
missed cron run needs no replay: APScheduler's `coalesce` keeps it to one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cmsfeed.subscribers import WEEKDAYS, Subscriber

Job = Callable[[], Awaitable[object]]
_JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


def schedule_key(subscriber: Subscriber) -> str | None:
    """The cron schedule a subscriber needs, as a job id; None for `immediate`."""
    if subscriber.frequency == "immediate":
        return None
    day = WEEKDAYS[subscriber.weekday] if subscriber.frequency == "weekly" else "*"
    return f"digest {subscriber.send_time:%H:%M} {day} {subscriber.timezone}"


def trigger_for(key: str) -> CronTrigger:
    _, at, day, zone = key.split(" ")
    hour, minute = at.split(":")
    return CronTrigger(hour=int(hour), minute=int(minute), day_of_week=day, timezone=zone)


def schedule_keys(subscribers: Iterable[Subscriber]) -> set[str]:
    return {key for sub in subscribers if (key := schedule_key(sub)) is not None}


class Scheduler:
    def __init__(
        self,
        *,
        ingest: Job,
        digest_round: Job,
        retry: Job,
        schedules: Callable[[], set[str]],
        ingest_minutes: int,
        retry_seconds: float,
        bounces: Job | None = None,
        bounce_minutes: int = 15,
    ) -> None:
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=_JOB_DEFAULTS)
        self.digest_round = digest_round
        self.schedules = schedules
        # No next_run_time: APScheduler 3 reads None as "add the job paused".
        self.scheduler.add_job(ingest, IntervalTrigger(minutes=ingest_minutes), id="ingest")
        self.scheduler.add_job(retry, IntervalTrigger(seconds=retry_seconds), id="retry")
        self.scheduler.add_job(self.refresh, IntervalTrigger(minutes=5), id="refresh")
        if bounces is not None:
            self.scheduler.add_job(bounces, IntervalTrigger(minutes=bounce_minutes), id="bounces")

    async def refresh(self) -> None:
        """Add a cron job for each new schedule, remove those no one uses any more."""
        wanted = self.schedules()
        current = {job.id for job in self.scheduler.get_jobs() if job.id.startswith("digest ")}
        for key in sorted(wanted - current):
            self.scheduler.add_job(self.digest_round, trigger_for(key), id=key)
        for key in current - wanted:
            self.scheduler.remove_job(key)

    def digest_jobs(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs() if job.id.startswith("digest"))

    async def start(self) -> None:
        await self.refresh()
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
