"""Polling devices on their own intervals with apscheduler, through their kind's source.

Every device has its own job, timeout and retries, and a bound per source on
devices polled at once keeps a large fleet from flooding the network: a
device that does not answer only ever delays itself. The poller knows no
protocol: the kind's source (ocrfleet/sources.py) gives the client, the kind
reads the device with it.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ocrfleet.clock import Clock
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.sources import PolledOptions, PollError, Source, SourceType
from ocrfleet.state import FleetState, Usage

log = logging.getLogger(__name__)

POLL_DURATION_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# A device whose polls keep failing for one reason is logged when that
# starts, then once per this many seconds while it lasts, and when it
# answers again: a fault that lasts is neither lost nor repeated every poll.
FAILURE_LOG_INTERVAL = 15 * 60.0
_JOB_PREFIX = "poll:"

# (source, kind)
PollKey = tuple[str, str]


@dataclass
class PollStats:
    """Per source and kind: polls, errors by reason, and a duration histogram."""

    polls: dict[PollKey, int] = field(default_factory=dict)
    errors: dict[tuple[str, str, str], int] = field(default_factory=dict)
    buckets: dict[PollKey, list[int]] = field(default_factory=dict)
    duration_sum: dict[PollKey, float] = field(default_factory=dict)

    def observe(self, source: str, kind: str, seconds: float, error: str | None) -> None:
        key = (source, kind)
        self.polls[key] = self.polls.get(key, 0) + 1
        if error is not None:
            self.errors[(source, kind, error)] = self.errors.get((source, kind, error), 0) + 1
        counts = self.buckets.setdefault(key, [0] * len(POLL_DURATION_BUCKETS))
        for i in range(bisect.bisect_left(POLL_DURATION_BUCKETS, seconds), len(counts)):
            counts[i] += 1
        self.duration_sum[key] = self.duration_sum.get(key, 0.0) + seconds


@dataclass
class FailureStreak:
    """Polls of one device failing in a row for one reason."""

    reason: str
    since: float
    polls: int
    logged_at: float


class Sources:
    """The running sources of one daemon, opened on first use, by name."""

    def __init__(self, types: Mapping[str, SourceType], limits: Callable[[str], int]) -> None:
        self._types = types
        self._limits = limits
        self._open: dict[str, tuple[Source, asyncio.Semaphore]] = {}

    def type_of(self, kind: DeviceKind) -> SourceType | None:
        return self._types.get(kind.source) if kind.source is not None else None

    def get(self, name: str) -> tuple[Source, asyncio.Semaphore]:
        opened = self._open.get(name)
        if opened is None:
            source = self._types[name].open(self._limits(name))
            opened = self._open[name] = (source, asyncio.Semaphore(source.slots()))
        return opened

    async def prepare(self, devices: Mapping[str, list[DeviceInfo]]) -> None:
        for name, polled in devices.items():
            if polled:
                await self.get(name)[0].prepare(polled)

    async def close(self) -> None:
        opened, self._open = self._open, {}
        for source, _ in opened.values():
            await source.close()


class Poller:
    def __init__(
        self,
        state: FleetState,
        kinds: Mapping[str, DeviceKind],
        sources: Sources,
        clock: Clock,
        plugin_of_kind: Callable[[str], str],
    ) -> None:
        self._state = state
        self._kinds = kinds
        self._sources = sources
        self._clock = clock
        # Called after every poll, answered or not, so alert rules see a new
        # condition soon rather than at the next timed evaluation.
        self.on_polled: Callable[[], None] = lambda: None
        # Hands a seat's session event to the store writer (as MQTT ingest
        # does); False when it could not be queued.
        self.submit_session: Callable[[DeviceKey, SessionEvent], bool] = lambda key, event: False
        self._plugin_of_kind = plugin_of_kind
        self._clients: dict[DeviceKey, tuple[object, object]] = {}
        # Per seat, the last session a polled kind's report started there.
        self._seat_started: dict[DeviceKey, str] = {}
        self._log = RateLimitedLog(log, interval=60.0)
        self._failing: dict[DeviceKey, FailureStreak] = {}
        self.failure_log_interval = FAILURE_LOG_INTERVAL
        self.stats = PollStats()

    def polled(self, device: DeviceInfo) -> str | None:
        """The name of the source the device is polled through, or None if it is not polled."""
        kind = self._kinds.get(device.kind)
        source = self._sources.type_of(kind) if kind is not None else None
        if source is None or not isinstance(device.options, source.options_model):
            return None
        return source.name

    def schedule(
        self, scheduler: AsyncIOScheduler, devices: Mapping[DeviceKey, DeviceInfo]
    ) -> None:
        """(Re)create one job per polled device; jobs of removed devices go."""
        wanted = {self.job_id(key): d for key, d in devices.items() if self.polled(d)}
        for job in scheduler.get_jobs():
            if job.id.startswith(_JOB_PREFIX) and job.id not in wanted:
                job.remove()
        now = datetime.now(UTC)
        for job_id, device in wanted.items():
            options: PolledOptions = device.options
            # Spread first polls over the interval so a fleet is not polled in
            # one burst; the offset is stable per device.
            offset = (zlib.crc32(job_id.encode()) % 1000) / 1000 * min(options.poll_interval, 10)
            scheduler.add_job(
                self.poll,
                "interval",
                args=[device.key],
                seconds=options.poll_interval,
                next_run_time=now + timedelta(seconds=offset),
                id=job_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(options.poll_interval),
            )
        for key in [k for k in self._clients if self.job_id(k) not in wanted]:
            del self._clients[key]
        for key in [k for k in self._seat_started if k not in devices]:
            del self._seat_started[key]
        for key in [k for k in self._failing if self.job_id(k) not in wanted]:
            del self._failing[key]

    @staticmethod
    def job_id(key: DeviceKey) -> str:
        """The scheduler's id of the device's poll job: run it to poll the device now."""
        return f"{_JOB_PREFIX}{key}"

    async def prepare(self, devices: Mapping[DeviceKey, DeviceInfo]) -> None:
        """Let each source set up for its devices before their first polls."""
        by_source: dict[str, list[DeviceInfo]] = {}
        for device in devices.values():
            source = self.polled(device)
            if source is not None:
                by_source.setdefault(source, []).append(device)
        await self._sources.prepare(by_source)

    async def _client(self, source: Source, device: DeviceInfo) -> object:
        # Built again only when the device's options changed (a reload):
        # building may resolve names or set up security.
        cached = self._clients.get(device.key)
        if cached is not None and cached[0] == device.options:
            return cached[1]
        client = await source.client(device)
        self._clients[device.key] = (device.options, client)
        return client

    async def poll(self, key: DeviceKey) -> None:
        device = self._state.device(key)
        source_name = self.polled(device) if device is not None else None
        if device is None or source_name is None:
            return
        kind = self._kinds[device.kind]
        source, slots = self._sources.get(source_name)
        options: PolledOptions = device.options
        # Whole-poll bound: every request may use its timeout and retries,
        # but a poll never outlives its interval.
        budget = options.poll_interval * 0.9
        error: str | None = None
        detail = ""
        async with slots:
            started = time.perf_counter()
            try:
                client = await self._client(source, device)
                view = self._state.view(key)
                previous = view.reading if view is not None else None
                reading = await asyncio.wait_for(kind.poll(device, client, previous), budget)
            except PollError as exc:
                error, detail = exc.reason, exc.detail
            except TimeoutError:
                error, detail = "timeout", f"cut off after {budget:g} s (90 % of its interval)"
            except OSError as exc:
                error, detail = "unreachable", str(exc)
            except Exception:
                error = "plugin_error"
                plugin = self._plugin_of_kind(device.kind)
                detail = f"plugin {plugin} failed"
                self._log.error(
                    f"plugin:{plugin}",
                    "plugin %s failed polling %s",
                    plugin,
                    key,
                    exc_info=True,
                )
            # Only the daemon's shutdown cancels a poll (CancelledError goes
            # straight up): not a failed poll, and not counted.
            #
            # Counted before it is recorded: /metrics is rendered on another
            # thread and reads the fleet's state before the counters, so a
            # scrape that shows this poll's outcome also counts it.
            try:
                self.stats.observe(source_name, device.kind, time.perf_counter() - started, error)
                if error is None:
                    self._state.record_reading(key, reading, self._clock.now())
                    self._answered(key, source_name)
                    self._report_seats(device, kind, reading)
                else:
                    # A failed plugin too: the last reading must not live on
                    # as if it were current.
                    self._state.record_poll_failure(key, error, self._clock.now())
                    # A plugin's traceback, logged above, is the first line of its streak.
                    self._failed(key, source_name, error, detail, quiet=error == "plugin_error")
            finally:
                self.on_polled()

    def _failed(
        self, key: DeviceKey, source: str, reason: str, detail: str, *, quiet: bool = False
    ) -> None:
        """Log a failed poll when a streak starts, then once per failure_log_interval."""
        if key not in self._state.devices:
            return  # removed by a reload while it was polled: no streak to keep
        now = self._clock.now()
        streak = self._failing.get(key)
        if streak is None or streak.reason != reason:
            self._failing[key] = FailureStreak(reason, now, 1, now)
            if not quiet:
                log.warning("%s poll of %s failed (%s): %s", source, key, reason, detail)
            return
        streak.polls += 1
        if now - streak.logged_at >= self.failure_log_interval:
            streak.logged_at = now
            log.warning(
                "%s poll of %s still failing (%s): %d polls since %s; last: %s",
                source,
                key,
                reason,
                streak.polls,
                _moment(streak.since),
                detail,
            )

    def _answered(self, key: DeviceKey, source: str) -> None:
        streak = self._failing.pop(key, None)
        if streak is not None:
            log.info(
                "%s poll of %s answers again, after %d failed %s (%s) since %s",
                source,
                key,
                streak.polls,
                "poll" if streak.polls == 1 else "polls",
                streak.reason,
                _moment(streak.since),
            )

    def _report_seats(self, device: DeviceInfo, kind: DeviceKind, reading: object) -> None:
        """Start and end the sessions of the seats a reading says are taken or free."""
        if type(kind).seat_sessions is DeviceKind.seat_sessions:
            return  # most kinds know no seats: skip the search below
        seats = {
            info.id: info.key
            for info in self._state.devices.values()
            if info.site == device.site and getattr(self._kinds.get(info.kind), "is_seat", False)
        }
        try:
            reported = kind.seat_sessions(device, reading, frozenset(seats))
        except Exception:
            plugin = self._plugin_of_kind(device.kind)
            self._log.error(
                f"plugin:{plugin}",
                "plugin %s failed reporting seats of %s",
                plugin,
                device.key,
                exc_info=True,
            )
            return
        now = self._clock.now()
        owned = f"{kind.name}-"
        for seat, session in reported.items():
            key = seats.get(seat)
            view = self._state.view(key) if key is not None else None
            if key is None or view is None:
                continue
            if session is not None and not session.session_id.startswith(owned):
                self._log.error(
                    f"seat-ids:{kind.name}",
                    "kind %s reported session %r for %s; its ids must start with %r",
                    kind.name,
                    session.session_id,
                    key,
                    owned,
                )
                continue
            usage = view.usage
            if usage.in_use and not (usage.session_id or "").startswith(owned):
                # A session the seat's agent reported: not ours to end or replace.
                if session is not None:
                    self._log.warning(
                        f"seat-other:{key}",
                        "%s has a session from another source; %s's session there is left out",
                        key,
                        device.key,
                    )
                continue
            started = session is not None and self._seat_started.get(key) == session.session_id
            if started and not usage.in_use:
                # Started already: the store may not have applied it yet, or
                # closed it since (sessions.max_duration); never reopened.
                continue
            for event in seat_changes(usage, session, now):
                if self.submit_session(key, event) and event.type is SessionEventType.START:
                    self._seat_started[key] = event.session_id
            # A full queue only delays the change to the next poll; repeats are
            # harmless, as the store ignores an event it already has.


def _moment(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def seat_changes(usage: Usage, session: SessionEvent | None, now: float) -> list[SessionEvent]:
    """The events that take a seat from its usage to `session` (None: free), ending at `now`."""
    current = usage.session_id if usage.in_use else None
    wanted = session.session_id if session is not None else None
    if current == wanted:
        return []
    events = []
    if current is not None:
        started = usage.session_started_at if usage.session_started_at is not None else now
        events.append(SessionEvent(SessionEventType.END, current, started, max(started, now)))
    if session is not None:
        events.append(SessionEvent(SessionEventType.START, session.session_id, session.started_at))
    return events
