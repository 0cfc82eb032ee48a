"""The scheduler's executor: timed jobs as tasks of the daemon's event loop.

apscheduler's own AsyncIOExecutor cancels running jobs at shutdown and then
logs each cancelled one as a failed job, with a traceback, even one that had
not started yet. A daemon stopped on SIGTERM while a poll is under way has
not failed, so here a cancelled job ends quietly and the shutdown can wait
for every job to be gone before it closes what the jobs use.
"""

import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from traceback import format_tb
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.job import Job

log = logging.getLogger(__name__)


class TaskExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs coroutine jobs as tasks; plain functions go to the loop's thread pool."""

    def __init__(self) -> None:
        super().__init__()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[asyncio.Future[list[JobExecutionEvent]]] = set()
        self._tasks: set[asyncio.Future[list[JobExecutionEvent]]] = set()
        # Set in the loop's thread: the scheduler defers its shutdown to the loop.
        self._closed = asyncio.Event()
        # Jobs running now, and those asked to run again once they end.
        self._busy: set[str] = set()
        self._again: set[str] = set()

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        # The scheduler is started from within the daemon's running loop.
        self._loop = asyncio.get_running_loop()

    def shutdown(self, wait: bool = True) -> None:
        # A job in the thread pool cannot be cancelled; wait_closed() waits for it.
        self._closed.set()
        for task in self._tasks:
            task.cancel()

    def run_now(self, job_id: str) -> bool:
        """Run a job now, or, if it is running, once more as soon as it ends.

        The scheduler skips a run due while the job still runs (one instance
        at a time), and the run under way may have started before the news
        that asks for this one (a trap, a reload). False: no such job.
        """
        job = self._scheduler.get_job(job_id)
        if job is None:
            return False
        if job_id in self._busy:
            self._again.add(job_id)
        else:
            job.modify(next_run_time=datetime.now(UTC))
        return True

    def running(self, job_id: str) -> bool:
        return job_id in self._busy

    async def wait_closed(self) -> None:
        """Return once the scheduler has shut this executor down and every job has ended."""
        await self._closed.wait()
        while self._running:
            await asyncio.wait(list(self._running))

    def _do_submit_job(self, job: Job, run_times: Sequence[datetime]) -> None:
        assert self._loop is not None, "submitted before start()"
        if self._closed.is_set():
            # A wake-up queued before the shutdown: the daemon is stopping.
            return
        future: asyncio.Future[list[JobExecutionEvent]]
        if asyncio.iscoroutinefunction(job.func):
            future = self._loop.create_task(_run_coroutine(job, run_times))
            self._tasks.add(future)
        else:
            future = self._loop.run_in_executor(
                None, run_job, job, job._jobstore_alias, run_times, self._logger.name
            )
        self._running.add(future)
        self._busy.add(job.id)
        future.add_done_callback(lambda done: self._finished(job, done))

    def _finished(self, job: Job, future: asyncio.Future[list[JobExecutionEvent]]) -> None:
        self._running.discard(future)
        self._tasks.discard(future)
        self._busy.discard(job.id)
        if future.cancelled():
            # Only shutdown() cancels; the job's own failures arrive as events.
            self._run_job_success(job.id, [])
            return
        error = future.exception()
        if error is not None:
            self._run_job_error(job.id, error, error.__traceback__)
        else:
            self._run_job_success(job.id, future.result())
        # After the scheduler has counted the run as ended, or it would skip this one.
        if job.id in self._again:
            self._again.discard(job.id)
            if not self._closed.is_set():
                self.run_now(job.id)


async def _run_coroutine(job: Job, run_times: Sequence[datetime]) -> list[JobExecutionEvent]:
    events: list[JobExecutionEvent] = []
    store: Any = job._jobstore_alias
    for run_time in run_times:
        if _missed(job, run_time):
            events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, store, run_time))
            log.warning("job %s missed its run at %s", job.id, run_time)
            continue
        try:
            value = await job.func(*job.args, **job.kwargs)
        except Exception:
            exc, tb = sys.exc_info()[1:]
            log.exception("job %s failed", job.id)
            trace = "".join(format_tb(tb))
            events.append(
                JobExecutionEvent(
                    EVENT_JOB_ERROR, job.id, store, run_time, exception=exc, traceback=trace
                )
            )
        else:
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, store, run_time, value))
    return events


def _missed(job: Job, run_time: datetime) -> bool:
    if job.misfire_grace_time is None:
        return False
    late = datetime.now(UTC) - run_time
    return late > timedelta(seconds=job.misfire_grace_time)
