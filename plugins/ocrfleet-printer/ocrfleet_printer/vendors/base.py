"""The interface a printer vendor implements; its defaults are the generic Printer-MIB reading.

Every printer is read with the standard MIBs. A vendor changes only what its
firmware says differently: how its strings decode, which words in its supply
descriptions name a colour or a waste receptacle, how its error state reads,
and which of its own OIDs add to the reading. Whatever a vendor leaves alone
stays generic, so a vendor module holds its quirks and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from ocrfleet.plugin import SnmpTable, SnmpValue
from ocrfleet_printer import decode
from ocrfleet_printer.reading import PrinterReading

# Colour words in supply descriptions, for printers without a colorant table.
# Longer names first, so "light cyan" wins over "cyan". Dutch, French and
# German because that is what printers in Belgium answer in.
_COLOUR_WORDS: tuple[tuple[str, str], ...] = (
    ("matte black", "matte black"),
    ("photo black", "photo black"),
    ("light cyan", "light cyan"),
    ("light magenta", "light magenta"),
    ("black", "black"),
    ("cyan", "cyan"),
    ("magenta", "magenta"),
    ("yellow", "yellow"),
    ("zwart", "black"),
    ("zwarte", "black"),
    ("noir", "black"),
    ("noire", "black"),
    ("schwarz", "black"),
    ("schwarze", "black"),
    ("cyaan", "cyan"),
    ("geel", "yellow"),
    ("gele", "yellow"),
    ("jaune", "yellow"),
    ("gelb", "yellow"),
    ("gelbe", "yellow"),
)
_COLOUR_PATTERNS = tuple(
    (re.compile(rf"\b{re.escape(word)}\b"), colour) for word, colour in _COLOUR_WORDS
)
# For agents that report neither class nor an informative type.
_WASTE_WORDS = ("waste", "resttoner", "afval")

# Serial numbers at the end of descriptions (";SN..." as Xerox firmware
# writes them, "S/N:..." as Samsung's does): they change with every
# cartridge, which would start a new metric series each time. Generic rather
# than a vendor's, because rebadged devices (Dell, Fuji Xerox, HP's former
# Samsung range) answer with the same firmware under other enterprise
# numbers, and the pattern is too specific to cut an ordinary description.
_SERIAL = re.compile(r"(?:\s*;\s*SN\s*:?|[\s;,]+S/N\s*:?)\s*\S*\s*$")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def valid_name(name: object) -> bool:
    """Whether a vendor name is lower-case letters, digits, - and _, at most 32 characters."""
    return isinstance(name, str) and bool(_NAME.match(name))


def strip_serial(description: str) -> str:
    return _SERIAL.sub("", description).strip(" ,;")


class PrinterVendor:
    """How one vendor's printers differ from the Printer-MIB; every method has the generic default.

    A plugin registers an instance through the `ocrfleet_kind_extensions`
    hook as ``KindExtension(kind="printer", name=vendor.name,
    implementation=vendor)``. With `vendor = "auto"` (the default) a printer
    is served by the vendor whose `enterprises` prefix its sysObjectID falls
    under (the longest prefix wins), else by the first whose
    `device_descr` pattern finds the printer's hrDeviceDescr, else by the
    generic vendor. The methods run on the event loop for every poll: keep
    them cheap and free of I/O.
    """

    # Lower case letters, digits, - and _; what a configuration writes as
    # `vendor = "..."` and what `ocrfleet probe` shows.
    name: ClassVar[str]
    # For people, e.g. in `ocrfleet probe`.
    title: ClassVar[str] = ""
    # sysObjectID prefixes, e.g. "1.3.6.1.4.1.367" (an enterprise number).
    enterprises: ClassVar[Sequence[str]] = ()
    # Searched in the printer's hrDeviceDescr, for firmware that answers with
    # another maker's sysObjectID.
    device_descr: ClassVar[re.Pattern[str] | None] = None
    # Vendor OIDs read on every poll of a printer this vendor serves, after
    # the standard ones; their values reach `adjust`.
    walk_roots: ClassVar[Sequence[str]] = ()
    get_oids: ClassVar[Sequence[str]] = ()

    def text(self, value: SnmpValue) -> str:
        """An OCTET STRING (a description, a name) as one trimmed line of text."""
        return decode.text(value)

    def error_conditions(self, value: SnmpValue) -> frozenset[str] | None:
        """hrPrinterDetectedErrorState as condition names; None when not reported."""
        return decode.error_conditions(value)

    def supply_label(self, description: str) -> str:
        """The part of a supply's description that names it (before labels are made unique)."""
        return strip_serial(description)

    def colour(self, description: str) -> str | None:
        """The colour a supply's description names, for printers without a colorant table."""
        lowered = description.lower()
        for pattern, colour in _COLOUR_PATTERNS:
            if pattern.search(lowered):
                return colour
        return None

    def is_waste(self, description: str) -> bool:
        """Whether a description names a waste receptacle (used only without class or type)."""
        lowered = description.lower()
        return any(word in lowered for word in _WASTE_WORDS)

    def adjust(self, reading: PrinterReading, values: SnmpTable) -> PrinterReading:
        """The reading with what the vendor's own OIDs add or correct (use dataclasses.replace)."""
        return reading


class GenericVendor(PrinterVendor):
    """The Printer-MIB as RFC 3805 writes it: what serves a printer no vendor claims."""

    name = "generic"
    title = "Printer-MIB only"
