"""Printer alert rules: conditions the printer reports, and supplies running low.

Both read the printer's own words (RFC 3805): a condition from
hrPrinterDetectedErrorState, a supply level from prtMarkerSuppliesTable.
A level the printer does not state as a number (-1 other, -2 unknown,
-3 "some remaining") never fires: ocrfleet does not invent a level.

Supply labels say `supply_type`, not `type`: the engine gives every alert
type="alert" or "reminder", which routes and silences match on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import Field, field_validator

from ocrfleet.plugin import (
    AlertRule,
    Catalog,
    DeviceInfo,
    DeviceState,
    Duration,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet_printer.oids import ERROR_STATE_BITS
from ocrfleet_printer.reading import PrinterReading, Supply
from ocrfleet_printer.words import (
    INK_TYPES,
    TONER_TYPES,
    condition_alerts,
    condition_words,
    supply_gone,
    supply_low,
    supply_words,
)

_ = Catalog("ocrfleet_printer")

KIND = "printer"

_CONDITION_CATEGORIES: Mapping[str, str] = {
    "jammed": "jam",
    "noPaper": "paper",
    "lowPaper": "paper",
    "inputTrayEmpty": "paper",
    "noToner": "toner",
    "lowToner": "toner",
}


def supply_name(supply: Supply) -> str:
    """A supply in a technical note: "toner black", else the printer's own label."""
    if supply.colour and supply.type in TONER_TYPES:
        return f"toner {supply.colour}"
    if supply.colour and supply.type in INK_TYPES:
        return f"ink {supply.colour}"
    return supply.label


def supply_category(supply: Supply) -> str:
    if supply.type in TONER_TYPES or supply.type in INK_TYPES:
        return "toner"
    # Agents without a type (some Xerox) still call a cartridge toner.
    if supply.type in ("other", "unknown") and not supply.is_receptacle:
        words = supply.description.lower()
        if "toner" in words or "ink" in words.split():
            return "toner"
    return "supplies"


def supply_labels(info: DeviceInfo, supply: Supply) -> dict[str, str]:
    return {
        "site": info.site,
        "device": info.id,
        "kind": info.kind,
        "supply": supply.label,
        "supply_type": supply.type,
        "colour": supply.colour or "",
    }


def supply_detail(supply: Supply) -> str:
    """The supply as the Printer-MIB states it, for IT."""
    level = (
        f"{supply.level}/{supply.max_capacity}"
        if supply.remaining_fraction is not None
        else f"{supply.level} (max {supply.max_capacity})"
    )
    fraction = (
        f" = {supply.remaining_fraction:.0%}" if supply.remaining_fraction is not None else ""
    )
    room = " room left" if supply.is_receptacle else ""
    return (
        f"supply {supply.label!r} (prtMarkerSuppliesIndex {supply.index}): "
        f"prtMarkerSuppliesType {supply.type}, class {supply.supply_class}, "
        f"colour {supply.colour or '-'}, prtMarkerSuppliesLevel {level}{fraction}{room}, "
        f"state {supply.state}"
    )


# -- conditions ---------------------------------------------------------------


class PrinterConditionSettings(RuleSettings):
    for_: Duration = Field(default=120.0, alias="for")
    resolve_after: Duration = 60.0
    conditions: list[str] = Field(
        default_factory=lambda: [
            "jammed",
            "noPaper",
            "doorOpen",
            "noToner",
            "serviceRequested",
            "offline",
        ],
        description="hrPrinterDetectedErrorState conditions that alert",
    )
    critical: list[str] = Field(
        default_factory=lambda: ["offline", "serviceRequested"],
        description="conditions that alert as critical; the others take the rule's severity",
    )

    @field_validator("conditions", "critical")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in ERROR_STATE_BITS:
                raise ValueError(
                    f"unknown printer condition {name!r} (known: {', '.join(ERROR_STATE_BITS)})"
                )
        return value


class PrinterConditionRule(AlertRule):
    name = "printer_condition"
    title = _("Printer problems (paper, jams, covers)")
    description = "a printer that answers reports a condition (jam, no paper, door open, ...)"
    settings_model = PrinterConditionSettings

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        assert isinstance(settings, PrinterConditionSettings)
        watched = set(settings.conditions)
        for view in context.views(KIND):
            status = context.statuses.get(view.info.key)
            # A printer that does not answer is printer_unreachable's business;
            # its last reading's conditions are stale.
            if status is None or status.state is not DeviceState.UP:
                continue
            reading = view.reading
            if not isinstance(reading, PrinterReading) or reading.conditions is None:
                continue
            info = view.info
            for condition in sorted(reading.conditions & watched):
                summary, description = condition_words(condition, reading, info.id)
                yield Finding(
                    rule=self.name,
                    subject=f"{info.key}/{condition}",
                    labels={
                        "site": info.site,
                        "device": info.id,
                        "kind": info.kind,
                        "condition": condition,
                        "category": _CONDITION_CATEGORIES.get(condition, "hardware"),
                    },
                    summary=summary,
                    description=description,
                    detail=_condition_detail(condition, reading, info),
                    severity=Severity.CRITICAL if condition in settings.critical else None,
                )


def _condition_detail(condition: str, reading: PrinterReading, info: DeviceInfo) -> str:
    model = reading.model or info.model or "model unknown"
    detail = f"hrPrinterDetectedErrorState: {condition} ({model})"
    for alert in condition_alerts(reading, condition):
        detail += (
            f"; prtAlertTable: {alert.severity} {alert.group} {alert.code} {alert.description!r}"
        )
    return detail


# -- supply levels ------------------------------------------------------------

DEFAULT_LOW = 0.05


class SupplyLowSettings(RuleSettings):
    for_: Duration = Field(default=600.0, alias="for")
    resolve_after: Duration = 600.0
    # Fraction left (room left for a receptacle) at or below which a supply is
    # low, by supply type (prtMarkerSuppliesType name); "default" for the rest.
    low: dict[str, float] = Field(
        default_factory=lambda: {
            "tonerCartridge": 0.1,
            "toner": 0.1,
            "inkCartridge": 0.1,
            "ink": 0.1,
            "default": DEFAULT_LOW,
        }
    )

    @field_validator("low")
    @classmethod
    def _fractions(cls, value: dict[str, float]) -> dict[str, float]:
        for supply_type, fraction in value.items():
            if not 0 <= fraction <= 1:
                raise ValueError(f"{supply_type}: {fraction} is not a fraction from 0 to 1")
        return value

    def threshold(self, supply_type: str) -> float:
        return self.low.get(supply_type, self.low.get("default", DEFAULT_LOW))


class PrinterSupplyLowRule(AlertRule):
    """Low (or nearly full, for a waste receptacle), and empty (full) on top as critical.

    An empty cartridge is low too, so its "low" alert stays firing rather
    than resolving at the moment things get worse. Levels come from the last
    reading even while the printer sleeps: they do not change while it is off.
    """

    name = "printer_supply_low"
    title = _("Printer supplies running low")
    description = "a printer supply is low or empty, or a waste receptacle nearly full"
    settings_model = SupplyLowSettings

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        assert isinstance(settings, SupplyLowSettings)
        for view in context.views(KIND):
            reading = view.reading
            if not isinstance(reading, PrinterReading):
                continue
            for supply in reading.supplies:
                yield from self._supply(view.info, supply, settings)

    def _supply(
        self, info: DeviceInfo, supply: Supply, settings: SupplyLowSettings
    ) -> Iterable[Finding]:
        fraction = supply.remaining_fraction
        if fraction is None or fraction > settings.threshold(supply.type):
            return
        labels = {**supply_labels(info, supply), "category": supply_category(supply)}
        words = supply_words(supply)
        low, gone = ("nearly_full", "full") if supply.is_receptacle else ("low", "empty")
        threshold = settings.threshold(supply.type)
        detail = f"{supply_detail(supply)}; low at {threshold:.0%} or less"
        summary, description = supply_low(words, info.id, fraction)
        yield Finding(
            rule=self.name,
            subject=f"{info.key}/{supply.label}/{low}",
            labels={**labels, "level": low},
            summary=summary,
            description=description,
            detail=detail,
        )
        if fraction == 0.0 or supply.state in ("empty", "full"):
            summary, description = supply_gone(words, info.id)
            yield Finding(
                rule=self.name,
                subject=f"{info.key}/{supply.label}/{gone}",
                labels={**labels, "level": gone},
                summary=summary,
                description=description,
                detail=detail,
                severity=Severity.CRITICAL,
            )
