"""What one poll of a hotspot found: immutable, shared with scrape threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["radio", "uplink", "other"]
UptimeSource = Literal["hrSystemUptime", "sysUpTime"]
UplinkState = Literal["up", "down", "unknown"]
# Who told the uplink state: an interface's ifOperStatus, or the vendor's MIB.
UplinkSource = Literal["interface", "vendor"]


@dataclass(frozen=True, slots=True)
class Interface:
    """One row of the device's IF-MIB interface table.

    `index` is 0 for an interface the configuration names but the device
    does not have (it is then reported as down).
    """

    index: int
    name: str
    type: int | None
    role: Role
    oper_up: bool
    admin_up: bool
    alias: str = ""
    # oper_up comes from the vendor, not from ifOperStatus (see
    # HotspotVendor.oper_overrides).
    oper_from_vendor: bool = False


@dataclass(frozen=True, slots=True)
class Uplink:
    """The hotspot's way to the internet, as one poll found it.

    `interface` and `index` name the interface read (empty and 0 when the
    vendor's MIB told). `configured` is true when the device's
    `uplink_interface` option chose it; `missing` is that option's value when
    the device has no such interface, and the state is then unknown.
    """

    state: UplinkState
    source: UplinkSource
    interface: str = ""
    index: int = 0
    configured: bool = False
    missing: str = ""
    # ifOperStatus as read (or the vendor's word), for IT.
    detail: str = ""


@dataclass(frozen=True, slots=True)
class HotspotReading:
    """One hotspot at one poll.

    `restarts` counts the restarts seen since the daemon started (uptime that
    went back between two readings); `clients` is None when the vendor gives
    no count, which is not the same as 0 clients.
    """

    uptime_seconds: float | None
    restarts: int
    vendor: str
    clients: int | None
    interfaces: tuple[Interface, ...]
    model: str
    sys_descr: str = ""
    sys_name: str = ""
    # Raw TimeTicks and where they came from, to compare with the next poll.
    uptime_ticks: int | None = None
    uptime_source: UptimeSource | None = None
    # Monotonic seconds at the poll: only for telling a counter wrap from a
    # restart, never shown.
    polled_at: float = 0.0
    # None when nothing tells: no `uplink_interface` option, and a vendor
    # without a WAN state or a default uplink the device has.
    uplink: Uplink | None = None
