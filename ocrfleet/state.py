"""FleetState: the single current truth about every configured device.

Ingest runs on the MQTT network thread, the store writer on its own thread
and scrapes on the HTTP server's threads. Each aspect of a device lives in its
own dict whose values are immutable and replaced whole, so a reader on
another thread always sees a consistent value per aspect without locks, and
the hot path (a health reading) costs two dict assignments.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.sessions import SESSION_DURATION_BUCKETS, SessionEvent, SessionEventType


class Availability(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Presence:
    availability: Availability
    up: bool
    since: float | None


@dataclass(frozen=True, slots=True)
class Usage:
    in_use: bool = False
    session_id: str | None = None
    session_started_at: float | None = None
    sessions_total: int = 0


@dataclass(frozen=True, slots=True)
class DurationHistogram:
    """Cumulative session durations of one site and kind."""

    bucket_counts: tuple[int, ...] = (0,) * len(SESSION_DURATION_BUCKETS)
    count: int = 0
    total: float = 0.0

    def observe(self, seconds: float) -> DurationHistogram:
        index = bisect.bisect_left(SESSION_DURATION_BUCKETS, seconds)
        counts = list(self.bucket_counts)
        for i in range(index, len(counts)):
            counts[i] += 1
        return DurationHistogram(tuple(counts), self.count + 1, self.total + seconds)


@dataclass(frozen=True, slots=True)
class PollFailure:
    """Why the last poll of a polled device got no answer, and since when."""

    reason: str
    since: float
    last_attempt: float


@dataclass(frozen=True, slots=True)
class DeviceView:
    """Everything known about one device at one moment, for readers."""

    info: DeviceInfo
    presence: Presence
    last_seen: float | None
    reading: object | None
    reading_at: float | None
    usage: Usage
    failure: PollFailure | None = None


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    taken_at: float
    devices: tuple[DeviceView, ...]
    session_durations: Mapping[tuple[str, str], DurationHistogram]


_UNKNOWN = Presence(Availability.UNKNOWN, False, None)
_IDLE = Usage()


class FleetState:
    def __init__(
        self, devices: Iterable[DeviceInfo], heartbeat_timeouts: Mapping[DeviceKey, float | None]
    ) -> None:
        self._devices: dict[DeviceKey, DeviceInfo] = {}
        self._timeouts: dict[DeviceKey, float | None] = {}
        self._presence: dict[DeviceKey, Presence] = {}
        self._last_seen: dict[DeviceKey, float] = {}
        self._readings: dict[DeviceKey, tuple[object, float]] = {}
        self._usage: dict[DeviceKey, Usage] = {}
        self._failures: dict[DeviceKey, PollFailure] = {}
        self._durations: dict[tuple[str, str], DurationHistogram] = {}
        self.replace_devices(devices, heartbeat_timeouts)

    # -- configuration -----------------------------------------------------

    def replace_devices(
        self, devices: Iterable[DeviceInfo], heartbeat_timeouts: Mapping[DeviceKey, float | None]
    ) -> None:
        """Adopt a new device list; state of devices still present is kept."""
        new = {d.key: d for d in devices}
        self._timeouts = {key: heartbeat_timeouts.get(key) for key in new}
        self._devices = new
        aspects: tuple[dict[DeviceKey, Any], ...] = (
            self._presence,
            self._last_seen,
            self._readings,
            self._usage,
            self._failures,
        )
        for aspect in aspects:
            for key in [k for k in aspect if k not in new]:
                aspect.pop(key, None)
        present = {(d.site, d.kind) for d in new.values()}
        for bucket in [b for b in self._durations if b not in present]:
            self._durations.pop(bucket, None)

    def device(self, key: DeviceKey) -> DeviceInfo | None:
        return self._devices.get(key)

    @property
    def devices(self) -> Mapping[DeviceKey, DeviceInfo]:
        return self._devices

    # -- updates -----------------------------------------------------------

    def record_reading(self, key: DeviceKey, reading: object, at: float) -> None:
        if key not in self._devices:
            return  # removed by a reload while the message was in flight
        self._readings[key] = (reading, at)
        self._failures.pop(key, None)
        self.record_heartbeat(key, at)

    def record_poll_failure(self, key: DeviceKey, reason: str, at: float) -> None:
        """A polled device did not answer: it is down, for this reason."""
        if key not in self._devices:
            return
        previous = self._failures.get(key)
        since = previous.since if previous is not None and previous.reason == reason else at
        self._failures[key] = PollFailure(reason, since, at)
        presence = self._presence.get(key, _UNKNOWN)
        if presence.up or presence.since is None:
            self._presence[key] = Presence(presence.availability, False, at)

    def record_heartbeat(self, key: DeviceKey, at: float) -> None:
        if key not in self._devices:
            return
        self._last_seen[key] = at
        presence = self._presence.get(key, _UNKNOWN)
        if not presence.up and presence.availability is not Availability.OFFLINE:
            self._presence[key] = Presence(presence.availability, True, at)

    def record_availability(self, key: DeviceKey, availability: Availability, at: float) -> None:
        if key not in self._devices:
            return
        presence = self._presence.get(key, _UNKNOWN)
        up = availability is Availability.ONLINE
        if up:
            self._last_seen[key] = at
        if presence.availability is not availability or presence.up is not up:
            since = presence.since if presence.up is up and presence.since is not None else at
            self._presence[key] = Presence(availability, up, since)

    def record_session(self, key: DeviceKey, event: SessionEvent, new_session: bool) -> None:
        """Apply a session event that the store has accepted (not a redelivery)."""
        usage = self._usage.get(key, _IDLE)
        total = usage.sessions_total + (1 if new_session else 0)
        if event.type is SessionEventType.START:
            current = usage.session_started_at
            if usage.in_use and current is not None and event.started_at < current:
                # A start delivered late: the newer session is the one in use.
                self._usage[key] = Usage(True, usage.session_id, current, total)
            else:
                self._usage[key] = Usage(True, event.session_id, event.started_at, total)
            return
        if usage.session_id in (None, event.session_id):
            self._usage[key] = Usage(False, None, None, total)
        else:
            self._usage[key] = Usage(True, usage.session_id, usage.session_started_at, total)
        duration = event.duration
        info = self._devices.get(key)
        if duration is not None and info is not None:
            bucket = (info.site, info.kind)
            self._durations[bucket] = self._durations.get(bucket, DurationHistogram()).observe(
                duration
            )

    def restore_usage(
        self, key: DeviceKey, open_session: SessionEvent | None, sessions_total: int
    ) -> None:
        """Seed usage from the store at start-up, so a restart does not lose open sessions."""
        if open_session is None:
            self._usage[key] = Usage(False, None, None, sessions_total)
        else:
            self._usage[key] = Usage(
                True, open_session.session_id, open_session.started_at, sessions_total
            )

    def expire_sessions(self, opened_before: float) -> list[DeviceKey]:
        """Forget sessions open since before `opened_before`: their end was lost."""
        stale = [
            key
            for key, usage in list(self._usage.items())
            if usage.in_use
            and usage.session_started_at is not None
            and usage.session_started_at < opened_before
        ]
        for key in stale:
            usage = self._usage[key]
            self._usage[key] = Usage(False, None, None, usage.sessions_total)
        return stale

    def expire_heartbeats(self, now: float) -> list[DeviceKey]:
        """Mark devices whose heartbeat timed out as down; returns those that changed."""
        changed = []
        for key, timeout in self._timeouts.items():
            if timeout is None:
                continue
            presence = self._presence.get(key)
            if presence is None or not presence.up:
                continue
            last = self._last_seen.get(key, 0.0)
            if now - last > timeout:
                self._presence[key] = Presence(presence.availability, False, now)
                if self._last_seen.get(key, 0.0) != last:
                    # A message raced in on the MQTT thread: it is alive.
                    self._presence[key] = presence
                    continue
                changed.append(key)
        return changed

    # -- reading -----------------------------------------------------------

    def last_seen(self) -> dict[DeviceKey, float]:
        return dict(self._last_seen)

    def view(self, key: DeviceKey) -> DeviceView | None:
        info = self._devices.get(key)
        if info is None:
            return None
        reading = self._readings.get(key)
        return DeviceView(
            info=info,
            presence=self._presence.get(key, _UNKNOWN),
            last_seen=self._last_seen.get(key),
            reading=reading[0] if reading else None,
            reading_at=reading[1] if reading else None,
            usage=self._usage.get(key, _IDLE),
            failure=self._failures.get(key),
        )

    def snapshot(self, now: float) -> FleetSnapshot:
        views = []
        for key in list(self._devices):
            view = self.view(key)
            if view is not None:
                views.append(view)
        return FleetSnapshot(now, tuple(views), dict(self._durations))
