"""Ubiquiti UniFi access points (UBNT-UniFi-MIB).

The uplink is `unifiApSystemIsolated` (not answered by every firmware).

OIDs from UBNT-MIB (ubnt = enterprises 41112, ubntMIB = ubnt 1, ubntUniFi =
ubntMIB 6) and UBNT-UniFi-MIB (unifiApWireless = ubntUniFi 1, unifiVapTable
= unifiApWireless 2, unifiApSystem = ubntUniFi 3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ocrfleet.plugin import SnmpTable, column
from ocrfleet_hotspot.vendors.base import HotspotVendor, as_int, as_text

UBNT_UNIFI = "1.3.6.1.4.1.41112.1.6"
# unifiVapEntry: one row per BSS (SSID on one radio).
UNIFI_VAP_ENTRY = f"{UBNT_UNIFI}.1.2.1"
UNIFI_VAP_ESSID = f"{UNIFI_VAP_ENTRY}.6"
UNIFI_VAP_NUM_STATIONS = f"{UNIFI_VAP_ENTRY}.8"
UNIFI_AP_SYSTEM_MODEL = f"{UBNT_UNIFI}.3.3.0"
# unifiApSystemIsolated, a TruthValue: true(1) while the AP has lost its way
# to the network's gateway (UniFi calls such an AP "isolated").
UNIFI_AP_SYSTEM_ISOLATED = f"{UBNT_UNIFI}.3.2.0"
_TRUE, _FALSE = 1, 2

# UniFi firmware answers with the net-snmp Linux OID (or the older
# Frogfoot one) rather than Ubiquiti's, so the model prefix in sysDescr is
# what identifies it.
_OBJECT_ID_PREFIXES = (
    "1.3.6.1.4.1.41112.",
    "1.3.6.1.4.1.8072.3.2.10",
    "1.3.6.1.4.1.10002.1",
)
_MODEL_PREFIX = re.compile(r"^(?:UAP|U6|U7|U-LTE|E7)")
# The hidden wireless-uplink (mesh) BSS: its stations are downstream APs
# meshing through this one, not visitors.
_MESH_UPLINK_ESSID = "vwire-"


class UnifiVendor(HotspotVendor):
    """Clients = the sum of unifiVapNumStations over the BSSes.

    A station is associated with exactly one BSS at a time, so the per-BSS
    counts of the 2.4 and 5 GHz radios and of every SSID add up without
    counting anyone twice; only the mesh-uplink BSS is left out.
    """

    name = "unifi"
    title = "Ubiquiti UniFi"
    walk_roots: Sequence[str] = (UNIFI_VAP_ESSID, UNIFI_VAP_NUM_STATIONS)
    # In the request that fetches the model anyway: the uplink costs no extra one.
    get_oids: Sequence[str] = (UNIFI_AP_SYSTEM_MODEL, UNIFI_AP_SYSTEM_ISOLATED)
    # No default interface: an AP that answers over its eth0 has that link up,
    # and one that meshes has eth0 down while all is well.
    default_uplinks: Sequence[str] = ()

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        return sys_object_id.startswith(_OBJECT_ID_PREFIXES) and bool(
            _MODEL_PREFIX.match(sys_descr)
        )

    def clients(self, values: SnmpTable) -> int | None:
        stations = column(values, UNIFI_VAP_NUM_STATIONS)
        if not stations:
            return None
        essids = column(values, UNIFI_VAP_ESSID)
        total = 0
        for index, value in stations.items():
            count = as_int(value)
            if count is None or count < 0:
                continue
            if as_text(essids.get(index)).startswith(_MESH_UPLINK_ESSID):
                continue
            total += count
        return total

    def model(self, values: SnmpTable) -> str | None:
        return as_text(values.get(UNIFI_AP_SYSTEM_MODEL)) or None

    def uplink_up(self, values: SnmpTable) -> bool | None:
        isolated = as_int(values.get(UNIFI_AP_SYSTEM_ISOLATED))
        if isolated == _TRUE:
            return False
        if isolated == _FALSE:
            return True
        return None  # older firmware, or noSuchObject
