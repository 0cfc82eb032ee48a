"""The fallback for devices no vendor claims."""

from __future__ import annotations

from ocrfleet.plugin import SnmpTable
from ocrfleet_hotspot.vendors.base import HotspotVendor


class GenericVendor(HotspotVendor):
    """Standard MIBs only: uptime and interfaces, and no client count.

    The standard MIBs have no client count; guessing one (say, from ARP
    entries) would be wrong more often than not, so this reports None. Nor
    do they say which interface leads to the internet: without an
    `uplink_interface` in the options, the uplink is unknown.
    """

    name = "generic"
    title = "standard MIBs only (no client count)"

    def matches(self, sys_object_id: str, sys_descr: str) -> bool:
        return False  # never chosen by detection; it is what is left

    def clients(self, values: SnmpTable) -> int | None:
        return None
