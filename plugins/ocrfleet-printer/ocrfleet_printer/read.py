"""One poll of a printer: what is read, in which order, and which vendor decodes it.

The standard OIDs come first and are the same for every printer; the vendor
is chosen from what they return, and only then are its own OIDs read. A
vendor whose code fails costs only its refinements: the reading is decoded
again the generic way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from ocrfleet.plugin import RateLimitedLog, SnmpTable, SnmpValue
from ocrfleet_printer import oids
from ocrfleet_printer.decode import text
from ocrfleet_printer.parse import parse_reading, printer_device_index
from ocrfleet_printer.reading import PrinterReading
from ocrfleet_printer.vendors.base import PrinterVendor
from ocrfleet_printer.vendors.registry import AUTO, PrinterVendors


class SnmpReader(Protocol):
    """What a poll needs of its client: the SNMP client's GET and walk."""

    async def get(self, oids: Sequence[str]) -> Mapping[str, SnmpValue]: ...

    async def walk_all(self, roots: Iterable[str]) -> Mapping[str, SnmpValue]: ...


async def read_printer(
    snmp: SnmpReader, vendors: PrinterVendors, option: str, previous: object | None
) -> tuple[dict[str, SnmpValue], PrinterVendor]:
    """Every value one poll reads (OID -> value), and the vendor that serves the printer."""
    # Before any request: a misspelt vendor is a configuration error, not a network one.
    vendors.check(option)
    # Scalars first: a printer that does not answer fails here after one
    # timeout, instead of once per table.
    values = dict(await snmp.get(oids.SCALARS))
    values.update(await snmp.walk_all(oids.WALKED_TABLES))
    vendor = await _choose(snmp, vendors, option, values, previous)
    if vendor.walk_roots:
        values.update(await snmp.walk_all(vendor.walk_roots))
    if vendor.get_oids:
        values.update(await snmp.get(list(vendor.get_oids)))
    return values, vendor


async def _choose(
    snmp: SnmpReader,
    vendors: PrinterVendors,
    option: str,
    values: dict[str, SnmpValue],
    previous: object | None,
) -> PrinterVendor:
    if option != AUTO:
        return vendors.named(option)
    raw_object_id = values.get(oids.SYS_OBJECT_ID)
    object_id = raw_object_id if isinstance(raw_object_id, str) else ""
    found = vendors.by_object_id(object_id)
    if found is not None or not vendors.match_device_descr:
        return found or vendors.generic
    # hrDeviceDescr does not change while sysObjectID stays the same, so it
    # is fetched on the first poll only, not on every one.
    if isinstance(previous, PrinterReading) and previous.object_id == object_id:
        kept = vendors.get(previous.vendor)
        if kept is not None:
            return kept
    descr_oid = f"{oids.HR_DEVICE_DESCR}.{printer_device_index(values)}"
    values.update(await snmp.get([descr_oid]))
    return vendors.by_device_descr(text(values.get(descr_oid))) or vendors.generic


def decode_reading(
    values: SnmpTable,
    vendor: PrinterVendor,
    generic: PrinterVendor,
    low_fraction: float,
    log: RateLimitedLog,
) -> PrinterReading:
    """The reading as `vendor` decodes it, or as `generic` does when the vendor's code fails."""
    try:
        return parse_reading(values, low_fraction, vendor)
    except Exception:
        if vendor is generic:
            raise
        log.error(
            f"vendor:{vendor.name}",
            "printer vendor %r failed to decode a reading; it is read the generic way",
            vendor.name,
            exc_info=True,
        )
        return parse_reading(values, low_fraction, generic)
