"""When a printer is expected not to answer: its sleep hours, or its site's closing hours.

Many office printers drop off the network in deep sleep, or are switched off
at closing time. Not answering then is normal ("asleep"); not answering while
it should be awake is a fault ("unreachable").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time

from ocrfleet.devices import DeviceInfo

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(value: str) -> tuple[time, time]:
    """A "HH:MM-HH:MM" window as (start, end); it may cross midnight.

    "24:00" is accepted as an end, meaning the end of the day. Start and end
    must differ: "22:00-22:00" could mean nothing or the whole day.
    """
    match = _WINDOW.match(value)
    if match is None:
        raise ValueError(f'{value!r} is not a "HH:MM-HH:MM" range')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{value!r} is not a valid time range")
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if start == end:
        raise ValueError(f"{value!r} starts and ends at the same time")
    return start, end


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
