"""MikroTik RouterOS (MIKROTIK-MIB, wireless package and CAPsMAN).

OIDs from MIKROTIK-MIB: mikrotik = enterprises 14988,
mikrotikExperimentalModule = mikrotik 1, mtXRouterOs = that 1, mtxrWireless =
mtXRouterOs 1; under it mtxrWlRtabTable 2, mtxrWlApTable 3 and
mtxrWlCMRtabTable 5, each with its entry at .1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ocrfleet.plugin import SnmpTable, column
from ocrfleet_hotspot.vendors.base import HotspotVendor, as_int, split_mac_index

MIKROTIK = "1.3.6.1.4.1.14988"
MTXR_WIRELESS = f"{MIKROTIK}.1.1.1"
# Registration table, indexed by the station's MAC address and the local
# interface; mtxrWlRtabStrength is walked only for the indexes.
MTXR_WL_RTAB_STRENGTH = f"{MTXR_WIRELESS}.2.1.3"
# One row per interface in access-point mode, indexed by ifIndex.
MTXR_WL_AP_CLIENT_COUNT = f"{MTXR_WIRELESS}.3.1.6"
# CAPsMAN registration table (clients of the access points this router
# manages), indexed by MAC address and CAPsMAN interface; walked for indexes.
MTXR_WL_CM_RTAB_UPTIME = f"{MTXR_WIRELESS}.5.1.3"


class MikrotikVendor(HotspotVendor):
    """Clients = distinct station MAC addresses registered on access-point interfaces.

    The registration table also lists the links of interfaces in station or
    WDS mode (this router as someone else's client); only rows on an
    interface of mtxrWlApTable count. Counting MAC addresses rather than
    adding mtxrWlApClientCount per interface keeps a station that is briefly
    registered on two interfaces (roaming between bands or virtual APs) from
    counting twice, and lets the CAPsMAN table join in without overlap.
    """

    name = "mikrotik"
    title = "MikroTik RouterOS"
    walk_roots: Sequence[str] = (
        MTXR_WL_AP_CLIENT_COUNT,
        MTXR_WL_RTAB_STRENGTH,
        MTXR_WL_CM_RTAB_UPTIME,
    )

    # MIKROTIK-MIB has no WAN state, so the uplink is ifOperStatus of the way
    # out: a PPPoE session (running only while the line is up), an LTE modem,
    # else ether1, the WAN port of RouterOS's default router configuration.
    default_uplinks: Sequence[str] = ("pppoe-out1", "lte1", "ether1")

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        return sys_object_id == MIKROTIK or sys_object_id.startswith(MIKROTIK + ".")

    def clients(self, values: SnmpTable) -> int | None:
        access_points = column(values, MTXR_WL_AP_CLIENT_COUNT)
        capsman = _macs(column(values, MTXR_WL_CM_RTAB_UPTIME))
        if not access_points and not capsman:
            return None  # no interface serves clients: there is nothing to count
        registrations = column(values, MTXR_WL_RTAB_STRENGTH)
        if not registrations:
            # An agent without the registration table: its per-interface
            # counts are the best there is.
            local = sum(max(as_int(v) or 0, 0) for v in access_points.values())
            return local + len(capsman)
        stations = set(capsman)
        for index in registrations:
            split = split_mac_index(index)
            if split is not None and split[1] in access_points:
                stations.add(split[0])
        return len(stations)

    def oper_overrides(self, values: SnmpTable) -> Mapping[int, bool]:
        # RouterOS (wireless package) reports an access-point interface as
        # not running, so ifOperStatus down, while no client is registered:
        # an empty library at night would look like dead radios. An
        # interface listed in mtxrWlApTable is enabled and in AP mode.
        return {
            int(index): True for index in column(values, MTXR_WL_AP_CLIENT_COUNT) if index.isdigit()
        }


def _macs(rows: SnmpTable) -> set[str]:
    found = set()
    for index in rows:
        split = split_mac_index(index)
        if split is not None:
            found.add(split[0])
    return found
