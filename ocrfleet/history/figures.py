"""Which device figures the history keeps, taken from kinds without knowing them.

The core does not know a printer from a hotspot. A kind either offers
`daily_figures(view) -> Mapping[str, float]` (figure name -> value), or the
history reads the figures below out of its metric samples by metric name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ocrfleet.kinds import DeviceKind
from ocrfleet.state import DeviceView

log = logging.getLogger(__name__)


class Aggregation(StrEnum):
    # A counter that only grows (pages printed): the report shows what it grew by.
    INCREASE = "increase"
    # A gauge summed over a site's devices (wifi clients): the report shows its peak.
    PEAK = "peak"


@dataclass(frozen=True, slots=True)
class FigureSpec:
    name: str  # the report's column
    title: str  # the report's heading
    metric: str  # the sample read when the kind has no daily_figures()
    aggregation: Aggregation


DEFAULT_FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "printer_pages", "Pages printed", "ocrfleet_printer_pages_total", Aggregation.INCREASE
    ),
    FigureSpec(
        "wifi_clients_peak", "Peak wifi clients", "ocrfleet_hotspot_clients", Aggregation.PEAK
    ),
)


def device_figures(
    kind: DeviceKind, view: DeviceView, figures: Sequence[FigureSpec]
) -> dict[str, float]:
    """The figures one device shows now; figures it does not have are left out.

    A figure with several label sets (e.g. per radio) is their sum. A kind
    that fails is logged and skipped, so one plugin cannot stop the history.
    """
    wanted = {figure.name for figure in figures}
    try:
        hook = getattr(kind, "daily_figures", None)
        if callable(hook):
            given: Mapping[str, float] = hook(view)
            return {name: float(value) for name, value in given.items() if name in wanted}
        by_metric = {figure.metric: figure.name for figure in figures}
        values: dict[str, float] = {}
        for sample in kind.samples(view):
            name = by_metric.get(sample.name)
            if name is not None:
                values[name] = values.get(name, 0.0) + sample.value
        return values
    except Exception:
        log.exception("kind %s failed to give figures for %s", kind.name, view.info.key)
        return {}
