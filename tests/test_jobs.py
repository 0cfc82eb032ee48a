"""The scheduler's executor: stopping the daemon mid-job is not a failed job."""

import asyncio
import logging
import threading
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ocrfleet.app.jobs import TaskExecutor


def _scheduler() -> tuple[AsyncIOScheduler, TaskExecutor]:
    jobs = TaskExecutor()
    return AsyncIOScheduler(timezone="UTC", executors={"default": jobs}), jobs


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_job_cancelled_before_it_started_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        started: list[str] = []

        async def poll() -> None:
            started.append("poll")

        scheduler, jobs = _scheduler()
        scheduler.add_job(poll, "date", run_date=datetime.now(UTC), id="poll")
        scheduler.start()
        # The scheduler's first wake-up was queued before this task resumes, and
        # the job's task is queued after it: the job is submitted but not started,
        # as when the scheduler's deferred shutdown runs between the two.
        await asyncio.sleep(0)
        assert len(jobs._tasks) == 1
        jobs.shutdown()
        scheduler.shutdown(wait=False)
        await jobs.wait_closed()
        assert started == []
        assert _errors(caplog) == []

    asyncio.run(scenario())


def test_a_job_cancelled_while_running_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        running = asyncio.Event()

        async def poll() -> None:
            running.set()
            await asyncio.Event().wait()

        scheduler, jobs = _scheduler()
        scheduler.add_job(poll, "date", run_date=datetime.now(UTC), id="poll")
        scheduler.start()
        await running.wait()
        scheduler.shutdown(wait=False)
        await jobs.wait_closed()
        assert _errors(caplog) == []
        assert jobs._running == set()

    asyncio.run(scenario())


def test_a_failing_job_is_logged_and_the_next_one_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        ran = asyncio.Event()

        async def broken() -> None:
            raise ValueError("no such device")

        async def fine() -> None:
            ran.set()

        scheduler, jobs = _scheduler()
        scheduler.add_job(broken, "date", run_date=datetime.now(UTC), id="broken")
        scheduler.start()
        while "broken" in [j.id for j in scheduler.get_jobs()] or jobs._running:
            await asyncio.sleep(0.01)
        scheduler.add_job(fine, "date", run_date=datetime.now(UTC), id="fine")
        await ran.wait()
        scheduler.shutdown(wait=False)
        await jobs.wait_closed()
        assert any("job broken failed" in m for m in _errors(caplog))
        failure = next(r for r in caplog.records if r.getMessage() == "job broken failed")
        assert failure.exc_info is not None and isinstance(failure.exc_info[1], ValueError)

    asyncio.run(scenario())


def test_the_shutdown_waits_for_a_job_in_the_thread_pool() -> None:
    async def scenario() -> None:
        entered = threading.Event()
        release = threading.Event()
        finished: list[str] = []

        def flush() -> None:
            entered.set()
            release.wait(timeout=30)
            finished.append("flush")

        scheduler, jobs = _scheduler()
        scheduler.add_job(flush, "date", run_date=datetime.now(UTC), id="flush")
        scheduler.start()
        await asyncio.to_thread(entered.wait, 30)
        scheduler.shutdown(wait=False)
        closing = asyncio.ensure_future(jobs.wait_closed())
        await asyncio.sleep(0.05)
        assert not closing.done()
        release.set()
        await closing
        assert finished == ["flush"]

    asyncio.run(scenario())
