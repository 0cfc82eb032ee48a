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

KIND = "printer"

# What the front desk can swap itself; everything else is for IT.
_TONER_TYPES = frozenset({"toner", "tonerCartridge", "matteToner"})
_INK_TYPES = frozenset({"ink", "inkCartridge", "matteInk", "inkRibbon"})

_CONDITION_CATEGORIES: Mapping[str, str] = {
    "jammed": "jam",
    "noPaper": "paper",
    "lowPaper": "paper",
    "inputTrayEmpty": "paper",
    "noToner": "toner",
    "lowToner": "toner",
}
_CONDITION_WORDS: Mapping[str, str] = {
    "lowPaper": "paper low",
    "noPaper": "out of paper",
    "lowToner": "toner low",
    "noToner": "out of toner",
    "doorOpen": "a door or cover is open",
    "jammed": "paper jam",
    "offline": "offline",
    "serviceRequested": "service requested",
    "inputTrayMissing": "a paper tray is missing",
    "outputTrayMissing": "an output tray is missing",
    "markerSupplyMissing": "a toner or ink cartridge is missing",
    "outputNearFull": "output bin nearly full",
    "outputFull": "output bin full",
    "inputTrayEmpty": "a paper tray is empty",
    "overduePreventMaint": "preventive maintenance overdue",
}


def supply_name(supply: Supply) -> str:
    """How people name a supply: "toner black", else the printer's own label."""
    if supply.colour and supply.type in _TONER_TYPES:
        return f"toner {supply.colour}"
    if supply.colour and supply.type in _INK_TYPES:
        return f"ink {supply.colour}"
    return supply.label


def supply_category(supply: Supply) -> str:
    if supply.type in _TONER_TYPES or supply.type in _INK_TYPES:
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


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.0f} %"


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
                words = _CONDITION_WORDS.get(condition, condition)
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
                    summary=f"printer {info.key}: {words}",
                    description=(
                        f"{info.model or 'the printer'} at {info.site} reports {condition} "
                        "(hrPrinterDetectedErrorState)"
                    ),
                    severity=Severity.CRITICAL if condition in settings.critical else None,
                )


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
        name = supply_name(supply)
        if supply.is_receptacle:
            low, gone = "nearly_full", "full"
            low_words = f"{name} nearly full ({_percent(fraction)} room left)"
            gone_words = f"{name} full"
        else:
            low, gone = "low", "empty"
            low_words = f"{name} low ({_percent(fraction)} left)"
            gone_words = f"{name} empty"
        yield Finding(
            rule=self.name,
            subject=f"{info.key}/{supply.label}/{low}",
            labels={**labels, "level": low},
            summary=f"printer {info.key}: {low_words}",
            description=f"{supply.description or supply.label} ({supply.type}) of {info.key}",
        )
        if fraction == 0.0 or supply.state in ("empty", "full"):
            yield Finding(
                rule=self.name,
                subject=f"{info.key}/{supply.label}/{gone}",
                labels={**labels, "level": gone},
                summary=f"printer {info.key}: {gone_words}",
                description=f"{supply.description or supply.label} ({supply.type}) of {info.key}",
                severity=Severity.CRITICAL,
            )
