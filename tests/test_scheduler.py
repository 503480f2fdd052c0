"""The APScheduler wiring: one cron job per distinct schedule, in the subscriber's zone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time

from cmsfeed.scheduler import Scheduler, schedule_keys, trigger_for
from cmsfeed.subscribers import Subscriber


def test_schedule_keys_and_triggers_use_the_subscribers_zone() -> None:
    keys = schedule_keys(
        [
            Subscriber("a@x.org", send_time=time(8, 0), timezone="Asia/Almaty"),
            Subscriber("b@x.org", send_time=time(8, 0), timezone="Asia/Almaty"),
            Subscriber("c@x.org", frequency="weekly", weekday=4, timezone="UTC"),
            Subscriber("d@x.org", frequency="immediate"),
        ]
    )
    assert keys == {"digest 08:00 * Asia/Almaty", "digest 08:00 fri UTC"}
    fire = trigger_for("digest 08:00 * Asia/Almaty").get_next_fire_time(
        None, datetime(2024, 12, 2, 4, 0, tzinfo=UTC)
    )
    assert fire is not None and fire.astimezone(UTC) == datetime(2024, 12, 3, 3, 0, tzinfo=UTC)


def test_refresh_adds_and_removes_digest_jobs() -> None:
    wanted = {"digest 08:00 * UTC", "digest 09:30 mon Asia/Tashkent"}

    async def nothing() -> None:
        return None

    async def check() -> None:
        scheduler = Scheduler(
            ingest=nothing,
            digest_round=nothing,
            retry=nothing,
            schedules=lambda: set(wanted),
            ingest_minutes=60,
            retry_seconds=60,
        )
        await scheduler.start()
        try:
            assert scheduler.digest_jobs() == sorted(wanted)
            wanted.discard("digest 08:00 * UTC")
            wanted.add("digest 07:00 * Europe/Moscow")
            await scheduler.refresh()
            assert scheduler.digest_jobs() == sorted(wanted)
        finally:
            scheduler.shutdown()

    asyncio.run(check())


def test_every_periodic_job_is_scheduled_not_paused() -> None:
    async def nothing() -> None:
        return None

    async def check() -> None:
        scheduler = Scheduler(
            ingest=nothing,
            digest_round=nothing,
            retry=nothing,
            schedules=lambda: {"digest 08:00 * UTC"},
            ingest_minutes=60,
            retry_seconds=60,
        )
        await scheduler.start()
        try:
            jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
            assert {"ingest", "retry", "refresh", "digest 08:00 * UTC"} <= set(jobs)
            assert all(job.next_run_time is not None for job in jobs.values()), {
                job.id: job.next_run_time for job in jobs.values()
            }
        finally:
            scheduler.shutdown()

    asyncio.run(check())
