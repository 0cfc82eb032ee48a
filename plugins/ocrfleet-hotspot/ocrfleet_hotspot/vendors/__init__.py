"""Hotspot vendors: who counts the clients, and how.

Each bundled vendor lives in its own module; they are registered through
the `ocrfleet_kind_extensions` hook by this package's plugin, exactly as a
third-party vendor plugin would register its own.
"""

from __future__ import annotations

from ocrfleet_hotspot.vendors.base import HotspotVendor
from ocrfleet_hotspot.vendors.cisco_wlc import CiscoWlcVendor
from ocrfleet_hotspot.vendors.generic import GenericVendor
from ocrfleet_hotspot.vendors.mikrotik import MikrotikVendor
from ocrfleet_hotspot.vendors.unifi import UnifiVendor

__all__ = [
    "CiscoWlcVendor",
    "GenericVendor",
    "HotspotVendor",
    "MikrotikVendor",
    "UnifiVendor",
    "bundled_vendors",
]


def bundled_vendors() -> list[HotspotVendor]:
    return [UnifiVendor(), MikrotikVendor(), CiscoWlcVendor()]
