"""Printer vendors: what one maker's firmware says differently from the Printer-MIB.

Each bundled vendor lives in its own module; they are registered through the
`ocrfleet_kind_extensions` hook by this package's plugin, exactly as a
third-party vendor plugin registers its own.
"""

from __future__ import annotations

from ocrfleet_printer.vendors.base import GenericVendor, PrinterVendor
from ocrfleet_printer.vendors.ricoh import RicohVendor

__all__ = ["GenericVendor", "PrinterVendor", "RicohVendor", "bundled_vendors"]


def bundled_vendors() -> list[PrinterVendor]:
    return [RicohVendor()]
