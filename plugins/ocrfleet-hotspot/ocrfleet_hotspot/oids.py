"""Numeric OIDs of the standard MIBs the hotspot kind reads.

Numeric because the daemon never loads MIB modules at run time (see
ocrfleet.snmp.client). Each is checked against the RFC named beside it;
vendor OIDs live with their vendor in `ocrfleet_hotspot.vendors`.
"""

from __future__ import annotations

# SNMPv2-MIB, RFC 3418: system = mib-2 1.
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
# TimeTicks (1/100 s) since the *agent* was (re)initialised.
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"

# HOST-RESOURCES-MIB, RFC 2790: hrSystem = host(mib-2 25) 1. TimeTicks since
# the *host* booted; unlike sysUpTime it does not go back when only the SNMP
# agent restarts (e.g. after a configuration change on the AP).
HR_SYSTEM_UPTIME = "1.3.6.1.2.1.25.1.1.0"

# IF-MIB, RFC 2863: ifTable = interfaces(mib-2 2) 2, ifEntry 1.
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
IF_DESCR = f"{IF_ENTRY}.2"
IF_TYPE = f"{IF_ENTRY}.3"
IF_ADMIN_STATUS = f"{IF_ENTRY}.7"
IF_OPER_STATUS = f"{IF_ENTRY}.8"

# IF-MIB, RFC 2863: ifXTable = ifMIBObjects(ifMIB = mib-2 31, 1) 1, ifXEntry 1.
IF_X_ENTRY = "1.3.6.1.2.1.31.1.1.1"
IF_NAME = f"{IF_X_ENTRY}.1"
IF_ALIAS = f"{IF_X_ENTRY}.18"

SYSTEM_SCALARS = (SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME, HR_SYSTEM_UPTIME)
# Whole columns rather than whole tables: an AP's ifTable has some twenty
# columns per row, of which these are all that is needed.
INTERFACE_COLUMNS = (IF_DESCR, IF_TYPE, IF_ADMIN_STATUS, IF_OPER_STATUS, IF_NAME, IF_ALIAS)

# ifAdminStatus and ifOperStatus: up(1); everything else (down, testing,
# unknown, dormant, notPresent, lowerLayerDown) cannot pass traffic.
STATUS_UP = 1

# IANAifType-MIB values used to tell radios from uplinks.
IFTYPE_OTHER = 1
IFTYPE_ETHERNET_CSMACD = 6
IFTYPE_ISO88023_CSMACD = 7
IFTYPE_PPP = 23
IFTYPE_SOFTWARE_LOOPBACK = 24
IFTYPE_PROP_VIRTUAL = 53
IFTYPE_FAST_ETHER = 62
IFTYPE_FAST_ETHER_FX = 69
IFTYPE_IEEE80211 = 71
IFTYPE_GIGABIT_ETHERNET = 117
IFTYPE_TUNNEL = 131
IFTYPE_L2VLAN = 135
IFTYPE_IEEE8023AD_LAG = 161
IFTYPE_BRIDGE = 209

# TimeTicks is a 32-bit unsigned counter of hundredths of a second: it wraps
# to 0 after 2**32 ticks, about 497 days.
TIMETICKS_MODULUS = 2**32
TICKS_PER_SECOND = 100
