"""SNMP values as plain Python, so device kinds never touch pysnmp types."""

from __future__ import annotations

from collections.abc import Mapping

from ocrfleet.sources import PollError

# int for INTEGER, Counter, Gauge, TimeTicks; bytes for OCTET STRING; str for
# OBJECT IDENTIFIER and IpAddress; None for noSuchObject/noSuchInstance.
SnmpValue = int | bytes | str | None
SnmpTable = Mapping[str, SnmpValue]


class SnmpError(PollError):
    """A request that produced no answer. `reason` is a fixed word for metrics."""

    # "truncated" and "malformed": the agent's address answered only with
    # datagrams that do not decode (ocrfleet/snmp/udp.py).
    REASONS = (
        "timeout",
        "truncated",
        "malformed",
        "auth",
        "refused",
        "protocol",
        "unreachable",
        "error",
    )


def column(table: SnmpTable, column_oid: str) -> dict[str, SnmpValue]:
    """The cells of one table column, keyed by row index (the OID suffix)."""
    prefix = column_oid + "."
    return {oid[len(prefix) :]: value for oid, value in table.items() if oid.startswith(prefix)}
