"""What one poll of a printer found: immutable, so scrapes on other threads can read it.

Levels follow RFC 3805 to the letter. A level or capacity the printer does not
state as a number (-1 other, -2 unknown, -3 "some remaining", or a capacity of
0) never becomes a percentage: the fraction is None and the state says what
the printer did say.

One convention for every fraction, `remaining_fraction` = level / max
capacity, as the MIB defines the level: for a supply that is consumed (toner,
drum, paper in a tray) it is how much is left; for a receptacle that is filled
(waste toner box, output bin) it is how much *room* is left. Either way a
small value needs attention, so one alert rule ("below 10 %") covers both;
`fill_fraction` gives a receptacle's fullness for people who think in that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

SupplyState = Literal[
    "ok", "low", "empty", "nearly_full", "full", "some_remaining", "unknown", "other"
]
SUPPLY_STATES: Final[tuple[SupplyState, ...]] = (
    "ok",  # a known level above the low threshold
    "low",  # consumed supply at or below the low threshold
    "empty",  # consumed supply at level 0
    "nearly_full",  # receptacle whose room left is at or below the low threshold
    "full",  # receptacle with no room left (level 0)
    "some_remaining",  # level -3: some supply (or room) remains, amount unknown
    "unknown",  # level -2, a missing level, or no usable max capacity
    "other",  # level -1: the printer places no restriction on it
)

# The states an output bin (a receptacle) can be in: never "low" or "empty".
OUTPUT_STATES: Final[tuple[SupplyState, ...]] = (
    "ok",
    "nearly_full",
    "full",
    "some_remaining",
    "unknown",
    "other",
)

PrinterStatus = Literal["idle", "printing", "warmup", "other", "unknown", "asleep", "unreachable"]
PRINTER_STATUSES: Final[tuple[PrinterStatus, ...]] = (
    "idle",
    "printing",
    "warmup",
    "other",
    "unknown",
    # Not hrPrinterStatus values: the printer did not answer the last poll,
    # while expected to be asleep, or while it should have been awake.
    "asleep",
    "unreachable",
)

SupplyClass = Literal["consumed", "receptacle", "other"]


@dataclass(frozen=True, slots=True)
class Supply:
    """One row of prtMarkerSuppliesTable."""

    index: str  # hrDeviceIndex.prtMarkerSuppliesIndex, e.g. "1.3"
    label: str  # unique within the printer, stable across polls: the metric label
    description: str  # as the printer gives it, cleaned of padding and line breaks
    type: str  # PrtMarkerSuppliesTypeTC name, e.g. "tonerCartridge"
    supply_class: SupplyClass
    # Whether supply_class came from the printer (False: inferred from the type).
    class_reported: bool
    unit: str  # PrtMarkerSuppliesSupplyUnitTC name
    max_capacity: int | None
    level: int | None
    remaining_fraction: float | None
    state: SupplyState
    colour: str | None  # colorant name ("black", "cyan", ...), when known

    @property
    def is_receptacle(self) -> bool:
        return self.supply_class == "receptacle"

    @property
    def fill_fraction(self) -> float | None:
        """How full a receptacle is (0-1); None for consumed supplies or an unknown level."""
        if not self.is_receptacle or self.remaining_fraction is None:
            return None
        return 1.0 - self.remaining_fraction


@dataclass(frozen=True, slots=True)
class Tray:
    """One row of prtInputTable: a paper tray or feeder."""

    index: str
    label: str
    name: str
    media: str
    max_capacity: int | None
    level: int | None
    remaining_fraction: float | None
    state: SupplyState
    status: str | None  # PrtSubUnitStatusTC availability name
    status_flags: frozenset[str]


@dataclass(frozen=True, slots=True)
class Output:
    """One row of prtOutputTable: an output bin; its level is the room left."""

    index: str
    label: str
    name: str
    max_capacity: int | None
    remaining_capacity: int | None
    remaining_fraction: float | None
    state: SupplyState
    status: str | None
    status_flags: frozenset[str]


@dataclass(frozen=True, slots=True)
class Cover:
    """One row of prtCoverTable."""

    index: str
    label: str
    description: str
    status: str  # PrtCoverStatusTC name
    open: bool


@dataclass(frozen=True, slots=True)
class Alert:
    """One row of prtAlertTable."""

    index: str
    severity: str  # PrtAlertSeverityLevelTC name
    group: str  # PrtAlertGroupTC name
    code: str  # PrtAlertCodeTC name, or the number for codes without one
    description: str
    # prtAlertGroupIndex: the row of the group's table the alert is about (the
    # tray of an input alert, the cover of a cover alert); None when not given.
    group_index: int | None = None

    @property
    def level(self) -> str | None:
        """The standing alert's level (critical, warning, other); None for a one-off event.

        Binary change events stay in the table while their condition lasts;
        unary change events are single happenings that linger until pushed
        out, so they do not count as active.
        """
        if self.severity == "criticalBinaryChangeEvent":
            return "critical"
        if self.severity == "warningBinaryChangeEvent":
            return "warning"
        if self.severity == "other":
            return "other"
        return None


@dataclass(frozen=True, slots=True)
class PrinterReading:
    model: str  # sysDescr
    object_id: str  # sysObjectID, tells the vendor
    name: str  # sysName
    uptime_seconds: float | None
    status: PrinterStatus  # from hrPrinterStatus; "unknown" when not reported
    device_status: str  # hrDeviceStatus name; "unknown" when not reported
    # hrPrinterDetectedErrorState; None when the printer does not report it,
    # which is not the same as reporting no condition.
    conditions: frozenset[str] | None
    supplies: tuple[Supply, ...]
    trays: tuple[Tray, ...]
    outputs: tuple[Output, ...]
    covers: tuple[Cover, ...]
    alerts: tuple[Alert, ...]
    pages: int | None  # prtMarkerLifeCount summed over page-counting markers
    vendor: str = "generic"  # the name of the vendor that decoded this reading
