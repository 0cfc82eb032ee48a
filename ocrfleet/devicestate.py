"""A device's state as people mean it: up, down, or off when it is expected to be.

A PC shut down after closing time or a printer in its own sleep hours is not
a fault; `scheduled_off` says so, and alert rules and dashboards use it. The
site's schedule covers closing time; the device's kind covers the rest
(`DeviceKind.expected_off`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from ocrfleet.kinds import DeviceKind
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.state import Availability, DeviceView

log = logging.getLogger(__name__)


class DeviceState(StrEnum):
    UP = "up"
    DOWN = "down"
    SCHEDULED_OFF = "scheduled_off"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    state: DeviceState
    # A fixed word, for the metric label: why the device is in this state.
    reason: str
    since: float | None


def device_status(
    view: DeviceView,
    now: float,
    kind: DeviceKind | None = None,
    errors: RateLimitedLog | None = None,
) -> DeviceStatus:
    """The state of one device now, from what FleetState knows, its site's schedule and its kind.

    Callers asking on every scrape or evaluation pass `errors`, so that a
    failing kind cannot flood the log.
    """
    presence = view.presence
    if presence.up:
        return DeviceStatus(DeviceState.UP, "answering", presence.since)
    schedule = view.info.schedule
    if schedule is not None and not schedule.is_open(now):
        reason = "closure" if schedule.is_closed_day(now) else "closed"
        return DeviceStatus(DeviceState.SCHEDULED_OFF, reason, presence.since)
    expected = _expected_off(kind, view, now, errors) if kind is not None else None
    if expected is not None:
        since = view.failure.since if view.failure is not None else presence.since
        return DeviceStatus(DeviceState.SCHEDULED_OFF, expected, since)
    if presence.since is None and view.failure is None:
        return DeviceStatus(DeviceState.UNKNOWN, "never_seen", None)
    if view.failure is not None:
        return DeviceStatus(DeviceState.DOWN, view.failure.reason, view.failure.since)
    if presence.availability is Availability.OFFLINE:
        return DeviceStatus(DeviceState.DOWN, "offline", presence.since)
    return DeviceStatus(DeviceState.DOWN, "no_heartbeat", presence.since)


def _expected_off(
    kind: DeviceKind, view: DeviceView, now: float, errors: RateLimitedLog | None
) -> str | None:
    try:
        return kind.expected_off(view, now)
    except Exception:
        # A broken plugin must not hide a real outage: the device counts as down.
        message = "kind %s failed to say whether %s is expected off"
        if errors is None:
            log.exception(message, kind.name, view.info.key)
        else:
            errors.error(
                f"expected_off:{kind.name}", message, kind.name, view.info.key, exc_info=True
            )
        return None
