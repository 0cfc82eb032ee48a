"""A site's internet state, from the checks of the devices in its rooms.

Down means no way out that anyone inside could use: every fresh check of a
device that is up at the site failed. Where any device probes (fetches a
page), only probes count; a device's own uplink state (a hotspot's WAN port)
decides only where nothing probes. One device that got through proves the
connection works (a PC with a broken browser stack must not take the whole
site down), so a single success makes the site up. The latency is the median
of the successful probes: one slow PC does not make a site slow, most do.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ocrfleet.config.internet import InternetConfig
from ocrfleet.connectivity import CheckSource, InternetCheck
from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import DeviceState, DeviceStatus
from ocrfleet.state import DeviceView


class InternetState(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    # No fresh check at the site: nothing there checks, or nothing that checks is up.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SiteInternet:
    site: str
    state: InternetState
    # Median seconds of the successful probes; None without one.
    latency: float | None
    # Fresh checks counted, and how many of them failed.
    checks: int
    failed: int
    # The failing checks' reasons (error words), most common first, for IT.
    errors: tuple[str, ...] = ()
    # Who checked, "<device>" or "daemon", for IT.
    failing: tuple[str, ...] = ()

    @property
    def reachable(self) -> bool | None:
        """True up or degraded, False down, None unknown."""
        if self.state is InternetState.UNKNOWN:
            return None
        return self.state is not InternetState.DOWN


CheckOf = Callable[[DeviceView], InternetCheck | None]

DAEMON = "daemon"


def site_internet(
    site: str,
    views: Iterable[DeviceView],
    statuses: Mapping[DeviceKey, DeviceStatus],
    check_of: CheckOf,
    settings: InternetConfig,
    now: float,
    daemon_check: InternetCheck | None = None,
) -> SiteInternet:
    """The internet state of `site` now; `views` may hold other sites' devices too.

    `check_of` is the device's kind's `internet_check` (ocrfleet.kinds), or
    None for a kind that does not check. `daemon_check` is the daemon's own
    probe, when it runs at this site (`[internet.probe]`).
    """
    fresh: list[tuple[str, InternetCheck]] = []
    for view in views:
        if view.info.site != site:
            continue
        status = statuses.get(view.info.key)
        # A PC that is off cannot speak for the room, and its last word is old.
        if status is None or status.state is not DeviceState.UP:
            continue
        check = check_of(view)
        if check is not None and now - check.checked_at <= settings.stale_after:
            fresh.append((view.info.id, check))
    if daemon_check is not None and now - daemon_check.checked_at <= settings.stale_after:
        fresh.append((DAEMON, daemon_check))
    # A probe proves the whole way out, an uplink only the first hop: a hotspot
    # whose WAN port is up says nothing once the PCs behind it fail to get out.
    probes = [(who, check) for who, check in fresh if check.source is CheckSource.PROBE]
    if probes:
        fresh = probes
    if not fresh:
        return SiteInternet(site, InternetState.UNKNOWN, None, 0, 0)
    failed = [(who, check) for who, check in fresh if not check.ok]
    latencies = [
        check.latency
        for _, check in fresh
        if check.ok and check.latency is not None and check.source is CheckSource.PROBE
    ]
    latency = statistics.median(latencies) if latencies else None
    if len(failed) == len(fresh):
        state = InternetState.DOWN
    elif latency is not None and latency > settings.degraded_latency:
        state = InternetState.DEGRADED
    else:
        state = InternetState.UP
    reasons: dict[str, int] = {}
    for _, check in failed:
        reasons[check.error or "failed"] = reasons.get(check.error or "failed", 0) + 1
    return SiteInternet(
        site,
        state,
        latency,
        len(fresh),
        len(failed),
        tuple(sorted(reasons, key=lambda r: (-reasons[r], r))),
        tuple(sorted(who for who, _ in failed)),
    )
