"""From SNMP values to a HotspotReading: pure functions, no I/O.

Interface roles
---------------
Only radios and uplinks are worth an alert, so every interface gets a role:

1. A name listed in the device's `radio_interfaces` / `uplink_interfaces`
   options decides (ifName, ifDescr or ifAlias, exactly). Once either list
   is given it is the whole truth for that role: interfaces not listed never
   get it.
2. ifType ieee80211(71) is a radio.
3. Many APs (UniFi, HiveOS, airOS, OpenWrt) report their radios and virtual
   APs as ethernetCsmacd(6) or other(1), so a wireless driver's name is a
   radio when the type is one of those: wifiN, athN, wlanN, wlN, raN, raiN,
   raxN, radioN, each optionally with a ".N" or "-N" virtual-AP suffix, and
   OpenWrt's phyN-apN.
4. Ethernet-like types (ethernetCsmacd, iso88023Csmacd, fastEther,
   fastEtherFX, gigabitEthernet, ieee8023adLag) are uplinks, unless the name
   is a software interface that Linux also types as ethernet: loopback,
   bridges (br, bridge), VLANs (vlan, and sub-interfaces like eth0.100),
   ifb, dpsta, teql, GRE and other tunnels, tun/tap/veth, WDS and
   AP-client links (wds, wdsi, apcli), mgt, mon, airview, or anything
   called "virtual".
5. Everything else (loopback, bridge, tunnel, ppp, l2vlan, ...) is other.

The rule cannot see that a Broadcom router's radios are eth1 and eth2, or
which of a router's many Ethernet ports is its uplink: name them in the
options for such devices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from ocrfleet.plugin import SnmpTable, column
from ocrfleet_hotspot import oids
from ocrfleet_hotspot.reading import HotspotReading, Interface, Role, UptimeSource
from ocrfleet_hotspot.uplink import find_uplink
from ocrfleet_hotspot.vendors.base import HotspotVendor, as_int, as_text

_ETHERNET_TYPES = frozenset(
    {
        oids.IFTYPE_ETHERNET_CSMACD,
        oids.IFTYPE_ISO88023_CSMACD,
        oids.IFTYPE_FAST_ETHER,
        oids.IFTYPE_FAST_ETHER_FX,
        oids.IFTYPE_GIGABIT_ETHERNET,
        oids.IFTYPE_IEEE8023AD_LAG,
    }
)
# Types a radio hides behind on APs whose drivers do not say ieee80211.
_RADIO_LOOKALIKE_TYPES = frozenset(
    {None, oids.IFTYPE_OTHER, oids.IFTYPE_ETHERNET_CSMACD, oids.IFTYPE_PROP_VIRTUAL}
)
_RADIO_NAME = re.compile(
    r"^(?:(?:wifi|ath|wlan|wl|ra|rai|rax|radio)\d+(?:[.-]\d+)?|phy\d+-ap\d+)$", re.IGNORECASE
)
_SOFTWARE_NAME = re.compile(
    r"^(?:lo|br|bridge|vlan|ifb|dpsta|teql|gre|gretap|ip6tnl|sit|tun|tap|veth|virbr|docker"
    r"|wds|wdsi|apcli|apclii|mgt|mon|airview)(?:\d|[-_.]|$)",
    re.IGNORECASE,
)
_SUBINTERFACE = re.compile(r"\.\d+$")

# How far a wrapped counter may be from the time that passed on our clock
# before a drop counts as a restart: the device's clock and ours drift, and a
# poll takes a while.
_WRAP_SLACK_SECONDS = 60.0
_WRAP_SLACK_RATIO = 0.01

MODEL_MAX_LENGTH = 100

# (vendor, name of the method that raised, the exception)
VendorErrorHandler = Callable[[HotspotVendor, str, Exception], None]
T = TypeVar("T")


def interface_role(if_type: int | None, name: str) -> Role:
    """The role of one interface by the documented rule (steps 2 to 5)."""
    if if_type == oids.IFTYPE_IEEE80211:
        return "radio"
    if if_type in _RADIO_LOOKALIKE_TYPES and _RADIO_NAME.match(name):
        return "radio"
    if if_type in _ETHERNET_TYPES:
        if _SOFTWARE_NAME.match(name) or "virtual" in name.lower() or _SUBINTERFACE.search(name):
            return "other"
        return "uplink"
    return "other"


def parse_interfaces(
    values: SnmpTable,
    uplinks: Sequence[str] = (),
    radios: Sequence[str] = (),
    oper_overrides: Mapping[int, bool] | None = None,
) -> tuple[Interface, ...]:
    """Interfaces in ifIndex order, plus a down placeholder per configured name not found.

    `oper_overrides` (ifIndex -> up) replaces ifOperStatus where a vendor
    knows better.
    """
    overrides = oper_overrides or {}
    descrs = column(values, oids.IF_DESCR)
    types = column(values, oids.IF_TYPE)
    admin = column(values, oids.IF_ADMIN_STATUS)
    oper = column(values, oids.IF_OPER_STATUS)
    names = column(values, oids.IF_NAME)
    aliases = column(values, oids.IF_ALIAS)
    indexes = sorted(
        {i for i in (*descrs, *types, *admin, *oper) if i.isdigit()}, key=lambda i: int(i)
    )
    found: list[Interface] = []
    seen: set[str] = set()
    for index in indexes:
        descr = as_text(descrs.get(index))
        name = as_text(names.get(index)) or descr or f"if{index}"
        alias = as_text(aliases.get(index))
        if_type = as_int(types.get(index))
        known = {name, descr, alias} - {""}
        seen |= known
        role: Role
        if radios and known & set(radios):
            role = "radio"
        elif uplinks and known & set(uplinks):
            role = "uplink"
        else:
            role = interface_role(if_type, name)
            # An explicit list is the whole truth for its role.
            if (role == "radio" and radios) or (role == "uplink" and uplinks):
                role = "other"
        oper_up = as_int(oper.get(index)) == oids.STATUS_UP
        override = overrides.get(int(index))
        found.append(
            Interface(
                index=int(index),
                name=name,
                type=if_type,
                role=role,
                oper_up=oper_up if override is None else override,
                admin_up=as_int(admin.get(index)) == oids.STATUS_UP,
                alias=alias,
                oper_from_vendor=override is not None and override != oper_up,
            )
        )
    # A named radio or uplink the device does not have is not up: report it
    # down rather than let a typo or a vanished port go unnoticed.
    configured: list[tuple[str, Role]] = [(n, "radio") for n in radios]
    configured += [(n, "uplink") for n in uplinks]
    for missing, role in configured:
        if missing not in seen:
            found.append(Interface(0, missing, None, role, oper_up=False, admin_up=True))
    return tuple(found)


def read_uptime(values: SnmpTable) -> tuple[int | None, UptimeSource | None]:
    """TimeTicks since boot: the host's (hrSystemUptime) if the agent has it, else the agent's."""
    host = as_int(values.get(oids.HR_SYSTEM_UPTIME))
    agent = as_int(values.get(oids.SYS_UPTIME))
    # Some agents answer hrSystemUptime with a constant 0; sysUpTime is then
    # the better guess.
    if host is not None and host >= 0 and not (host == 0 and agent):
        return host, "hrSystemUptime"
    if agent is not None and agent >= 0:
        return agent, "sysUpTime"
    return None, None


def is_wrap(before: int, after: int, elapsed_seconds: float) -> bool:
    """Whether a drop from `before` to `after` ticks is the 32-bit counter wrapping.

    After a wrap the ticks counted since `before` (going round through 2**32)
    match the time that passed; after a restart they do not, except when the
    earlier reading was itself within the slack of the wrap point.
    """
    if elapsed_seconds <= 0 or after >= before:
        return False
    counted = (after + oids.TIMETICKS_MODULUS - before) / oids.TICKS_PER_SECOND
    slack = _WRAP_SLACK_SECONDS + _WRAP_SLACK_RATIO * elapsed_seconds
    return abs(counted - elapsed_seconds) <= slack


def count_restarts(
    previous: HotspotReading | None, ticks: int | None, source: UptimeSource | None, now: float
) -> int:
    """Restarts so far: the previous count, plus one if uptime went back for real."""
    if previous is None:
        return 0
    if ticks is None or previous.uptime_ticks is None or source != previous.uptime_source:
        return previous.restarts  # nothing comparable
    if ticks >= previous.uptime_ticks:
        return previous.restarts
    if is_wrap(previous.uptime_ticks, ticks, now - previous.polled_at):
        return previous.restarts
    return previous.restarts + 1


def build_reading(
    values: SnmpTable,
    vendor: HotspotVendor,
    *,
    previous: object | None,
    now: float,
    uplinks: Sequence[str] = (),
    radios: Sequence[str] = (),
    uplink_interface: str | int | None = None,
    on_vendor_error: VendorErrorHandler | None = None,
) -> HotspotReading:
    """A reading from everything one poll fetched (system scalars, interface columns, vendor).

    `now` is a monotonic time, only compared with the previous reading's.
    `uplink_interface` is the device's option of that name (see
    ocrfleet_hotspot.uplink).
    With `on_vendor_error`, an exception from the vendor's code is handed to
    it and the vendor's values count as unknown; without, it propagates.
    """
    last = previous if isinstance(previous, HotspotReading) else None
    ticks, source = read_uptime(values)
    sys_descr = as_text(values.get(oids.SYS_DESCR))
    clients = _call(vendor, vendor.clients, values, on_vendor_error)
    vendor_model = _call(vendor, vendor.model, values, on_vendor_error)
    overrides = _call(vendor, vendor.oper_overrides, values, on_vendor_error)
    vendor_up = (
        None
        if uplink_interface is not None
        else _call(vendor, vendor.uplink_up, values, on_vendor_error)
    )
    uplink = find_uplink(
        values,
        uplink_interface,
        vendor_up,
        vendor.default_uplinks,
        last.uplink if last is not None else None,
    )
    return HotspotReading(
        uptime_seconds=ticks / oids.TICKS_PER_SECOND if ticks is not None else None,
        restarts=count_restarts(last, ticks, source, now),
        vendor=vendor.name,
        clients=clients if clients is None or clients >= 0 else None,
        interfaces=parse_interfaces(values, uplinks, radios, overrides),
        model=_one_line(vendor_model or sys_descr),
        sys_descr=sys_descr,
        sys_name=as_text(values.get(oids.SYS_NAME)),
        uptime_ticks=ticks,
        uptime_source=source,
        polled_at=now,
        uplink=uplink,
    )


def _call(
    vendor: HotspotVendor,
    method: Callable[[SnmpTable], T],
    values: SnmpTable,
    on_error: VendorErrorHandler | None,
) -> T | None:
    if on_error is None:
        return method(values)
    try:
        return method(values)
    except Exception as exc:
        on_error(vendor, getattr(method, "__name__", "?"), exc)
        return None


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    return first[:MODEL_MAX_LENGTH]
