"""The hotspot device kind: wifi access points and hotspot routers polled over SNMP."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from ocrfleet.plugin import (
    UPLINK_DOWN,
    Aggregation,
    Catalog,
    CheckSource,
    DemoDevice,
    DeviceKind,
    FigureSpec,
    InternetCheck,
    KindExtension,
    MetricSpec,
    PluginConflictError,
    RateLimitedLog,
    Sample,
    SimulationContext,
    Simulator,
    SnmpDeviceOptions,
    StatusCard,
    Text,
)
from ocrfleet_hotspot import oids
from ocrfleet_hotspot.card import hotspot_card
from ocrfleet_hotspot.parse import build_reading
from ocrfleet_hotspot.reading import HotspotReading, Interface, Uplink
from ocrfleet_hotspot.vendors.base import HotspotVendor, as_text
from ocrfleet_hotspot.vendors.generic import GenericVendor

_ = Catalog("ocrfleet_hotspot")

if TYPE_CHECKING:
    from ocrfleet.plugin import DeviceInfo, DeviceView, SnmpClient

log = logging.getLogger(__name__)

AUTO = "auto"
_VENDOR_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

UPTIME = "ocrfleet_hotspot_uptime_seconds"
RESTARTS = "ocrfleet_hotspot_restarts_total"
CLIENTS = "ocrfleet_hotspot_clients"
INTERFACE_UP = "ocrfleet_hotspot_interface_up"
INFO = "ocrfleet_hotspot_info"
UPLINK_UP = "ocrfleet_hotspot_uplink_up"
# A name longer than any agent's DisplayString (255) is a typo, not a name.
_UPLINK_NAME_MAX = 255

# Every demo location has public wifi; demo.py plays each by its model's vendor.
_DEMO_HOTSPOTS = tuple(
    DemoDevice(site, "wifi-01", model, bought, snmp_agent=True)
    for site, model, bought in (
        ("vlaminggem-library", "Ubiquiti UniFi nanoHD", "2022-02-01"),
        ("vlaminggem-welfare", "MikroTik cAP ac", "2021-04-01"),
        ("zonnedorp-library", "Ubiquiti UniFi nanoHD", "2023-01-20"),
        ("boskerke-service-centre", "Cisco CBW240AC", "2020-11-02"),
        ("overbrugge-neighbourhood-house", "MikroTik cAP ac", "2021-02-01"),
    )
)


class UnknownVendorError(ValueError):
    """A device's `vendor` option names no registered vendor."""


class HotspotOptions(SnmpDeviceOptions):
    vendor: str = Field(
        default=AUTO,
        pattern=_VENDOR_NAME.pattern,
        description='"auto" (the first vendor that recognises the device, else "generic"), '
        "or a vendor's name to force it",
    )
    uplink_interfaces: tuple[str, ...] = Field(
        default=(),
        description="interface names (ifName, ifDescr or ifAlias) that are the uplinks; "
        "when given, no other interface counts as one",
    )
    radio_interfaces: tuple[str, ...] = Field(
        default=(),
        description="interface names that are the radios; when given, no other "
        "interface counts as one",
    )
    uplink_interface: str | int | None = Field(
        default=None,
        description="the interface that leads to the internet, whose state is the "
        "hotspot's uplink: its ifName, ifDescr or ifAlias (exactly), or its ifIndex "
        "as a number; default: the vendor's own WAN state or WAN interface, if any",
    )

    @field_validator("uplink_interface", mode="before")
    @classmethod
    def _uplink_name_or_index(cls, value: object) -> object:
        # TOML true would pass as the ifIndex 1, and 2.0 as 2: neither is meant.
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError("must be an interface name (text) or an ifIndex (a whole number)")
        if isinstance(value, int) and not 1 <= value <= 2_147_483_647:
            raise ValueError(f"ifIndex {value} is out of range (1 to 2147483647)")
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("must not be empty")
            if len(value) > _UPLINK_NAME_MAX:
                raise ValueError(f"is longer than {_UPLINK_NAME_MAX} characters")
        return value

    @field_validator("vendor")
    @classmethod
    def _registered_vendor(cls, value: str, info: ValidationInfo) -> str:
        # Vendors are plugins, so only the kind knows them; a loader that
        # passes the kind as validation context gets the check at load time.
        # Without it, HotspotKind.poll checks.
        context = info.context if isinstance(info.context, dict) else {}
        kind = context.get("kind")
        if isinstance(kind, HotspotKind):
            kind.check_vendor(value)
        return value

    @model_validator(mode="after")
    def _roles_apart(self) -> HotspotOptions:
        both = sorted(set(self.uplink_interfaces) & set(self.radio_interfaces))
        if both:
            raise ValueError(f"interfaces listed as both uplink and radio: {', '.join(both)}")
        uplink = self.uplink_interface
        if isinstance(uplink, str) and uplink in self.radio_interfaces:
            raise ValueError(f"uplink_interface {uplink!r} is also listed in radio_interfaces")
        return self


class HotspotKind(DeviceKind):
    """Extensions: KindExtension(kind="hotspot", implementation=<a HotspotVendor>)."""

    name: ClassVar[str] = "hotspot"
    # What the monthly report calls the kind.
    title: ClassVar[Text] = _("Wifi hotspot")
    source: ClassVar[str | None] = "snmp"
    description: ClassVar[str] = (
        "wifi hotspot or access point polled over SNMP: uptime, restarts, radios, "
        "uplink and (with a vendor) clients"
    )
    options_model: ClassVar[type[BaseModel]] = HotspotOptions
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec(
            UPTIME,
            "Seconds since the hotspot booted (HOST-RESOURCES hrSystemUptime, else "
            "sysUpTime); wraps after about 497 days, so alert on restarts_total instead.",
        ),
        MetricSpec(
            RESTARTS,
            "Restarts seen since ocrfleet started: uptime that went back between two polls "
            "(a 32-bit counter wrap is not one).",
            type="counter",
        ),
        MetricSpec(
            CLIENTS,
            "Wifi clients associated now, as the vendor counts them; absent when the "
            "vendor gives no count.",
        ),
        MetricSpec(
            INTERFACE_UP,
            "1 when a radio or uplink interface is operationally up, else 0; interfaces "
            "set administratively down are left out.",
            labels=("interface", "role"),
        ),
        MetricSpec(
            INFO,
            "The vendor module and the model the hotspot reports; the value is always 1.",
            labels=("vendor", "model"),
        ),
        MetricSpec(
            UPLINK_UP,
            "1 when the hotspot's way to the internet is up (its uplink_interface, else "
            "the vendor's WAN state or WAN interface), 0 when down; absent when the "
            "device does not tell.",
        ),
    )
    figure_specs: ClassVar[Sequence[FigureSpec]] = (
        FigureSpec("wifi_clients_peak", _("Peak wifi clients"), CLIENTS, Aggregation.PEAK),
    )

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._vendors: dict[str, HotspotVendor] = {}
        self._generic = GenericVendor()
        self._monotonic = monotonic
        self._log = RateLimitedLog(log, interval=600.0)

    # -- vendors -----------------------------------------------------------

    def extend(self, extension: KindExtension) -> None:
        vendor = extension.implementation
        if extension.kind != self.name or not isinstance(vendor, HotspotVendor):
            raise TypeError(
                f"extension {extension.name!r} of kind {extension.kind!r}: the hotspot kind "
                "takes KindExtension(kind='hotspot', implementation=<HotspotVendor>), "
                f"not {type(vendor).__name__}"
            )
        if not isinstance(getattr(vendor, "name", None), str) or not _VENDOR_NAME.match(
            vendor.name
        ):
            raise TypeError(
                f"hotspot vendor {type(vendor).__name__} needs a name of lower-case letters, "
                "digits, - and _"
            )
        if extension.name != vendor.name:
            raise TypeError(
                f"extension name {extension.name!r} differs from its vendor's name {vendor.name!r}"
            )
        if vendor.name in (AUTO, self._generic.name) or vendor.name in self._vendors:
            raise PluginConflictError(f"hotspot vendor {vendor.name!r} is already taken")
        self._vendors[vendor.name] = vendor

    @property
    def vendors(self) -> tuple[HotspotVendor, ...]:
        """Registered vendors in the order auto-detection tries them."""
        return tuple(self._vendors.values())

    @property
    def vendor_names(self) -> tuple[str, ...]:
        return (*self._vendors, self._generic.name)

    def check_vendor(self, option: str) -> None:
        if option != AUTO and option not in self.vendor_names:
            raise UnknownVendorError(
                f"unknown hotspot vendor {option!r} (known: {AUTO}, {', '.join(self.vendor_names)})"
            )

    def select_vendor(self, option: str, sys_object_id: str, sys_descr: str) -> HotspotVendor:
        """The vendor named by the option, or the first that recognises the device."""
        self.check_vendor(option)
        if option == self._generic.name:
            return self._generic
        if option != AUTO:
            return self._vendors[option]
        for vendor in self._vendors.values():
            try:
                if vendor.matches(sys_object_id, sys_descr):
                    return vendor
            except Exception:
                self._vendor_failed(vendor, "matches", "it is skipped")
        return self._generic

    def _vendor_failed(self, vendor: HotspotVendor, method: str, consequence: str) -> None:
        self._log.error(
            f"vendor:{vendor.name}:{method}",
            "hotspot vendor %r failed in %s(); %s",
            vendor.name,
            method,
            consequence,
            exc_info=True,
        )

    # -- polling -----------------------------------------------------------

    async def poll(self, device: DeviceInfo, snmp: SnmpClient, previous: object | None) -> object:
        options: HotspotOptions = device.options
        # Before any request: a misspelt vendor is a configuration error,
        # not a network one.
        self.check_vendor(options.vendor)
        system = await snmp.get(oids.SYSTEM_SCALARS)
        vendor = self.select_vendor(
            options.vendor,
            as_text(system.get(oids.SYS_OBJECT_ID)),
            as_text(system.get(oids.SYS_DESCR)),
        )
        values = dict(system)
        values.update(await snmp.walk_all((*oids.INTERFACE_COLUMNS, *vendor.walk_roots)))
        if vendor.get_oids:
            values.update(await snmp.get(list(vendor.get_oids)))
        reading = build_reading(
            values,
            vendor,
            previous=previous,
            now=self._monotonic(),
            uplinks=options.uplink_interfaces,
            radios=options.radio_interfaces,
            uplink_interface=options.uplink_interface,
            on_vendor_error=lambda vendor, method, _exc: self._vendor_failed(
                vendor, method, "what it gives counts as unknown"
            ),
        )
        if reading.uplink is not None and reading.uplink.missing:
            # Not a poll failure: the rest of the reading is good. The rule
            # hotspot_uplink_missing tells IT; the log says where to look.
            self._log.warning(
                f"uplink-missing:{device.key}",
                "hotspot %s: options.uplink_interface = %r: %s; its uplink counts as unknown",
                device.key,
                options.uplink_interface,
                reading.uplink.detail,
            )
        return reading

    # -- demo --------------------------------------------------------------

    def demo_devices(self) -> Sequence[DemoDevice]:
        return _DEMO_HOTSPOTS

    def demo_recording(self, device: DeviceInfo, context: SimulationContext) -> str | None:
        from ocrfleet_hotspot import demo

        return demo.demo_recording(device, context)

    def simulator(self, device: DeviceInfo, context: SimulationContext) -> Simulator | None:
        from ocrfleet_hotspot import demo

        return demo.simulator(device, context)

    # -- metrics and probe -------------------------------------------------

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        reading = device.reading
        if not isinstance(reading, HotspotReading):
            return
        # A counter must not vanish while the device is down.
        yield Sample(RESTARTS, float(reading.restarts))
        yield Sample(INFO, 1.0, (reading.vendor, reading.model))
        if device.failure is not None:
            return  # the rest describes a device that has stopped answering
        if reading.uptime_seconds is not None:
            yield Sample(UPTIME, reading.uptime_seconds)
        if reading.clients is not None:
            yield Sample(CLIENTS, float(reading.clients))
        for label, interface in interface_labels(reading.interfaces):
            yield Sample(INTERFACE_UP, 1.0 if interface.oper_up else 0.0, (label, interface.role))
        uplink = reading.uplink
        if uplink is not None and uplink.state != "unknown":
            yield Sample(UPLINK_UP, 1.0 if uplink.state == "up" else 0.0)

    def internet_check(self, device: DeviceView) -> InternetCheck | None:
        """The uplink's state at the last poll that answered; None when unknown.

        An uplink that is up proves the first hop only (CheckSource.UPLINK).
        """
        reading = device.reading
        if not isinstance(reading, HotspotReading) or device.failure is not None:
            return None
        uplink = reading.uplink
        if uplink is None or uplink.state == "unknown" or device.reading_at is None:
            return None
        up = uplink.state == "up"
        return InternetCheck(
            ok=up,
            checked_at=device.reading_at,
            error="" if up else UPLINK_DOWN,
            detail=describe_uplink(uplink),
            source=CheckSource.UPLINK,
        )

    def status_card(self, device: DeviceView) -> StatusCard:
        return hotspot_card(device, device.reading)

    def describe(self, reading: object) -> str:
        if not isinstance(reading, HotspotReading):
            return repr(reading)
        vendor = self._vendors.get(reading.vendor, self._generic)
        title = f" ({vendor.title})" if vendor.name == reading.vendor and vendor.title else ""
        uptime = (
            f"{_duration(reading.uptime_seconds)} ({reading.uptime_source})"
            if reading.uptime_seconds is not None
            else "unknown"
        )
        clients = str(reading.clients) if reading.clients is not None else "no count (vendor)"
        lines = [
            f"vendor    {reading.vendor}{title}",
            f"model     {reading.model or '-'}",
            f"sysName   {reading.sys_name or '-'}",
            f"uptime    {uptime}",
            f"restarts  {reading.restarts} since ocrfleet started",
            f"clients   {clients}",
            f"uplink    {describe_uplink(reading.uplink) if reading.uplink else 'unknown'}",
            "",
        ]
        rows = [("ifIndex", "name", "ifType", "role", "admin", "oper", "metric")]
        reported = {id(i) for _, i in interface_labels(reading.interfaces)}
        for i in reading.interfaces:
            rows.append(
                (
                    str(i.index) if i.index else "-",
                    i.name + (f" ({i.alias})" if i.alias and i.alias != i.name else ""),
                    str(i.type) if i.type is not None else "-",
                    i.role,
                    "up" if i.admin_up else "down",
                    ("up" if i.oper_up else "down") + (" (vendor)" if i.oper_from_vendor else ""),
                    "yes" if id(i) in reported else "",
                )
            )
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        for row in rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        return "\n".join(line.rstrip() for line in lines)


def describe_uplink(uplink: Uplink) -> str:
    """One line for IT: the state, what was read, and why."""
    if uplink.missing:
        return f"unknown: uplink_interface {uplink.missing!r}: {uplink.detail}"
    if uplink.source == "vendor":
        return f"{uplink.state} ({uplink.detail})"
    chosen = "uplink_interface" if uplink.configured else "vendor's default"
    return f"{uplink.state} ({uplink.interface}, ifIndex {uplink.index}, {chosen}, {uplink.detail})"


def interface_labels(interfaces: Iterable[Interface]) -> list[tuple[str, Interface]]:
    """The radios and uplinks that make ocrfleet_hotspot_interface_up series, with their label.

    Administratively disabled interfaces are meant to be down, so they are
    left out. Names are not unique on every device (HiveOS has two wifi1.1);
    a repeated name gets its ifIndex appended so series never collide.
    """
    chosen = [i for i in interfaces if i.role in ("radio", "uplink") and i.admin_up]
    counts: dict[str, int] = {}
    for i in chosen:
        counts[i.name] = counts.get(i.name, 0) + 1
    return [(f"{i.name}#{i.index}" if counts[i.name] > 1 else i.name, i) for i in chosen]


def _duration(seconds: float) -> str:
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
