"""When will a printer supply run out? A reminder some opening days ahead, and swap evidence.

From successive readings the rule keeps, per printer and supply, the level
over time, measured in opening time of the printer's site (a printer is
used while its site is open). A least-squares line over the recent window
gives the consumption per opening hour; projected over the opening hours
to come, it tells on which opening day the supply runs out. The history is
kept in the store across restarts (`saved_state`), so a restart does not
make a forecast wait days for enough readings (`min_points` over
`min_span`) again.

A level that jumps up from nearly empty to nearly full is a new cartridge:
the rule hands the maintenance ledger the evidence and starts that supply's
history afresh, as it does after any smaller rise (a refill breaks the trend).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from ocrfleet.plugin import (
    AlertRule,
    Catalog,
    DeviceInfo,
    DeviceKey,
    Duration,
    Finding,
    MaintenanceEvidence,
    MetricSpec,
    RuleContext,
    RuleSettings,
    Sample,
    Severity,
)
from ocrfleet_printer.opening import OpeningTime
from ocrfleet_printer.reading import PrinterReading, Supply
from ocrfleet_printer.rules import KIND, supply_detail, supply_labels, supply_name
from ocrfleet_printer.words import supply_forecast, supply_words

_ = Catalog("ocrfleet_printer")

SWAP_TASK = "supply_replaced"
FORECAST_METRIC = "ocrfleet_printer_supply_empty_forecast_seconds"
# Forecasts further out than this are no forecasts; nobody orders toner a year ahead.
HORIZON = 366 * 86400.0
# A rise smaller than a swap but above the level's jitter: a refill or a
# recalibration, after which the old trend no longer applies.
_RISE = 0.05


class SupplyForecastSettings(RuleSettings):
    for_: Duration = Field(default=0.0, alias="for")
    # A forecast wobbling around the notice neither resolves nor re-announces.
    resolve_after: Duration = 12 * 3600.0
    repeat_interval: Duration | None = 7 * 86400.0
    # None: maintenance.forecast_notice_days.
    notice_days: float | None = Field(default=None, gt=0)
    window: Duration = Field(default=14 * 86400.0, gt=0)
    min_span: Duration = Field(default=2 * 86400.0, ge=0)
    min_points: int = Field(default=5, ge=2)
    # At most one point per this interval; swaps are still seen on every reading.
    sample_spacing: Duration = Field(default=600.0, ge=0)
    swap_from: float = Field(default=0.25, ge=0, le=1)
    swap_to: float = Field(default=0.9, ge=0, le=1)

    @model_validator(mode="after")
    def _order(self) -> SupplyForecastSettings:
        if self.swap_to <= self.swap_from:
            raise ValueError("swap_to must be above swap_from")
        if self.min_span > self.window:
            raise ValueError("min_span must not be longer than window")
        return self


@dataclass(frozen=True, slots=True)
class _Point:
    at: float  # wall time of the reading
    opening: float  # opening seconds since the history began
    fraction: float


@dataclass(slots=True)
class _History:
    points: list[_Point]
    # Of the last reading, kept or not: a swap is measured against it.
    last_fraction: float
    last_reading_at: float


@dataclass(frozen=True, slots=True)
class Forecast:
    empty_at: float  # wall time
    opening_days: int  # opening days until then, the day it runs out counted
    level: float  # fitted level now
    rate_per_hour: float  # fraction consumed per opening hour


def fit_rate(points: list[_Point]) -> tuple[float, float, float] | None:
    """Least squares of fraction over opening time: (slope, mean opening, mean fraction)."""
    n = len(points)
    mean_x = sum(p.opening for p in points) / n
    mean_y = sum(p.fraction for p in points) / n
    sxx = sum((p.opening - mean_x) ** 2 for p in points)
    if sxx <= 0:
        return None
    sxy = sum((p.opening - mean_x) * (p.fraction - mean_y) for p in points)
    return sxy / sxx, mean_x, mean_y


class PrinterSupplyForecastRule(AlertRule):
    name = "printer_supply_forecast"
    title = _("Printer supplies to order soon")
    description = "a printer supply is forecast to run out within a few opening days"
    rule_type = "reminder"
    default_severity = Severity.INFO
    settings_model = SupplyForecastSettings
    metric_specs = (
        MetricSpec(
            FORECAST_METRIC,
            "Seconds until a printer supply is forecast empty (a receptacle full), from "
            "its consumption per opening hour; absent without a forecast.",
            labels=("site", "device", "supply"),
        ),
    )

    def __init__(self) -> None:
        self._histories: dict[tuple[DeviceKey, str], _History] = {}
        # Replaced whole by each evaluation, so scrapes on other threads
        # always see one evaluation's forecasts.
        self._forecast_seconds: Mapping[tuple[DeviceKey, str], float] = {}

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        assert isinstance(settings, SupplyForecastSettings)
        notice = settings.notice_days or context.config.maintenance.forecast_notice_days
        results: list[Finding | MaintenanceEvidence] = []
        forecasts: dict[tuple[DeviceKey, str], float] = {}
        for view in context.views(KIND):
            reading = view.reading
            if not isinstance(reading, PrinterReading) or view.reading_at is None:
                continue
            opening = OpeningTime(view.info.schedule)
            for supply in reading.supplies:
                if supply.remaining_fraction is None:
                    continue
                key = (view.info.key, supply.label)
                evidence = self._observe(
                    key,
                    view.info,
                    supply,
                    supply.remaining_fraction,
                    view.reading_at,
                    opening,
                    settings,
                )
                if evidence is not None:
                    results.append(evidence)
                forecast = self.forecast(key, context.now, opening, settings)
                if forecast is None:
                    continue
                forecasts[key] = max(0.0, forecast.empty_at - context.now)
                if forecast.opening_days <= notice:
                    results.append(self._finding(view.info, supply, forecast, opening))
        self._forget(context, settings.window)
        self._forecast_seconds = forecasts
        return results

    def samples(self) -> Iterable[Sample]:
        for (device, supply), seconds in sorted(self._forecast_seconds.items()):
            yield Sample(FORECAST_METRIC, seconds, (device.site, device.device, supply))

    # -- kept across restarts ------------------------------------------------

    _STATE_VERSION = 1

    def saved_state(self) -> Mapping[str, Any] | None:
        histories = [
            {
                "site": device.site,
                "device": device.device,
                "supply": supply,
                "last_fraction": history.last_fraction,
                "last_reading_at": history.last_reading_at,
                "points": [[p.at, p.opening, p.fraction] for p in history.points],
            }
            for (device, supply), history in sorted(self._histories.items())
        ]
        return {"version": self._STATE_VERSION, "histories": histories}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        if state.get("version") != self._STATE_VERSION:
            raise ValueError(f"unknown state version {state.get('version')!r}")
        restored: dict[tuple[DeviceKey, str], _History] = {}
        for item in state["histories"]:
            points = [
                _Point(float(at), float(opened), float(f)) for at, opened, f in item["points"]
            ]
            if not points:
                continue
            key = (DeviceKey(str(item["site"]), str(item["device"])), str(item["supply"]))
            restored[key] = _History(
                points, float(item["last_fraction"]), float(item["last_reading_at"])
            )
        self._histories = restored

    # -- history -------------------------------------------------------------

    def _observe(
        self,
        key: tuple[DeviceKey, str],
        info: DeviceInfo,
        supply: Supply,
        fraction: float,
        at: float,
        opening: OpeningTime,
        settings: SupplyForecastSettings,
    ) -> MaintenanceEvidence | None:
        history = self._histories.get(key)
        if history is None:
            self._histories[key] = _History([_Point(at, 0.0, fraction)], fraction, at)
            return None
        if at <= history.last_reading_at:
            return None  # the same reading, evaluated again
        previous = history.last_fraction
        evidence = None
        if previous <= settings.swap_from and fraction >= settings.swap_to:
            evidence = MaintenanceEvidence(
                evidence_id=f"{info.key}:{supply.label}:{int(at)}",
                device=info.key,
                task=SWAP_TASK,
                note=f"{supply_name(supply)} {previous:.0%} -> {fraction:.0%}",
                at=at,
            )
        if fraction > previous + _RISE:
            self._histories[key] = _History([_Point(at, 0.0, fraction)], fraction, at)
            return evidence
        history.last_fraction = fraction
        history.last_reading_at = at
        last = history.points[-1]
        if at - last.at >= settings.sample_spacing:
            opened = last.opening + opening.seconds(last.at, at)
            history.points.append(_Point(at, opened, fraction))
            cutoff = at - settings.window
            while history.points and history.points[0].at < cutoff:
                history.points.pop(0)
        return evidence

    def _forget(self, context: RuleContext, window: float) -> None:
        """Drop histories of devices no longer configured and of supplies gone a window long."""
        for key in list(self._histories):
            history = self._histories[key]
            if key[0] not in context.devices or history.last_reading_at < context.now - window:
                del self._histories[key]

    # -- forecast ------------------------------------------------------------

    def forecast(
        self,
        key: tuple[DeviceKey, str],
        now: float,
        opening: OpeningTime,
        settings: SupplyForecastSettings,
    ) -> Forecast | None:
        history = self._histories.get(key)
        if history is None:
            return None
        points = [p for p in history.points if p.at >= now - settings.window]
        if len(points) < settings.min_points or points[-1].at - points[0].at < settings.min_span:
            return None
        fitted = fit_rate(points)
        if fitted is None:
            return None
        slope, mean_x, mean_y = fitted
        if slope >= 0:
            return None  # not being used up (or not measurably)
        opening_now = points[-1].opening + opening.seconds(points[-1].at, now)
        level = min(1.0, max(0.0, mean_y + slope * (opening_now - mean_x)))
        reached = opening.advance(now, level / -slope, HORIZON)
        if reached is None:
            return None
        empty_at, days = reached
        return Forecast(empty_at, days, level, -slope * 3600.0)

    def _finding(
        self, info: DeviceInfo, supply: Supply, forecast: Forecast, opening: OpeningTime
    ) -> Finding:
        local = datetime.fromtimestamp(forecast.empty_at, opening.zone)
        summary, description = supply_forecast(
            supply_words(supply),
            info.id,
            forecast.opening_days,
            forecast.level,
            forecast.rate_per_hour,
            local.date(),
        )
        runs_out = "full" if supply.is_receptacle else "empty"
        return Finding(
            rule=self.name,
            subject=f"{info.key}/{supply.label}",
            labels={
                **supply_labels(info, supply),
                "type": "reminder",
                "category": "supplies",
            },
            summary=summary,
            description=description,
            detail=(
                f"{supply_detail(supply)}; least-squares fit: {forecast.level:.1%} now, "
                f"{forecast.rate_per_hour:.2%} per opening hour, {runs_out} at "
                f"{local.isoformat(timespec='minutes')} after {forecast.opening_days} "
                "opening days"
            ),
        )
