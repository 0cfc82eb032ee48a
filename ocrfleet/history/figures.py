"""Which device figures the history keeps, taken from kinds without knowing them.

The core does not know a printer from a hotspot: each kind declares its
figures (`DeviceKind.figure_specs`) and gives their values
(`DeviceKind.daily_figures`).
"""

from __future__ import annotations

import logging

from ocrfleet.kinds import DeviceKind, FigureSpec, KindRegistry
from ocrfleet.state import DeviceView

log = logging.getLogger(__name__)


def declared_figures(kinds: KindRegistry) -> tuple[FigureSpec, ...]:
    """Every figure the kinds declare, once, in name order (the report's column order).

    Raises ValueError when two kinds declare one name with different
    aggregations: their values could not share a column.
    """
    by_name: dict[str, tuple[str, FigureSpec]] = {}
    for kind_name in sorted(kinds):
        for figure in kinds[kind_name].figure_specs:
            first = by_name.setdefault(figure.name, (kind_name, figure))
            if first[1].aggregation is not figure.aggregation:
                raise ValueError(
                    f"figure {figure.name!r} is the {first[1].aggregation} in kind "
                    f"{first[0]!r} but the {figure.aggregation} in kind {kind_name!r}"
                )
    return tuple(by_name[name][1] for name in sorted(by_name))


def device_figures(kind: DeviceKind, view: DeviceView) -> dict[str, float]:
    """The figures one device shows now; figures it does not have are left out.

    Only figures the kind declares count. A kind that fails is logged and
    skipped, so one plugin cannot stop the history.
    """
    declared = {figure.name for figure in kind.figure_specs}
    if not declared:
        return {}
    try:
        given = kind.daily_figures(view)
        return {name: float(value) for name, value in given.items() if name in declared}
    except Exception:
        log.exception("kind %s failed to give figures for %s", kind.name, view.info.key)
        return {}
