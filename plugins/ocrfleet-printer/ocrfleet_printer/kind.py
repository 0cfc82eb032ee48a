"""The printer device kind: polled over SNMP, rendered as Prometheus samples.

While a printer does not answer, its last reading's samples stay (supply
levels do not change while it is off) and `ocrfleet_printer_status` says
"asleep" or "unreachable"; `ocrfleet_device_up` from the core is 0 either way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ocrfleet.plugin import (
    Aggregation,
    Catalog,
    DemoDevice,
    DeviceInfo,
    DeviceKind,
    DeviceView,
    FigureSpec,
    KindExtension,
    MetricSpec,
    RateLimitedLog,
    Sample,
    SimulationContext,
    Simulator,
    SnmpDeviceOptions,
    StatusCard,
    Text,
)
from ocrfleet_printer import oids
from ocrfleet_printer.card import printer_card
from ocrfleet_printer.describe import describe_reading
from ocrfleet_printer.parse import DEFAULT_LOW_FRACTION
from ocrfleet_printer.read import decode_reading, read_printer
from ocrfleet_printer.reading import (
    OUTPUT_STATES,
    PRINTER_STATUSES,
    SUPPLY_STATES,
    PrinterReading,
)
from ocrfleet_printer.sleep import expected_asleep, parse_window
from ocrfleet_printer.vendors.base import PrinterVendor
from ocrfleet_printer.vendors.registry import AUTO, PrinterVendors

_ = Catalog("ocrfleet_printer")

if TYPE_CHECKING:
    # pysnmp is loaded only when something is actually polled.
    from ocrfleet.plugin import SnmpClient

# Poll failures that mean "no answer at all"; an auth or protocol error comes
# from a printer that is awake, so it is never taken for sleep.
_SILENT_REASONS = frozenset({"timeout", "unreachable", "refused"})

log = logging.getLogger(__name__)

ALERT_LEVELS = ("critical", "warning", "other")
# The status and condition samples take a few values only: built once, not
# at every scrape of every printer (a scrape after a poll of every printer
# builds ~20,000 samples).
_STATUS_SAMPLES: Mapping[str, tuple[Sample, ...]] = MappingProxyType(
    {
        status: tuple(
            Sample("ocrfleet_printer_status", 1.0 if name == status else 0.0, (name,))
            for name in PRINTER_STATUSES
        )
        for status in PRINTER_STATUSES
    }
)
# A status no longer known (a reading stored by another version): all 0, as before.
_NO_STATUS_SAMPLES = tuple(
    Sample("ocrfleet_printer_status", 0.0, (name,)) for name in PRINTER_STATUSES
)
_CONDITION_SAMPLES: tuple[tuple[str, Sample, Sample], ...] = tuple(
    (
        condition,
        Sample("ocrfleet_printer_condition", 0.0, (condition,)),
        Sample("ocrfleet_printer_condition", 1.0, (condition,)),
    )
    for condition in oids.ERROR_STATE_BITS
)

# The busier demo locations have a printer; demo.py plays each by its site and model.
_DEMO_PRINTERS = (
    DemoDevice(
        "vlaminggem-library", "mfp-01", "Colour laser MFP (A3)", "2021-09-01", snmp_agent=True
    ),
    DemoDevice(
        "vlaminggem-welfare", "printer-01", "Mono laser printer", "2020-06-15", snmp_agent=True
    ),
    DemoDevice(
        "boskerke-service-centre", "printer-01", "Mono laser printer", "2019-10-01", snmp_agent=True
    ),
)


class PrinterOptions(SnmpDeviceOptions):
    low_fraction: float = Field(
        default=DEFAULT_LOW_FRACTION,
        ge=0,
        le=1,
        description="a supply or tray at or below this fraction of its capacity is 'low' "
        "(a receptacle with this little room left is 'nearly_full')",
    )
    sleep_hours: list[str] | None = Field(
        default=None,
        description='"HH:MM-HH:MM" windows (site time, may cross midnight) in which the '
        "printer may not answer; unset: it may not answer while its site is closed",
    )

    vendor: str = Field(
        default=AUTO,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
        description='"auto" (the vendor that recognises the printer, else "generic"), '
        "or a vendor's name to force it",
    )

    @field_validator("sleep_hours")
    @classmethod
    def _windows(cls, value: list[str] | None) -> list[str] | None:
        for window in value or ():
            parse_window(window)
        return value

    @field_validator("vendor")
    @classmethod
    def _registered_vendor(cls, value: str, info: ValidationInfo) -> str:
        # Vendors are plugins, so only the kind knows them; a loader that
        # passes the kind as validation context gets the check at load time.
        # Without it, the poll checks.
        context = info.context if isinstance(info.context, dict) else {}
        kind = context.get("kind")
        if isinstance(kind, PrinterKind):
            kind.vendors.check(value)
        return value


class PrinterKind(DeviceKind):
    name: ClassVar[str] = "printer"
    # What the monthly report calls the kind.
    title: ClassVar[Text] = _("Printer")
    source: ClassVar[str | None] = "snmp"
    description: ClassVar[str] = "network printer polled over SNMP (Printer-MIB, RFC 3805)"
    options_model: ClassVar[type[BaseModel]] = PrinterOptions
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec(
            "ocrfleet_printer_status",
            "1 for the printer's current status, 0 for the others: hrPrinterStatus "
            "(idle, printing, warmup, other, unknown), or asleep/unreachable when the "
            "last poll got no answer inside/outside its expected sleep.",
            labels=("status",),
        ),
        MetricSpec(
            "ocrfleet_printer_supply_level_ratio",
            "Fraction of a supply's capacity left to use, 0-1: material left for "
            "consumables, room left for receptacles (waste toner: 0.05 = 95 % full). "
            "Absent when the printer gives no exact level.",
            labels=("supply", "type", "color"),
        ),
        MetricSpec(
            "ocrfleet_printer_supply_state",
            "1 for a supply's current state, 0 for the others: ok, low, empty, "
            "nearly_full, full, some_remaining, unknown, other.",
            labels=("supply", "type", "color", "state"),
        ),
        MetricSpec(
            "ocrfleet_printer_condition",
            "1 while the printer reports the condition (hrPrinterDetectedErrorState), "
            "else 0; absent when the printer does not report conditions.",
            labels=("condition",),
        ),
        MetricSpec(
            "ocrfleet_printer_pages_total",
            "Pages printed over the printer's life (prtMarkerLifeCount).",
            type="counter",
        ),
        MetricSpec(
            "ocrfleet_printer_tray_level_ratio",
            "Fraction of a paper tray's capacity loaded, 0-1; absent when not known exactly.",
            labels=("tray", "media"),
        ),
        MetricSpec(
            "ocrfleet_printer_output_room_ratio",
            "Fraction of an output bin's capacity still free, 0-1 (0 = full); absent when "
            "not known exactly.",
            labels=("bin",),
        ),
        MetricSpec(
            "ocrfleet_printer_output_state",
            "1 for an output bin's current state, 0 for the others: ok, nearly_full, full, "
            "some_remaining, unknown, other.",
            labels=("bin", "state"),
        ),
        MetricSpec(
            "ocrfleet_printer_cover_open",
            "1 while a cover or interlock is open, else 0.",
            labels=("cover",),
        ),
        MetricSpec(
            "ocrfleet_printer_alerts",
            "Standing alerts in the printer's alert table, by severity "
            "(critical, warning, other); one-off events are not counted.",
            labels=("severity",),
        ),
        MetricSpec(
            "ocrfleet_printer_uptime_seconds",
            "Seconds since the printer's network agent started (sysUpTime).",
        ),
    )
    figure_specs: ClassVar[Sequence[FigureSpec]] = (
        FigureSpec(
            "printer_pages",
            _("Pages printed"),
            "ocrfleet_printer_pages_total",
            Aggregation.INCREASE,
        ),
    )

    def __init__(self) -> None:
        self.vendors = PrinterVendors()
        self._log = RateLimitedLog(log, interval=600.0)
        self._states = _StateSamples()

    def extend(self, extension: KindExtension) -> None:
        """Take KindExtension(kind="printer", name=vendor.name, implementation=<PrinterVendor>)."""
        vendor = extension.implementation
        if extension.kind != self.name:
            raise TypeError(f"extension {extension.name!r} is for kind {extension.kind!r}")
        name = getattr(vendor, "name", None)
        if isinstance(vendor, PrinterVendor) and isinstance(name, str) and extension.name != name:
            raise TypeError(
                f"extension name {extension.name!r} differs from its vendor's name {name!r}"
            )
        self.vendors.add(vendor)

    async def poll(self, device: DeviceInfo, snmp: SnmpClient, previous: object | None) -> object:
        options: PrinterOptions = device.options
        values, vendor = await read_printer(snmp, self.vendors, options.vendor, previous)
        return decode_reading(values, vendor, self.vendors.generic, options.low_fraction, self._log)

    def describe(self, reading: object) -> str:
        if not isinstance(reading, PrinterReading):
            return repr(reading)
        return describe_reading(reading)

    def status_card(self, device: DeviceView) -> StatusCard:
        card = printer_card(device, device.reading)
        if self._asleep(device):
            # Asleep is no fault: the desk sees it will wake when printed to.
            return StatusCard(card.condition, card.tone, card.gauges, (*card.facts, _("Asleep")))
        return card

    def demo_devices(self) -> Sequence[DemoDevice]:
        return _DEMO_PRINTERS

    def demo_rule_settings(self) -> Mapping[str, Mapping[str, Any]]:
        # The demo's jams come and go within minutes, at any hour: shorter
        # tolerances, and reported while a site is closed, so a newcomer sees
        # an alert fire and resolve in the log soon after starting the demo.
        return {
            "printer_condition": {
                "for": "30s",
                "resolve_after": "30s",
                "outside_opening_hours": True,
            }
        }

    def demo_recording(self, device: DeviceInfo, context: SimulationContext) -> str | None:
        from ocrfleet_printer import demo

        return demo.demo_recording(device, context)

    def simulator(self, device: DeviceInfo, context: SimulationContext) -> Simulator | None:
        from ocrfleet_printer import demo

        return demo.simulator(device, context)

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        status = self.status(device)
        if status is not None:
            yield from _STATUS_SAMPLES.get(status) or _NO_STATUS_SAMPLES
        reading = device.reading
        if isinstance(reading, PrinterReading):
            yield from _reading_samples(reading, self._states)

    def expected_off(self, device: DeviceView, now: float) -> str | None:
        # Judged at the failed poll, as the status is: a printer silent at
        # the end of its sleep stays asleep until a poll finds it awake.
        if self._asleep(device):
            return "sleep_hours"
        return None

    def status(self, device: DeviceView) -> str | None:
        """The status shown for a device; None before its first poll."""
        if device.failure is not None:
            return "asleep" if self._asleep(device) else "unreachable"
        if isinstance(device.reading, PrinterReading):
            return device.reading.status
        return None

    def _asleep(self, device: DeviceView) -> bool:
        """Whether the device's last poll went unanswered while it may sleep."""
        failure = device.failure
        if failure is None or failure.reason not in _SILENT_REASONS:
            return False
        options: Any = device.info.options
        sleep_hours = options.sleep_hours if isinstance(options, PrinterOptions) else None
        return expected_asleep(device.info, sleep_hours, failure.last_attempt)


class _StateSamples:
    """The state samples of a supply or an output bin, built once per labels and state.

    A printer's supplies and bins keep their names from one poll to the
    next, so a scrape after every printer was polled again finds most of
    them here. Held by the kind (one per daemon); started over once it
    holds MAX, so labels that change at every poll cannot pile up.
    """

    MAX = 4096

    def __init__(self) -> None:
        self._kept: dict[tuple[str, tuple[str, ...], str], tuple[Sample, ...]] = {}

    def get(
        self, name: str, labels: tuple[str, ...], states: Sequence[str], state: str
    ) -> tuple[Sample, ...]:
        key = (name, labels, state)
        found = self._kept.get(key)
        if found is None:
            found = tuple(
                Sample(name, 1.0 if each == state else 0.0, (*labels, each)) for each in states
            )
            if len(self._kept) >= self.MAX:
                # Replaced, not cleared: another scrape may be reading it.
                self._kept = {}
            self._kept[key] = found
        return found


def _reading_samples(reading: PrinterReading, states: _StateSamples) -> Iterable[Sample]:
    for supply in reading.supplies:
        labels = (supply.label, supply.type, supply.colour or "")
        if supply.remaining_fraction is not None:
            yield Sample("ocrfleet_printer_supply_level_ratio", supply.remaining_fraction, labels)
        yield from states.get("ocrfleet_printer_supply_state", labels, SUPPLY_STATES, supply.state)
    conditions = reading.conditions
    if conditions is not None:
        for condition, off, on in _CONDITION_SAMPLES:
            yield on if condition in conditions else off
    if reading.pages is not None:
        yield Sample("ocrfleet_printer_pages_total", float(reading.pages))
    for tray in reading.trays:
        if tray.remaining_fraction is not None:
            yield Sample(
                "ocrfleet_printer_tray_level_ratio",
                tray.remaining_fraction,
                (tray.label, tray.media),
            )
    for output in reading.outputs:
        if output.remaining_fraction is not None:
            yield Sample(
                "ocrfleet_printer_output_room_ratio", output.remaining_fraction, (output.label,)
            )
        yield from states.get(
            "ocrfleet_printer_output_state", (output.label,), OUTPUT_STATES, output.state
        )
    for cover in reading.covers:
        yield Sample("ocrfleet_printer_cover_open", 1.0 if cover.open else 0.0, (cover.label,))
    counts = {level: 0 for level in ALERT_LEVELS}
    for alert in reading.alerts:
        if alert.level is not None:
            counts[alert.level] += 1
    for level, count in counts.items():
        yield Sample("ocrfleet_printer_alerts", float(count), (level,))
    if reading.uptime_seconds is not None:
        yield Sample("ocrfleet_printer_uptime_seconds", reading.uptime_seconds)
