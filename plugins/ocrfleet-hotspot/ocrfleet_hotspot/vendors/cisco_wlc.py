"""Cisco wireless LAN controllers (AIRESPACE-WIRELESS-MIB).

AireOS controllers, Mobility Express and Cisco Business Wireless. OIDs from
AIRESPACE-WIRELESS-MIB: bsnWireless = airespace(enterprises 14179) 2, bsnAP
= bsnWireless 2, bsnAPIfTable = bsnAP 2, bsnAPIfEntry = bsnAPIfTable 1
(indexed by the AP's MAC address and the radio slot), bsnApIfNoOfUsers =
bsnAPIfEntry 15.
"""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import SnmpTable, column
from ocrfleet_hotspot.vendors.base import HotspotVendor, as_int

AIRESPACE = "1.3.6.1.4.1.14179"
CISCO = "1.3.6.1.4.1.9"
BSN_AP_IF_NO_OF_USERS = f"{AIRESPACE}.2.2.2.1.15"

# Newer controllers answer with a Cisco product OID; their sysDescr says
# what they are.
_CONTROLLER_DESCRIPTIONS = ("Cisco Controller", "Cisco Business Wireless")


class CiscoWlcVendor(HotspotVendor):
    """Clients = the sum of bsnApIfNoOfUsers over every radio of every joined AP.

    A client is associated with one radio of one AP at a time, so the
    per-radio counts add up to the controller's clients without overlap.
    """

    name = "cisco-wlc"
    title = "Cisco WLC (Airespace)"
    walk_roots: Sequence[str] = (BSN_AP_IF_NO_OF_USERS,)
    # AIRESPACE-WIRELESS-MIB has no WAN state, and the controller's Ethernet
    # port is the way the daemon reaches it: up whenever it answers. Only an
    # `uplink_interface` in the options says more.
    default_uplinks: Sequence[str] = ()

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        if sys_object_id == AIRESPACE or sys_object_id.startswith(AIRESPACE + "."):
            return True
        return sys_object_id.startswith(CISCO + ".") and sys_descr.startswith(
            _CONTROLLER_DESCRIPTIONS
        )

    def clients(self, values: SnmpTable) -> int | None:
        users = column(values, BSN_AP_IF_NO_OF_USERS)
        if not users:
            return None
        return sum(max(as_int(v) or 0, 0) for v in users.values())
