"""From walked SNMP values (OID -> value) to a PrinterReading. Pure functions, no I/O.

Real agents leave out whole columns (most omit prtMarkerSuppliesClass, some
the type, several hrPrinterStatus), so every cell is optional and a missing
one degrades that one field, never the reading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from ocrfleet.plugin import SnmpTable, SnmpValue, column
from ocrfleet_printer import oids
from ocrfleet_printer.decode import integer
from ocrfleet_printer.reading import (
    PRINTER_STATUSES,
    Alert,
    Cover,
    Output,
    PrinterReading,
    PrinterStatus,
    Supply,
    SupplyClass,
    SupplyState,
    Tray,
)
from ocrfleet_printer.vendors.base import GenericVendor, PrinterVendor
from ocrfleet_printer.vendors.base import strip_serial as strip_serial  # part of this module's API

DEFAULT_LOW_FRACTION = 0.1


def parse_reading(
    values: SnmpTable,
    low_fraction: float = DEFAULT_LOW_FRACTION,
    vendor: PrinterVendor | None = None,
) -> PrinterReading:
    """The reading of one poll, decoded by `vendor` (the generic Printer-MIB one by default)."""
    vendor = vendor or GenericVendor()
    device = printer_device_index(values)
    uptime = integer(values.get(oids.SYS_UPTIME))
    object_id = values.get(oids.SYS_OBJECT_ID)
    text = vendor.text
    reading = PrinterReading(
        model=text(values.get(oids.SYS_DESCR)),
        object_id=object_id if isinstance(object_id, str) else "",
        name=text(values.get(oids.SYS_NAME)),
        uptime_seconds=uptime / 100 if uptime is not None and uptime >= 0 else None,
        status=printer_status(values.get(f"{oids.HR_PRINTER_STATUS}.{device}")),
        device_status=_name(
            oids.HR_DEVICE_STATUS_NAMES, values.get(f"{oids.HR_DEVICE_STATUS}.{device}")
        ),
        conditions=vendor.error_conditions(
            values.get(f"{oids.HR_PRINTER_DETECTED_ERROR_STATE}.{device}")
        ),
        supplies=parse_supplies(values, low_fraction, vendor),
        trays=parse_trays(values, low_fraction, vendor),
        outputs=parse_outputs(values, low_fraction, vendor),
        covers=parse_covers(values, vendor),
        alerts=parse_alerts(values, vendor),
        pages=parse_pages(values),
        vendor=vendor.name,
    )
    return vendor.adjust(reading, values)


def printer_device_index(values: SnmpTable) -> str:
    """The hrDeviceIndex of the printer: from hrPrinterTable, else the Printer-MIB rows, else 1."""
    for root in (oids.HR_PRINTER_STATUS, oids.HR_PRINTER_DETECTED_ERROR_STATE):
        rows = _sorted(column(values, root))
        if rows:
            return rows[0]
    for root in (oids.PRT_MARKER_SUPPLIES_ENTRY, oids.PRT_INPUT_ENTRY, oids.PRT_MARKER_ENTRY):
        prefix = root + "."
        for oid in values:
            if oid.startswith(prefix):
                # column.hrDeviceIndex.row
                parts = oid[len(prefix) :].split(".")
                if len(parts) >= 3:
                    return parts[1]
    return "1"


def printer_status(value: SnmpValue) -> PrinterStatus:
    name = oids.HR_PRINTER_STATUS_NAMES.get(integer(value) or 0, "unknown")
    for status in PRINTER_STATUSES:
        if status == name:
            return status
    return "unknown"


def level_state(
    level: int | None, max_capacity: int | None, receptacle: bool, low_fraction: float
) -> tuple[float | None, SupplyState]:
    """The fraction of capacity left and the state, per RFC 3805's special values.

    Only a real level over a real, positive max capacity gives a fraction. A
    known level with an unknown capacity stays "unknown" rather than a guess:
    a Brother reports level 0 with capacity -2 for an empty slot that does
    not raise noToner, so not even 0 is safe to read as "empty" there.
    """
    if level is None or level < oids.LEVEL_SOME_REMAINING:
        return None, "unknown"
    if level == oids.LEVEL_OTHER:
        return None, "other"
    if level == oids.LEVEL_UNKNOWN:
        return None, "unknown"
    if level == oids.LEVEL_SOME_REMAINING:
        return None, "some_remaining"
    if max_capacity is None or max_capacity <= 0:
        return None, "unknown"
    # Some agents report a level above the capacity (a refilled cartridge).
    fraction = min(level / max_capacity, 1.0)
    if level == 0:
        return fraction, "full" if receptacle else "empty"
    if fraction <= low_fraction:
        return fraction, "nearly_full" if receptacle else "low"
    return fraction, "ok"


def parse_supplies(
    values: SnmpTable, low_fraction: float, vendor: PrinterVendor
) -> tuple[Supply, ...]:
    classes = column(values, oids.PRT_MARKER_SUPPLIES_CLASS)
    types = column(values, oids.PRT_MARKER_SUPPLIES_TYPE)
    descriptions = column(values, oids.PRT_MARKER_SUPPLIES_DESCRIPTION)
    units = column(values, oids.PRT_MARKER_SUPPLIES_SUPPLY_UNIT)
    maxima = column(values, oids.PRT_MARKER_SUPPLIES_MAX_CAPACITY)
    levels = column(values, oids.PRT_MARKER_SUPPLIES_LEVEL)
    colorants = column(values, oids.PRT_MARKER_SUPPLIES_COLORANT_INDEX)
    colorant_values = column(values, oids.PRT_MARKER_COLORANT_VALUE)
    rows = _sorted(_union(classes, types, descriptions, maxima, levels))
    descriptions_text = {row: vendor.text(descriptions.get(row)) for row in rows}
    labels = unique_labels(
        [(row, vendor.supply_label(descriptions_text[row])) for row in rows], fallback="supply"
    )
    supplies = []
    for row in rows:
        description = descriptions_text[row]
        type_code = integer(types.get(row))
        supply_class, reported = _supply_class(
            integer(classes.get(row)), type_code, vendor.is_waste(description)
        )
        level = integer(levels.get(row))
        max_capacity = integer(maxima.get(row))
        fraction, state = level_state(
            level, max_capacity, supply_class == "receptacle", low_fraction
        )
        supplies.append(
            Supply(
                index=row,
                label=labels[row],
                description=description,
                type=_name(oids.SUPPLY_TYPE_NAMES, type_code),
                supply_class=supply_class,
                class_reported=reported,
                unit=_name(oids.SUPPLY_UNIT_NAMES, units.get(row)),
                max_capacity=max_capacity,
                level=level,
                remaining_fraction=fraction,
                state=state,
                colour=_colour(row, colorants.get(row), colorant_values, description, vendor),
            )
        )
    return tuple(supplies)


def _supply_class(
    reported: int | None, type_code: int | None, named_waste: bool
) -> tuple[SupplyClass, bool]:
    if reported == oids.SUPPLY_CLASS_RECEPTACLE:
        return "receptacle", True
    if reported == oids.SUPPLY_CLASS_CONSUMED:
        return "consumed", True
    # Absent (most agents), other(1) or out of range: the type tells, and for
    # agents without a type (Xerox) the description's word for waste does.
    if type_code in oids.RECEPTACLE_TYPES:
        return "receptacle", False
    if type_code in (None, 1, 2) and named_waste:
        return "receptacle", False
    return "consumed", False


def _colour(
    row: str,
    colorant: SnmpValue,
    colorant_values: Mapping[str, SnmpValue],
    description: str,
    vendor: PrinterVendor,
) -> str | None:
    index = integer(colorant)
    if index is not None and index > 0:
        device = row.split(".", 1)[0]
        name = vendor.text(colorant_values.get(f"{device}.{index}")).lower()
        if name and name not in ("unknown", "other"):
            return name
    return vendor.colour(description)


def parse_trays(values: SnmpTable, low_fraction: float, vendor: PrinterVendor) -> tuple[Tray, ...]:
    maxima = column(values, oids.PRT_INPUT_MAX_CAPACITY)
    levels = column(values, oids.PRT_INPUT_CURRENT_LEVEL)
    statuses = column(values, oids.PRT_INPUT_STATUS)
    media = column(values, oids.PRT_INPUT_MEDIA_NAME)
    names = column(values, oids.PRT_INPUT_NAME)
    descriptions = column(values, oids.PRT_INPUT_DESCRIPTION)
    rows = _sorted(_union(maxima, levels, statuses, names))
    titles = {
        row: vendor.text(names.get(row)) or vendor.text(descriptions.get(row)) for row in rows
    }
    labels = unique_labels([(row, titles[row]) for row in rows], fallback="tray")
    trays = []
    for row in rows:
        level = integer(levels.get(row))
        max_capacity = integer(maxima.get(row))
        fraction, state = level_state(level, max_capacity, False, low_fraction)
        availability, flags = subunit_status(statuses.get(row))
        trays.append(
            Tray(
                index=row,
                label=labels[row],
                name=titles[row],
                media=vendor.text(media.get(row)),
                max_capacity=max_capacity,
                level=level,
                remaining_fraction=fraction,
                state=state,
                status=availability,
                status_flags=flags,
            )
        )
    return tuple(trays)


def parse_outputs(
    values: SnmpTable, low_fraction: float, vendor: PrinterVendor
) -> tuple[Output, ...]:
    maxima = column(values, oids.PRT_OUTPUT_MAX_CAPACITY)
    remaining = column(values, oids.PRT_OUTPUT_REMAINING_CAPACITY)
    statuses = column(values, oids.PRT_OUTPUT_STATUS)
    names = column(values, oids.PRT_OUTPUT_NAME)
    descriptions = column(values, oids.PRT_OUTPUT_DESCRIPTION)
    rows = _sorted(_union(maxima, remaining, statuses, names))
    titles = {
        row: vendor.text(names.get(row)) or vendor.text(descriptions.get(row)) for row in rows
    }
    labels = unique_labels([(row, titles[row]) for row in rows], fallback="output")
    outputs = []
    for row in rows:
        room = integer(remaining.get(row))
        max_capacity = integer(maxima.get(row))
        fraction, state = level_state(room, max_capacity, True, low_fraction)
        availability, flags = subunit_status(statuses.get(row))
        outputs.append(
            Output(
                index=row,
                label=labels[row],
                name=titles[row],
                max_capacity=max_capacity,
                remaining_capacity=room,
                remaining_fraction=fraction,
                state=state,
                status=availability,
                status_flags=flags,
            )
        )
    return tuple(outputs)


def subunit_status(value: SnmpValue) -> tuple[str | None, frozenset[str]]:
    """A PrtSubUnitStatusTC sum as (availability name, flag names)."""
    number = integer(value)
    if number is None or not 0 <= number <= 126:
        return None, frozenset()
    flags = frozenset(name for bit, name in oids.SUBUNIT_FLAGS.items() if number & bit)
    return oids.SUBUNIT_AVAILABILITY_NAMES.get(number & 7), flags


def parse_covers(values: SnmpTable, vendor: PrinterVendor) -> tuple[Cover, ...]:
    descriptions = column(values, oids.PRT_COVER_DESCRIPTION)
    statuses = column(values, oids.PRT_COVER_STATUS)
    rows = _sorted(_union(descriptions, statuses))
    titles = {row: vendor.text(descriptions.get(row)) for row in rows}
    labels = unique_labels([(row, titles[row]) for row in rows], fallback="cover")
    covers = []
    for row in rows:
        code = integer(statuses.get(row))
        covers.append(
            Cover(
                index=row,
                label=labels[row],
                description=titles[row],
                status=_name(oids.COVER_STATUS_NAMES, code),
                open=code in oids.COVER_OPEN_STATUSES,
            )
        )
    return tuple(covers)


def parse_alerts(values: SnmpTable, vendor: PrinterVendor) -> tuple[Alert, ...]:
    severities = column(values, oids.PRT_ALERT_SEVERITY_LEVEL)
    groups = column(values, oids.PRT_ALERT_GROUP)
    group_indexes = column(values, oids.PRT_ALERT_GROUP_INDEX)
    codes = column(values, oids.PRT_ALERT_CODE)
    descriptions = column(values, oids.PRT_ALERT_DESCRIPTION)
    alerts = []
    for row in _sorted(_union(severities, codes)):
        code = integer(codes.get(row))
        group_index = integer(group_indexes.get(row))
        alerts.append(
            Alert(
                index=row,
                severity=_name(oids.ALERT_SEVERITY_NAMES, severities.get(row)),
                group=_name(oids.ALERT_GROUP_NAMES, groups.get(row)),
                code=oids.ALERT_CODE_NAMES.get(code, str(code)) if code is not None else "unknown",
                description=vendor.text(descriptions.get(row)),
                group_index=group_index if group_index is not None and group_index > 0 else None,
            )
        )
    return tuple(alerts)


def parse_pages(values: SnmpTable) -> int | None:
    """Pages printed over the printer's life: prtMarkerLifeCount of markers that count pages."""
    units = column(values, oids.PRT_MARKER_COUNTER_UNIT)
    total: int | None = None
    for row, value in column(values, oids.PRT_MARKER_LIFE_COUNT).items():
        count = integer(value)
        if count is None or count < 0:
            continue
        unit = integer(units.get(row))
        if unit is not None and unit not in oids.PAGE_COUNTER_UNITS:
            continue  # meters or hours, not pages
        total = (total or 0) + count
    return total


def unique_labels(rows: Sequence[tuple[str, str]], fallback: str) -> dict[str, str]:
    """Label per row index: the name, made unique within the table by the row number.

    Two rows often share a description (a Brother lists "Black Toner
    Cartridge" twice), and series must not collide, so duplicates get " #n"
    with n the row's own index: stable while the printer's tables are.
    """
    bases = {row: name or f"{fallback} {_last(row)}" for row, name in rows}
    counts = Counter(bases.values())
    labels = {
        row: f"{base} #{_last(row)}" if counts[base] > 1 else base for row, base in bases.items()
    }
    if len(set(labels.values())) < len(labels):
        # Same row number under two hrDeviceIndex values: use the full index.
        labels = {
            row: f"{base} #{row}" if counts[base] > 1 else base for row, base in bases.items()
        }
    return labels


def _last(row: str) -> str:
    return row.rsplit(".", 1)[-1]


def _name(names: Mapping[int, str], value: SnmpValue) -> str:
    number = integer(value)
    if number is None:
        return "unknown"
    return names.get(number, "other")


def _union(*columns: Mapping[str, SnmpValue]) -> set[str]:
    rows: set[str] = set()
    for cells in columns:
        rows.update(cells)
    return rows


def _sorted(rows: Iterable[str]) -> list[str]:
    def key(row: str) -> tuple[tuple[int, str], ...]:
        return tuple((int(p), "") if p.isdigit() else (0, p) for p in row.split("."))

    return sorted(rows, key=key)
