"""When a printer is expected not to answer: its sleep hours, or its site's closing hours.

Many office printers drop off the network in deep sleep, or are switched off
at closing time. Not answering then is normal ("asleep"); not answering while
it should be awake is a fault ("unreachable").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from ocrfleet.plugin import DeviceInfo, parse_time_range


def parse_window(value: str) -> tuple[time, time]:
    """A "HH:MM-HH:MM" sleep window as (start, end); it may cross midnight."""
    return parse_time_range(value, overnight=True)


def in_window(moment: time, window: tuple[time, time]) -> bool:
    start, end = window
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # crosses midnight


def expected_asleep(device: DeviceInfo, sleep_hours: Sequence[str] | None, at: float) -> bool:
    """Whether the device may be off the network at Unix time `at`.

    With sleep_hours, only those windows count, in the site's time zone.
    Without, the printer is expected asleep while its site is closed; a
    device without a known schedule is never expected asleep.
    """
    schedule = device.schedule
    if sleep_hours is not None:
        local = schedule.local(at) if schedule is not None else datetime.fromtimestamp(at)
        moment = local.time()
        return any(in_window(moment, parse_window(w)) for w in sleep_hours)
    if schedule is None:
        return False
    return not schedule.is_open(at)
