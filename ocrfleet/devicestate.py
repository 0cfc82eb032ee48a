"""A device's state as people mean it: up, down, or off because the site is closed.

A printer asleep at night or a PC shut down after closing time is not a
fault; `scheduled_off` says so, and alert rules and dashboards use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ocrfleet.state import Availability, DeviceView


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


def device_status(view: DeviceView, now: float) -> DeviceStatus:
    """The state of one device now, from what FleetState knows and its site's schedule."""
    presence = view.presence
    if presence.up:
        return DeviceStatus(DeviceState.UP, "answering", presence.since)
    schedule = view.info.schedule
    if schedule is not None and not schedule.is_open(now):
        reason = "closure" if schedule.is_closed_day(now) else "closed"
        return DeviceStatus(DeviceState.SCHEDULED_OFF, reason, presence.since)
    if presence.since is None and view.failure is None:
        return DeviceStatus(DeviceState.UNKNOWN, "never_seen", None)
    if view.failure is not None:
        return DeviceStatus(DeviceState.DOWN, view.failure.reason, view.failure.since)
    if presence.availability is Availability.OFFLINE:
        return DeviceStatus(DeviceState.DOWN, "offline", presence.since)
    return DeviceStatus(DeviceState.DOWN, "no_heartbeat", presence.since)
