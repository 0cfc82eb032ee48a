"""FleetState: the single current truth about every configured device.

Ingest runs on the MQTT network thread, the store writer on its own thread
and scrapes on the HTTP server's threads. A device's aspects live together in
one record whose fields hold immutable values, each replaced whole, so a
reader on another thread always sees a consistent value per aspect without
locks, and the hot path (a health reading) is one dict lookup and a few
attribute writes on one object.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

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


class _Record:
    """One device's changing aspects, together: a message touches one object, not five dicts.

    Each field is replaced whole; a reading and its time are one field so a
    reader never pairs a new reading with the old time.
    """

    __slots__ = ("failure", "last_seen", "presence", "reading", "usage")

    def __init__(self) -> None:
        self.presence = _UNKNOWN
        self.last_seen: float | None = None
        self.reading: tuple[object, float] | None = None
        self.usage = _IDLE
        self.failure: PollFailure | None = None


class FleetState:
    def __init__(
        self, devices: Iterable[DeviceInfo], heartbeat_timeouts: Mapping[DeviceKey, float | None]
    ) -> None:
        self._devices: dict[DeviceKey, DeviceInfo] = {}
        self._timeouts: dict[DeviceKey, float | None] = {}
        # Every configured device has a record; session events may also leave
        # one for a key not configured (kept only by a reload that configures it).
        self._records: dict[DeviceKey, _Record] = {}
        # Only where a record is added or the dict replaced (a reload, a first
        # session of an unknown device), never on the per-message path.
        self._records_lock = threading.Lock()
        self._durations: dict[tuple[str, str], DurationHistogram] = {}
        self.replace_devices(devices, heartbeat_timeouts)

    # -- configuration -----------------------------------------------------

    def replace_devices(
        self, devices: Iterable[DeviceInfo], heartbeat_timeouts: Mapping[DeviceKey, float | None]
    ) -> None:
        """Adopt a new device list; state of devices still present is kept."""
        new = {d.key: d for d in devices}
        with self._records_lock:
            old = self._records
            # Built before the devices are swapped: a device present in
            # `_devices` always has a record for the MQTT thread to write into.
            self._records = {key: old.get(key) or _Record() for key in new}
        self._timeouts = {key: heartbeat_timeouts.get(key) for key in new}
        self._devices = new
        present = {(d.site, d.kind) for d in new.values()}
        for bucket in [b for b in self._durations if b not in present]:
            self._durations.pop(bucket, None)

    def device(self, key: DeviceKey) -> DeviceInfo | None:
        return self._devices.get(key)

    @property
    def devices(self) -> Mapping[DeviceKey, DeviceInfo]:
        return self._devices

    def _configured(self, key: DeviceKey) -> _Record | None:
        return self._records.get(key) if key in self._devices else None

    # -- updates -----------------------------------------------------------

    def record_reading(self, key: DeviceKey, reading: object, at: float) -> None:
        # The path of every health report: one lookup, the heartbeat inlined.
        # Not checked against `_devices`: a reading only comes through a route,
        # so its device is configured, and a record left by a session event
        # for a device no longer configured is never shown (view, last_seen).
        record = self._records.get(key)
        if record is None:
            return  # removed by a reload while the message was in flight
        record.reading = (reading, at)
        record.failure = None
        record.last_seen = at
        presence = record.presence
        if not presence.up and presence.availability is not Availability.OFFLINE:
            record.presence = Presence(presence.availability, True, at)

    def record_poll_failure(self, key: DeviceKey, reason: str, at: float) -> None:
        """A polled device did not answer: it is down, for this reason."""
        record = self._configured(key)
        if record is None:
            return
        previous = record.failure
        since = previous.since if previous is not None and previous.reason == reason else at
        record.failure = PollFailure(reason, since, at)
        presence = record.presence
        if presence.up or presence.since is None:
            record.presence = Presence(presence.availability, False, at)

    def record_heartbeat(self, key: DeviceKey, at: float) -> None:
        record = self._configured(key)
        if record is None:
            return
        record.last_seen = at
        presence = record.presence
        if not presence.up and presence.availability is not Availability.OFFLINE:
            record.presence = Presence(presence.availability, True, at)

    def record_availability(self, key: DeviceKey, availability: Availability, at: float) -> None:
        record = self._configured(key)
        if record is None:
            return
        presence = record.presence
        up = availability is Availability.ONLINE
        if up:
            record.last_seen = at
        if presence.availability is not availability or presence.up is not up:
            since = presence.since if presence.up is up and presence.since is not None else at
            record.presence = Presence(availability, up, since)

    def _usage_record(self, key: DeviceKey) -> _Record:
        record = self._records.get(key)
        if record is None:
            # Under the lock: added to the dict a reload is replacing, it would be lost.
            with self._records_lock:
                record = self._records.setdefault(key, _Record())
        return record

    def record_session(self, key: DeviceKey, event: SessionEvent, new_session: bool) -> None:
        """Apply a session event that the store has accepted (not a redelivery)."""
        record = self._usage_record(key)
        usage = record.usage
        total = usage.sessions_total + (1 if new_session else 0)
        if event.type is SessionEventType.START:
            current = usage.session_started_at
            if usage.in_use and current is not None and event.started_at < current:
                # A start delivered late: the newer session is the one in use.
                record.usage = Usage(True, usage.session_id, current, total)
            else:
                record.usage = Usage(True, event.session_id, event.started_at, total)
            return
        if usage.session_id in (None, event.session_id):
            record.usage = Usage(False, None, None, total)
        else:
            record.usage = Usage(True, usage.session_id, usage.session_started_at, total)
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
        record = self._usage_record(key)
        if open_session is None:
            record.usage = Usage(False, None, None, sessions_total)
        else:
            record.usage = Usage(
                True, open_session.session_id, open_session.started_at, sessions_total
            )

    def expire_sessions(self, opened_before: float) -> list[DeviceKey]:
        """Forget sessions open since before `opened_before`: their end was lost."""
        stale = []
        for key, record in list(self._records.items()):
            usage = record.usage
            if (
                usage.in_use
                and usage.session_started_at is not None
                and usage.session_started_at < opened_before
            ):
                record.usage = Usage(False, None, None, usage.sessions_total)
                stale.append(key)
        return stale

    def expire_heartbeats(self, now: float) -> list[DeviceKey]:
        """Mark devices whose heartbeat timed out as down; returns those that changed."""
        changed = []
        records = self._records
        for key, timeout in self._timeouts.items():
            if timeout is None:
                continue
            record = records.get(key)
            if record is None:
                continue
            presence = record.presence
            if not presence.up:
                continue
            last = record.last_seen or 0.0
            if now - last > timeout:
                record.presence = Presence(presence.availability, False, now)
                if (record.last_seen or 0.0) != last:
                    # A message raced in on the MQTT thread: it is alive.
                    record.presence = presence
                    continue
                changed.append(key)
        return changed

    # -- reading -----------------------------------------------------------

    def last_seen(self) -> dict[DeviceKey, float]:
        return {
            key: record.last_seen
            for key, record in list(self._records.items())
            if record.last_seen is not None and key in self._devices
        }

    def view(self, key: DeviceKey) -> DeviceView | None:
        info = self._devices.get(key)
        if info is None:
            return None
        record = self._records.get(key)
        if record is None:
            # A reload swapped the devices between the two lookups.
            record = _Record()
        reading = record.reading
        return DeviceView(
            info=info,
            presence=record.presence,
            last_seen=record.last_seen,
            reading=reading[0] if reading else None,
            reading_at=reading[1] if reading else None,
            usage=record.usage,
            failure=record.failure,
        )

    def snapshot(self, now: float) -> FleetSnapshot:
        views = []
        for key in list(self._devices):
            view = self.view(key)
            if view is not None:
                views.append(view)
        return FleetSnapshot(now, tuple(views), dict(self._durations))
