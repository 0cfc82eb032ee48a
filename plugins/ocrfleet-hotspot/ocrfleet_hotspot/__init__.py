"""Wifi hotspots and access points: a device kind polled over SNMP.

Uptime and interfaces come from the standard MIBs every agent has; the number
of connected clients comes from a vendor (see `ocrfleet_hotspot.vendors`),
which any plugin can add through the `ocrfleet_kind_extensions` hook.
"""
