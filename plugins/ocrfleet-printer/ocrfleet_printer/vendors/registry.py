"""The printer vendors a kind knows, and which one serves a printer."""

from __future__ import annotations

from ocrfleet.plugin import PluginConflictError
from ocrfleet_printer.vendors.base import GenericVendor, PrinterVendor, valid_name

AUTO = "auto"


class UnknownVendorError(ValueError):
    """A device's `vendor` option names no registered vendor."""


class PrinterVendors:
    """Registered vendors in registration order, and the generic one behind them."""

    def __init__(self) -> None:
        self._vendors: dict[str, PrinterVendor] = {}
        self.generic: PrinterVendor = GenericVendor()

    def add(self, vendor: object) -> None:
        if not isinstance(vendor, PrinterVendor):
            raise TypeError(
                "the printer kind takes KindExtension(kind='printer', "
                f"implementation=<PrinterVendor>), not {type(vendor).__name__}"
            )
        if not valid_name(getattr(vendor, "name", None)):
            raise TypeError(
                f"printer vendor {type(vendor).__name__} needs a name of lower-case letters, "
                "digits, - and _ (at most 32)"
            )
        if vendor.name in (AUTO, self.generic.name) or vendor.name in self._vendors:
            raise PluginConflictError(f"printer vendor {vendor.name!r} is already taken")
        self._vendors[vendor.name] = vendor

    @property
    def names(self) -> tuple[str, ...]:
        return (*self._vendors, self.generic.name)

    def get(self, name: str) -> PrinterVendor | None:
        return self.generic if name == self.generic.name else self._vendors.get(name)

    def check(self, option: str) -> None:
        if option != AUTO and option not in self.names:
            raise UnknownVendorError(
                f"unknown printer vendor {option!r} (known: {AUTO}, {', '.join(self.names)})"
            )

    def named(self, name: str) -> PrinterVendor:
        vendor = self.get(name)
        if vendor is None:
            self.check(name)
            raise UnknownVendorError(f"{name!r} names no printer vendor")
        return vendor

    def by_object_id(self, sys_object_id: str) -> PrinterVendor | None:
        """The vendor with the longest enterprise prefix of sysObjectID; ties go to the first."""
        best: PrinterVendor | None = None
        best_length = -1
        for vendor in self._vendors.values():
            for prefix in vendor.enterprises:
                under = sys_object_id == prefix or sys_object_id.startswith(prefix + ".")
                if under and len(prefix) > best_length:
                    best, best_length = vendor, len(prefix)
        return best

    @property
    def match_device_descr(self) -> bool:
        """Whether any vendor is recognised by hrDeviceDescr (worth fetching it)."""
        return any(v.device_descr is not None for v in self._vendors.values())

    def by_device_descr(self, device_descr: str) -> PrinterVendor | None:
        for vendor in self._vendors.values():
            if vendor.device_descr is not None and vendor.device_descr.search(device_descr):
                return vendor
        return None
