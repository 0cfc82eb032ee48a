"""A PrinterReading as a readable text table, for `ocrfleet probe`."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet_printer import oids
from ocrfleet_printer.reading import PrinterReading, Supply, Tray


def describe_reading(reading: PrinterReading) -> str:
    lines = [reading.model or "(no sysDescr)"]
    status = f"{reading.status} (device {reading.device_status})"
    if reading.uptime_seconds is not None:
        status += f", up {_duration(reading.uptime_seconds)}"
    lines.append(f"status      {status}")
    lines.append(f"vendor      {reading.vendor}")
    lines.append(f"pages       {reading.pages if reading.pages is not None else 'not reported'}")
    if reading.conditions is None:
        conditions = "not reported"
    else:
        # In bit order, which is roughly the order of urgency staff expect.
        ordered = [c for c in oids.ERROR_STATE_BITS if c in reading.conditions]
        conditions = ", ".join(ordered) or "none"
    lines.append(f"conditions  {conditions}")
    if reading.supplies:
        lines.append("supplies")
        lines.extend(
            _table(
                ("SUPPLY", "TYPE", "COLOUR", "LEVEL", "STATE"),
                [
                    (s.label, s.type, s.colour or "", _supply_level(s), s.state)
                    for s in reading.supplies
                ],
            )
        )
    if reading.trays:
        lines.append("trays")
        lines.extend(
            _table(
                ("TRAY", "MEDIA", "LEVEL", "STATE", "STATUS"),
                [
                    (t.label, t.media, _tray_level(t), t.state, _status(t.status, t.status_flags))
                    for t in reading.trays
                ],
            )
        )
    if reading.outputs:
        lines.append("outputs")
        lines.extend(
            _table(
                ("OUTPUT", "ROOM LEFT", "STATE", "STATUS"),
                [
                    (
                        o.label,
                        _level(o.remaining_capacity, o.max_capacity, o.remaining_fraction),
                        o.state,
                        _status(o.status, o.status_flags),
                    )
                    for o in reading.outputs
                ],
            )
        )
    if reading.covers:
        lines.append("covers")
        lines.extend(
            _table(
                ("COVER", "STATUS"),
                [(c.label, "open" if c.open else c.status) for c in reading.covers],
            )
        )
    if reading.alerts:
        lines.append("alerts")
        lines.extend(
            _table(
                ("SEVERITY", "GROUP", "CODE", "DESCRIPTION"),
                [
                    (a.severity, _group(a.group, a.group_index), a.code, a.description)
                    for a in reading.alerts
                ],
            )
        )
    return "\n".join(lines)


def _supply_level(supply: Supply) -> str:
    fill = supply.fill_fraction
    if fill is not None:
        return f"{fill * 100:.0f} % full"
    return _level(supply.level, supply.max_capacity, supply.remaining_fraction)


def _tray_level(tray: Tray) -> str:
    return _level(tray.level, tray.max_capacity, tray.remaining_fraction)


def _level(level: int | None, max_capacity: int | None, fraction: float | None) -> str:
    if fraction is not None:
        return f"{level}/{max_capacity} ({fraction * 100:.0f} %)"
    if level is None:
        return "not reported"
    special = {
        oids.LEVEL_OTHER: "other (-1)",
        oids.LEVEL_UNKNOWN: "unknown (-2)",
        oids.LEVEL_SOME_REMAINING: "some left (-3)",
    }
    if level in special:
        return special[level]
    return f"{level} (capacity {max_capacity if max_capacity is not None else 'not reported'})"


def _status(availability: str | None, flags: frozenset[str]) -> str:
    words = [availability or "-", *sorted(flags)]
    return " ".join(words)


def _group(group: str, index: int | None) -> str:
    return f"{group} {index}" if index is not None else group


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in (header, *rows):
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append(("  " + "  ".join(cells)).rstrip())
    return lines
