"""Names of the standard notifications, for log lines and a metric label.

Only the generic ones of SNMPv2-MIB (RFC 3418), IF-MIB (RFC 2863) and the
Printer-MIB (RFC 3805): what a trap means for one device kind is its
plugin's business, and any trap from a known device triggers a poll. The
table is small and fixed so the label has a bounded set of values.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

OTHER: Final = "other"

STANDARD_TRAPS: Final = MappingProxyType(
    {
        "1.3.6.1.6.3.1.1.5.1": "coldStart",
        "1.3.6.1.6.3.1.1.5.2": "warmStart",
        "1.3.6.1.6.3.1.1.5.3": "linkDown",
        "1.3.6.1.6.3.1.1.5.4": "linkUp",
        "1.3.6.1.6.3.1.1.5.5": "authenticationFailure",
        # printerV2Alert; a v1 printerV1Alert (enterprise 1.3.6.1.2.1.43.18.2,
        # specific-trap 1) is translated to the same OID by RFC 3584.
        "1.3.6.1.2.1.43.18.2.0.1": "printerAlert",
    }
)


def trap_name(trap_oid: str) -> str:
    """The standard notification's name, or "other"."""
    return STANDARD_TRAPS.get(trap_oid, OTHER)


def trap_names() -> tuple[str, ...]:
    """Every value trap_name can give."""
    return (*STANDARD_TRAPS.values(), OTHER)
