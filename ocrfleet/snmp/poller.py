"""Polling SNMP devices on their own intervals with apscheduler.

Every device has its own job, timeout and retries, and a bound on devices
polled at once keeps a large fleet from flooding the network: a device that
does not answer only ever delays itself.
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
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ocrfleet.clock import Clock
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.snmp.options import SnmpDeviceOptions, SnmpV3
from ocrfleet.snmp.values import SnmpError
from ocrfleet.state import FleetState

if TYPE_CHECKING:
    # pysnmp costs ~40 MiB: only fleets with SNMP devices load it.
    from ocrfleet.snmp.client import SnmpClient
    from ocrfleet.snmp.service import SnmpService

log = logging.getLogger(__name__)

POLL_DURATION_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_JOB_PREFIX = "snmp-poll:"


@dataclass
class PollStats:
    """Per kind: polls, errors by reason, and a duration histogram."""

    polls: dict[str, int] = field(default_factory=dict)
    errors: dict[tuple[str, str], int] = field(default_factory=dict)
    buckets: dict[str, list[int]] = field(default_factory=dict)
    duration_sum: dict[str, float] = field(default_factory=dict)

    def observe(self, kind: str, seconds: float, error: str | None) -> None:
        self.polls[kind] = self.polls.get(kind, 0) + 1
        if error is not None:
            self.errors[(kind, error)] = self.errors.get((kind, error), 0) + 1
        counts = self.buckets.setdefault(kind, [0] * len(POLL_DURATION_BUCKETS))
        for i in range(bisect.bisect_left(POLL_DURATION_BUCKETS, seconds), len(counts)):
            counts[i] += 1
        self.duration_sum[kind] = self.duration_sum.get(kind, 0.0) + seconds


def is_polled(device: DeviceInfo) -> bool:
    return isinstance(device.options, SnmpDeviceOptions)


def uses_snmp_v3(device: DeviceInfo) -> bool:
    return is_polled(device) and isinstance(device.options.snmp, SnmpV3)


class SnmpPoller:
    def __init__(
        self,
        state: FleetState,
        kinds: Mapping[str, DeviceKind],
        service: Callable[[], SnmpService],
        clock: Clock,
        plugin_of_kind: Callable[[str], str],
    ) -> None:
        self._state = state
        self._kinds = kinds
        self._service = service
        self._clock = clock
        # Called after every poll, answered or not, so alert rules see a new
        # condition soon rather than at the next timed evaluation.
        self.on_polled: Callable[[], None] = lambda: None
        self._plugin_of_kind = plugin_of_kind
        self._clients: dict[DeviceKey, tuple[SnmpDeviceOptions, SnmpClient]] = {}
        self._log = RateLimitedLog(log, interval=60.0)
        self.stats = PollStats()

    def schedule(
        self, scheduler: AsyncIOScheduler, devices: Mapping[DeviceKey, DeviceInfo]
    ) -> None:
        """(Re)create one job per polled device; jobs of removed devices go."""
        wanted = {f"{_JOB_PREFIX}{key}": d for key, d in devices.items() if is_polled(d)}
        for job in scheduler.get_jobs():
            if job.id.startswith(_JOB_PREFIX) and job.id not in wanted:
                job.remove()
        now = datetime.now(UTC)
        for job_id, device in wanted.items():
            options: SnmpDeviceOptions = device.options
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
        for key in [k for k in self._clients if f"{_JOB_PREFIX}{k}" not in wanted]:
            del self._clients[key]

    async def _client(self, device: DeviceInfo) -> SnmpClient:
        options: SnmpDeviceOptions = device.options
        cached = self._clients.get(device.key)
        if cached is not None and cached[0] == options:
            return cached[1]
        client = await self._service().client(options)
        self._clients[device.key] = (options, client)
        return client

    async def poll(self, key: DeviceKey) -> None:
        device = self._state.device(key)
        if device is None or not is_polled(device):
            return
        kind = self._kinds[device.kind]
        options: SnmpDeviceOptions = device.options
        # Whole-poll bound: every request may use its timeout and retries,
        # but a poll never outlives its interval.
        budget = options.poll_interval * 0.9
        error: str | None = None
        async with self._service().slots:
            started = time.perf_counter()
            try:
                client = await self._client(device)
                view = self._state.view(key)
                previous = view.reading if view is not None else None
                reading = await asyncio.wait_for(kind.poll(device, client, previous), budget)
            except SnmpError as exc:
                error = exc.reason
                self._state.record_poll_failure(key, exc.reason, self._clock.now())
                self._log.warning(
                    f"{key}:{exc.reason}", "SNMP poll of %s failed: %s", key, exc.detail
                )
            except asyncio.CancelledError:
                # Only the daemon's shutdown cancels a poll; ending quietly
                # keeps the scheduler from reporting it as a failed job.
                error = "cancelled"
                return
            except TimeoutError:
                error = "timeout"
                self._state.record_poll_failure(key, "timeout", self._clock.now())
            except OSError as exc:
                error = "unreachable"
                self._state.record_poll_failure(key, "unreachable", self._clock.now())
                self._log.warning(f"{key}:os", "SNMP poll of %s failed: %s", key, exc)
            except Exception:
                error = "plugin_error"
                # Recorded as a failure: the last reading must not live on as
                # if it were current.
                self._state.record_poll_failure(key, "plugin_error", self._clock.now())
                plugin = self._plugin_of_kind(device.kind)
                self._log.error(
                    f"plugin:{plugin}",
                    "plugin %s failed polling %s",
                    plugin,
                    key,
                    exc_info=True,
                )
            else:
                self._state.record_reading(key, reading, self._clock.now())
            finally:
                if error != "cancelled":
                    self.stats.observe(device.kind, time.perf_counter() - started, error)
                    self.on_polled()
