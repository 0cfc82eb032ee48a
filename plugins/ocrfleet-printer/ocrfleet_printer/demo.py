"""The demo fleet's printers: an SNMP recording per printer, and a simulator that keeps it alive.

The demo serves every SNMP device from one snmpsim process, one community
per device (ocrfleet.demo.snmp_agents). Two snmpsim facts shape this module:

- Values that change are `writecache` entries, changed with SNMP SET. But
  snmpsim 1.2.2 keeps that cache per OID, not per device: a SET through one
  community changes the same OID for every device. So each printer's
  Printer-MIB rows live under its own hrDeviceIndex (1, 2, 3, ... in the
  order the demo asks for them), where a real fleet would mostly use 1.
- Scalars such as sysUpTime.0 cannot be told apart that way. They are
  served with snmpsim's `subprocess` variation, which reads the value from a
  small file the simulator rewrites on every tick.

The simulator plays a day in a public computer room in demo time: visitors
print while the site is open, toner and paper run down and are replaced by
an attendant, now and then a page jams. Where a real event would be over
before the daemon's next poll (the demo polls every 15 real seconds, however
fast demo time runs), it is held for a little longer than a poll interval,
so that a fast demo still shows it.
"""

from __future__ import annotations

import logging
import math
import random
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ocrfleet.plugin import (
    Cell,
    DeviceInfo,
    SimulationContext,
    Simulator,
    SnmpValue,
    animate,
    as_read,
    scalar_path,
    snmprec,
    write_scalar,
)
from ocrfleet_printer import oids

log = logging.getLogger(__name__)

TICK = 60.0  # demo seconds per step, as long as that is at least MIN_SLEEP real seconds
MIN_SLEEP = 0.2
# At real-time speed a 60 s step would freeze sysUpTime across four polls.
MAX_SLEEP = 5.0
LOW_FRACTION = 0.1  # as the printer kind's default low_fraction
DEFAULT_POLL_INTERVAL = 15.0

# The main library's printer is the demo's showcase: it starts with a low
# yellow toner and jams on a job in the first minutes, whatever the hour.
SHOWCASE_SITES = frozenset({"vlaminggem-library"})
# Brother printers report toner as "some remaining" (-3) over an unknown
# capacity (-2), never as a percentage: the service centre's printer shows that.
BROTHER_STYLE_SITES = frozenset({"boskerke-service-centre"})

# About one jam per 250 pages: more than a well-kept laser printer, so that a
# demo day has one or two.
JAM_PER_PAGE = 1 / 250

_TIMETICKS = 2**32

# Column values used below (RFC 3805 and IANA-PRINTER-MIB).
_HR_DEVICE_TYPE = "1.3.6.1.2.1.25.3.2.1.2"
_HR_DEVICE_DESCR = "1.3.6.1.2.1.25.3.2.1.3"
_HR_DEVICE_PRINTER = "1.3.6.1.2.1.25.3.1.5"
_SYS_CONTACT = "1.3.6.1.2.1.1.4.0"
_SYS_LOCATION = "1.3.6.1.2.1.1.6.0"
_PRT_MARKER_MARK_TECH = oids.PRT_MARKER_ENTRY + ".2"
_PRT_MARKER_POWER_ON_COUNT = oids.PRT_MARKER_ENTRY + ".5"
_PRT_MARKER_SUPPLIES_MARKER_INDEX = oids.PRT_MARKER_SUPPLIES_ENTRY + ".2"
_PRT_MARKER_COLORANT_MARKER_INDEX = oids.PRT_MARKER_COLORANT_ENTRY + ".2"
_PRT_MARKER_COLORANT_ROLE = oids.PRT_MARKER_COLORANT_ENTRY + ".3"
_PRT_MARKER_COLORANT_TONALITY = oids.PRT_MARKER_COLORANT_ENTRY + ".5"
_PRT_ALERT_TRAINING_LEVEL = oids.PRT_ALERT_ENTRY + ".3"
_PRT_ALERT_GROUP_INDEX = oids.PRT_ALERT_ENTRY + ".5"
_PRT_ALERT_LOCATION = oids.PRT_ALERT_ENTRY + ".6"
_PRT_ALERT_TIME = oids.PRT_ALERT_ENTRY + ".9"
_TONER_TYPES = frozenset({3, 21})  # toner, tonerCartridge
_COVER_OPEN, _COVER_CLOSED = 3, 4
_UNIT_PERCENT, _UNIT_IMPRESSIONS, _UNIT_SHEETS = 19, 7, 8
_TRAY_CASSETTE, _TRAY_MANUAL = 3, 5  # sheetFeedAutoRemovableTray, sheetFeedManual


@dataclass(frozen=True, slots=True)
class _Supply:
    description: str
    type: int  # PrtMarkerSuppliesTypeTC
    supply_class: int | None  # None: left out, as most agents do
    unit: int | None
    capacity: int  # in `unit`; what the simulator counts in
    colorant: int  # row of the colorant table, 0 for none
    # Which pages use it: every page (black toner, drum, waste box) or colour pages only.
    uses: Literal["every", "colour"]
    per_page: float
    start: float
    # Brother style: level -3 ("some remaining") while any is left, max capacity -2.
    some_remaining: bool = False

    @property
    def receptacle(self) -> bool:
        return self.supply_class == oids.SUPPLY_CLASS_RECEPTACLE

    @property
    def toner(self) -> bool:
        return self.type in _TONER_TYPES


@dataclass(frozen=True, slots=True)
class _Tray:
    name: str
    media: str
    capacity: int
    start: int
    a3: bool = False
    # A bypass or multi-purpose tray: fed by hand, normally empty, not watched.
    manual: bool = False
    some_remaining: bool = False


@dataclass(frozen=True, slots=True)
class _Profile:
    descr: str
    object_id: str
    supplies: tuple[_Supply, ...]
    trays: tuple[_Tray, ...]
    colorants: tuple[str, ...]
    covers: tuple[str, ...]
    jam_cover: int  # the cover an attendant opens to clear a jam
    output: str | None
    pages: int
    jobs_open: float  # print jobs per demo hour while the site is open
    # Staff of the building print a little outside public hours too, which
    # keeps a demo started at night from standing still.
    jobs_closed: float
    colour_share: float
    a3_share: float
    error_octets: int  # Brother sends hrPrinterDetectedErrorState as one octet
    alerts: bool


_COLOUR_MFP = _Profile(
    descr="Acme ColorMFP C3530 A3; firmware 4.2.7",
    object_id="1.3.6.1.4.1.99999.1.3530",
    supplies=(
        _Supply("Cyan Toner TK-35C", 21, 3, _UNIT_PERCENT, 100, 1, "colour", 0.3, 58),
        _Supply("Magenta Toner TK-35M", 21, 3, _UNIT_PERCENT, 100, 2, "colour", 0.3, 71),
        _Supply("Yellow Toner TK-35Y", 21, 3, _UNIT_PERCENT, 100, 3, "colour", 0.3, 7),
        # Black runs some twenty times faster than a real cartridge's yield
        # would allow, so that a demo day sees one run out and be replaced.
        _Supply("Black Toner TK-35K", 21, 3, _UNIT_PERCENT, 100, 4, "every", 0.45, 46),
        _Supply("Waste Toner Box WT-35", 4, 4, _UNIT_PERCENT, 100, 0, "every", 0.02, 38),
        _Supply("Drum Unit DK-35", 9, 3, _UNIT_IMPRESSIONS, 60_000, 0, "every", 1.0, 41_234),
    ),
    trays=(
        _Tray("Tray 1", "iso_a4_210x297mm", 500, 140),
        _Tray("Tray 2", "iso_a4_210x297mm", 500, 460),
        _Tray("Tray 3", "iso_a3_297x420mm", 250, 210, a3=True),
    ),
    colorants=("cyan", "magenta", "yellow", "black"),
    covers=("Front Cover", "Right Side Cover"),
    jam_cover=1,
    output="Main Output Tray",
    pages=187_433,
    jobs_open=8.0,
    jobs_closed=0.6,
    colour_share=0.35,
    a3_share=0.05,
    error_octets=2,
    alerts=True,
)

_MONO_LASER = _Profile(
    descr="Acme LaserMono 4250dn; firmware 2.16.1",
    object_id="1.3.6.1.4.1.99999.1.4250",
    supplies=(
        _Supply("Black Toner Cartridge AC-45K", 21, 3, _UNIT_PERCENT, 100, 1, "every", 0.35, 33),
        _Supply("Imaging Drum AC-45D", 9, 3, _UNIT_IMPRESSIONS, 30_000, 0, "every", 1.0, 12_800),
    ),
    trays=(
        # Starts low: the first thing an attendant does is fill it.
        _Tray("Tray 1", "iso_a4_210x297mm", 250, 24),
        _Tray("Tray 2", "iso_a4_210x297mm", 500, 380),
    ),
    colorants=("black",),
    covers=("Front Door", "Rear Cover"),
    jam_cover=0,
    output="Face-down Bin",
    pages=64_210,
    jobs_open=5.0,
    jobs_closed=0.4,
    colour_share=0.0,
    a3_share=0.0,
    error_octets=2,
    alerts=True,
)

_BROTHER_STYLE = _Profile(
    descr="Brotherly NC-8800w, Firmware Ver.1.23 (20.11.06)",
    object_id="1.3.6.1.4.1.99999.2.3.9.1",
    supplies=(
        _Supply("Black Toner Cartridge", 3, None, None, 100, 0, "every", 0.3, 52, True),
        _Supply("Drum Unit", 9, None, None, 12_000, 0, "every", 1.0, 7_420),
    ),
    trays=(
        _Tray("MP TRAY", "", 50, 0, manual=True),
        _Tray("TRAY1", "", 250, 190, some_remaining=True),
    ),
    colorants=(),
    covers=("Front Cover",),
    jam_cover=0,
    output=None,
    pages=23_877,
    jobs_open=4.0,
    jobs_closed=0.3,
    colour_share=0.0,
    a3_share=0.0,
    error_octets=1,
    alerts=False,
)


def profile_of(device: DeviceInfo) -> _Profile:
    if device.site in BROTHER_STYLE_SITES:
        return _BROTHER_STYLE
    if "colour" in device.model.lower() or "color" in device.model.lower():
        return _COLOUR_MFP
    return _MONO_LASER


# -- Unique rows and scalar files (see the module docstring) -----------------

# -- The printer's state ------------------------------------------------------


@dataclass(slots=True)
class _Jam:
    door_at: float  # when the attendant opens the cover to pull the paper out
    until: float  # when the paper is out and the cover closed again


class _State:
    """What the simulated printer holds: levels, counters and what is going on."""

    def __init__(self, profile: _Profile, device: DeviceInfo) -> None:
        # Seeded by the device alone, so the recording and the simulator agree.
        rng = random.Random(zlib.crc32(f"printer:{device.key}".encode()))
        self.levels = [float(s.start) for s in profile.supplies]
        self.trays = [t.start for t in profile.trays]
        self.pages = profile.pages
        self.uptime = rng.uniform(3, 25) * 86_400.0  # seconds since the printer was switched on
        self.jam: _Jam | None = None
        self.door_open = False
        self.busy_until = 0.0
        self.warmup_until = 0.0
        self.now = 0.0


class _Printer:
    """Renders a _State as the printer's SNMP values."""

    def __init__(self, profile: _Profile, index: int) -> None:
        self.profile = profile
        self.index = index
        # Alert row -> (its alert, sysUpTime ticks when it was raised).
        self._raised: dict[int, tuple[tuple[int, int, int, int, str], int]] = {}

    # -- conditions --------------------------------------------------------

    def black_ready(self, state: _State) -> bool:
        """Whether every supply that each page needs is there (toner, drum, waste room)."""
        return all(
            level > 0
            for supply, level in zip(self.profile.supplies, state.levels, strict=True)
            if supply.uses == "every"
        )

    def paper_for(self, state: _State, a3: bool) -> int | None:
        for n, tray in enumerate(self.profile.trays):
            if not tray.manual and tray.a3 == a3 and state.trays[n] >= 1:
                return n
        return None

    def conditions(self, state: _State) -> set[str]:
        found: set[str] = set()
        trays = [(t, state.trays[n]) for n, t in enumerate(self.profile.trays) if not t.manual]
        if any(0 < level <= LOW_FRACTION * t.capacity for t, level in trays):
            found.add("lowPaper")
        if any(level < 1 for _, level in trays):
            found.add("inputTrayEmpty")
        if self.paper_for(state, a3=False) is None:
            found.add("noPaper")
        for supply, level in zip(self.profile.supplies, state.levels, strict=True):
            low = level <= LOW_FRACTION * supply.capacity
            if supply.toner and level <= 0:
                found.add("noToner")
            elif supply.toner and low:
                found.add("lowToner")
            elif not supply.toner and low:
                # A waste box nearly full or a drum near its end: a service call.
                found.add("serviceRequested")
        if state.jam is not None:
            found.add("jammed")
        if state.door_open:
            found.add("doorOpen")
        return found

    def down(self, state: _State, conditions: set[str]) -> bool:
        return bool(conditions & {"jammed", "doorOpen", "noPaper"}) or not self.black_ready(state)

    # -- values ------------------------------------------------------------

    def static(self, device: DeviceInfo) -> dict[str, tuple[str, int | str | bytes]]:
        p, d = self.profile, self.index
        cells: dict[str, tuple[str, int | str | bytes]] = {
            oids.SYS_DESCR: ("4", p.descr),
            oids.SYS_OBJECT_ID: ("6", p.object_id),
            oids.SYS_NAME: ("4", f"{device.site}-{device.id}"),
            _SYS_CONTACT: ("4", "ict@vlaminggem.example"),
            _SYS_LOCATION: ("4", device.site),
            f"{_HR_DEVICE_TYPE}.{d}": ("6", _HR_DEVICE_PRINTER),
            f"{_HR_DEVICE_DESCR}.{d}": ("4", p.descr.split(";")[0].split(",")[0]),
            f"{_PRT_MARKER_MARK_TECH}.{d}.1": ("2", 4),  # electrophotographicLaser
            f"{oids.PRT_MARKER_COUNTER_UNIT}.{d}.1": ("2", _UNIT_IMPRESSIONS),
            f"{_PRT_MARKER_POWER_ON_COUNT}.{d}.1": ("65", 17),
        }
        for n, name in enumerate(p.covers, 1):
            cells[f"{oids.PRT_COVER_DESCRIPTION}.{d}.{n}"] = ("4", name)
        for n, tray in enumerate(p.trays, 1):
            row = f"{d}.{n}"
            kind = _TRAY_MANUAL if tray.manual else _TRAY_CASSETTE
            cells[f"{oids.PRT_INPUT_TYPE}.{row}"] = ("2", kind)
            cells[f"{oids.PRT_INPUT_CAPACITY_UNIT}.{row}"] = ("2", _UNIT_SHEETS)
            cells[f"{oids.PRT_INPUT_MAX_CAPACITY}.{row}"] = ("2", tray.capacity)
            cells[f"{oids.PRT_INPUT_STATUS}.{row}"] = ("2", 0)
            if tray.media:
                cells[f"{oids.PRT_INPUT_MEDIA_NAME}.{row}"] = ("4", tray.media)
            cells[f"{oids.PRT_INPUT_NAME}.{row}"] = ("4", tray.name)
            feed = "manual" if tray.manual else "cassette"
            cells[f"{oids.PRT_INPUT_DESCRIPTION}.{row}"] = ("4", f"{tray.name} ({feed})")
            if tray.manual:
                cells[f"{oids.PRT_INPUT_CURRENT_LEVEL}.{row}"] = ("2", tray.start)
        if p.output is not None:
            row = f"{d}.1"
            cells[f"{oids.PRT_OUTPUT_TYPE}.{row}"] = ("2", 3)  # removableBin
            cells[f"{oids.PRT_OUTPUT_CAPACITY_UNIT}.{row}"] = ("2", _UNIT_SHEETS)
            cells[f"{oids.PRT_OUTPUT_MAX_CAPACITY}.{row}"] = ("2", 250)
            # Visitors take their pages away: the bin never fills.
            cells[f"{oids.PRT_OUTPUT_REMAINING_CAPACITY}.{row}"] = ("2", oids.LEVEL_SOME_REMAINING)
            cells[f"{oids.PRT_OUTPUT_STATUS}.{row}"] = ("2", 0)
            cells[f"{oids.PRT_OUTPUT_NAME}.{row}"] = ("4", p.output)
        for n, supply in enumerate(p.supplies, 1):
            row = f"{d}.{n}"
            cells[f"{_PRT_MARKER_SUPPLIES_MARKER_INDEX}.{row}"] = ("2", 1)
            if p.colorants:
                cells[f"{oids.PRT_MARKER_SUPPLIES_COLORANT_INDEX}.{row}"] = ("2", supply.colorant)
            if supply.supply_class is not None:
                cells[f"{oids.PRT_MARKER_SUPPLIES_CLASS}.{row}"] = ("2", supply.supply_class)
            cells[f"{oids.PRT_MARKER_SUPPLIES_TYPE}.{row}"] = ("2", supply.type)
            cells[f"{oids.PRT_MARKER_SUPPLIES_DESCRIPTION}.{row}"] = ("4", supply.description)
            if supply.unit is not None:
                cells[f"{oids.PRT_MARKER_SUPPLIES_SUPPLY_UNIT}.{row}"] = ("2", supply.unit)
            maximum = oids.LEVEL_UNKNOWN if supply.some_remaining else supply.capacity
            cells[f"{oids.PRT_MARKER_SUPPLIES_MAX_CAPACITY}.{row}"] = ("2", maximum)
        for n, colour in enumerate(p.colorants, 1):
            row = f"{d}.{n}"
            cells[f"{_PRT_MARKER_COLORANT_MARKER_INDEX}.{row}"] = ("2", 1)
            cells[f"{_PRT_MARKER_COLORANT_ROLE}.{row}"] = ("2", 3)  # process
            cells[f"{oids.PRT_MARKER_COLORANT_VALUE}.{row}"] = ("4", colour)
            cells[f"{_PRT_MARKER_COLORANT_TONALITY}.{row}"] = ("2", 256)
        if p.alerts:
            for n in range(1, 4):
                cells[f"{_PRT_ALERT_GROUP_INDEX}.{d}.{n}"] = ("2", -1)
                cells[f"{_PRT_ALERT_LOCATION}.{d}.{n}"] = ("2", oids.LEVEL_UNKNOWN)
        return cells

    def dynamic(self, state: _State) -> dict[str, Cell]:
        p, d = self.profile, self.index
        conditions = self.conditions(state)
        down = self.down(state, conditions)
        if down:
            device_status, printer_status = 5, 1  # down, other
        else:
            warning = conditions & {
                "lowPaper",
                "lowToner",
                "noToner",
                "inputTrayEmpty",
                "serviceRequested",
            }
            device_status = 3 if warning else 2
            if state.now < state.warmup_until:
                printer_status = 5
            elif state.now < state.busy_until:
                printer_status = 4
            else:
                printer_status = 3
        cells: dict[str, Cell] = {
            f"{oids.HR_DEVICE_STATUS}.{d}": ("2", device_status),
            f"{oids.HR_PRINTER_STATUS}.{d}": ("2", printer_status),
            f"{oids.HR_PRINTER_DETECTED_ERROR_STATE}.{d}": (
                "4",
                _error_state(conditions, p.error_octets),
            ),
            f"{oids.PRT_MARKER_LIFE_COUNT}.{d}.1": ("65", state.pages % _TIMETICKS),
        }
        for n, _ in enumerate(p.covers, 1):
            is_open = state.door_open and n - 1 == p.jam_cover
            cells[f"{oids.PRT_COVER_STATUS}.{d}.{n}"] = (
                "2",
                _COVER_OPEN if is_open else _COVER_CLOSED,
            )
        for n, tray in enumerate(p.trays, 1):
            if tray.manual:
                continue
            level = state.trays[n - 1]
            if tray.some_remaining:
                level = oids.LEVEL_SOME_REMAINING if level >= 1 else 0
            cells[f"{oids.PRT_INPUT_CURRENT_LEVEL}.{d}.{n}"] = ("2", level)
        for n, supply in enumerate(p.supplies, 1):
            cells[f"{oids.PRT_MARKER_SUPPLIES_LEVEL}.{d}.{n}"] = (
                "2",
                _supply_level(supply, state.levels[n - 1]),
            )
        if p.alerts:
            for n, alert in enumerate(self.alerts(state, conditions), 1):
                held = self._raised.get(n)
                if held is None or held[0] != alert:
                    self._raised[n] = held = alert, _ticks(state.uptime)
                severity, training, group, code, text = alert
                row = f"{d}.{n}"
                cells[f"{_PRT_ALERT_TIME}.{row}"] = ("67", held[1])
                cells[f"{oids.PRT_ALERT_SEVERITY_LEVEL}.{row}"] = ("2", severity)
                cells[f"{_PRT_ALERT_TRAINING_LEVEL}.{row}"] = ("2", training)
                cells[f"{oids.PRT_ALERT_GROUP}.{row}"] = ("2", group)
                cells[f"{oids.PRT_ALERT_CODE}.{row}"] = ("2", code)
                cells[f"{oids.PRT_ALERT_DESCRIPTION}.{row}"] = ("4", text.encode())
        return cells

    def alerts(
        self, state: _State, conditions: set[str]
    ) -> Iterator[tuple[int, int, int, int, str]]:
        """Three standing rows: (severity, training level, group, code, description).

        Rows cannot come and go in the recording, so a row without a standing
        alert holds a one-off event (a unary severity), which does not count
        as active.
        """
        critical, warning, event = 3, 5, 4  # binary critical, binary warning, unary warning
        untrained, trained, nobody = 3, 4, 7  # noInterventionRequired
        cover = self.profile.covers[self.profile.jam_cover]
        if "jammed" in conditions:
            yield critical, untrained, 13, 8, f"Paper jam: open the {cover.lower()}"
        else:
            yield event, nobody, 5, 507, "Ready to print"
        if state.door_open:
            yield critical, untrained, 6, 3, f"{cover} open"
        else:
            yield event, nobody, 6, 4, f"{cover} closed"
        empty = [
            s.description
            for s, level in zip(self.profile.supplies, state.levels, strict=True)
            if s.toner and level <= 0
        ]
        low = [
            s.description
            for s, level in zip(self.profile.supplies, state.levels, strict=True)
            if s.toner and 0 < level <= LOW_FRACTION * s.capacity
        ]
        if empty:
            yield critical, trained, 11, 1101, f"Replace {empty[0]}"
        elif "noPaper" in conditions:
            yield critical, untrained, 8, 808, "Load paper"
        elif low:
            yield warning, trained, 11, 1104, f"{low[0]} low"
        elif "lowPaper" in conditions:
            yield warning, untrained, 8, 807, "Paper low"
        else:
            yield event, nobody, 5, 503, "Powered up"


def _ticks(seconds: float) -> int:
    return int(seconds * 100) % _TIMETICKS


def _supply_level(supply: _Supply, level: float) -> int:
    if supply.some_remaining:
        return oids.LEVEL_SOME_REMAINING if level > 0 else 0
    # Rounded up: a printer says 0 only when there is really nothing left.
    return max(0, min(supply.capacity, math.ceil(level)))


def _error_state(conditions: set[str], octets: int) -> bytes:
    value = bytearray(octets)
    for bit, name in enumerate(oids.ERROR_STATE_BITS):
        octet, shift = divmod(bit, 8)
        if name in conditions and octet < octets:
            value[octet] |= 0x80 >> shift
    return bytes(value)


def demo_recording(device: DeviceInfo, context: SimulationContext) -> str:
    """The printer's .snmprec text for the demo agent."""
    profile = profile_of(device)
    printer = _Printer(profile, context.device_number)
    state = _State(profile, device)
    uptime = scalar_path(_work_dir(context), device, "sysUpTime")
    write_scalar(uptime, _ticks(state.uptime))
    return snmprec(
        printer.static(device), printer.dynamic(state), {oids.SYS_UPTIME: ("67", uptime)}
    )


def simulator(device: DeviceInfo, context: SimulationContext) -> Simulator | None:
    if context.snmp_port is None or context.snmp_community is None:
        return None
    return DemoPrinter(device, context).run


class DemoPrinter:
    """One demo printer, living in demo time.

    Realistic parts: pages only while someone prints (visitors in opening
    hours, a little staff printing outside them), black on every page and
    colour on colour pages, paper drawn tray after tray, a jam cleared by an
    attendant 5-15 minutes after it happened, with a cover open for the last
    minutes while they pull the paper out, warm-up after a jam and when the
    site opens (the printer wakes from its night's sleep).
    Compressed for the demo: toner runs out within a day, jams are more
    frequent than on a well-kept printer, and attendants also replace toner
    and paper outside opening hours (later than when the site is open) so a
    demo started at night still changes.
    """

    def __init__(self, device: DeviceInfo, context: SimulationContext) -> None:
        self._device = device
        self._context = context
        self._profile = profile_of(device)
        self._printer = _Printer(self._profile, context.device_number)
        self._rng = random.Random(context.random_seed ^ zlib.crc32(str(device.key).encode()))
        self._uptime_file = scalar_path(_work_dir(context), device, "sysUpTime")
        interval = float(getattr(device.options, "poll_interval", DEFAULT_POLL_INTERVAL))
        # Demo seconds an event lasts at least: a little over one poll interval.
        self._visible = (interval + 1.0) * context.speedup
        self._sleep = max(MIN_SLEEP, min(MAX_SLEEP, TICK / context.speedup))
        start = context.now()
        self._state = _State(self._profile, device)
        self._booted = start - self._state.uptime
        self._was_open = context.site_open(start)
        self._replace_at: dict[int, float] = {}
        self._refill_at: dict[int, float] = {}
        self._jam_at: float | None = None
        if device.site in SHOWCASE_SITES:
            # Within the first demo minutes, so that a first look sees it,
            # but only once every device has been polled (first polls are
            # spread over up to 10 real seconds): the daemon must see the
            # printer before and after.
            after_first_polls = (min(interval, 10.0) + 5.0) * context.speedup
            self._jam_at = start + max(self._rng.uniform(40, 100), after_first_polls)

    async def run(self) -> None:
        await animate(self._context, self._sleep, self._tick)

    def _tick(self, now: float, elapsed: float) -> Mapping[str, Cell]:
        self.step(now, elapsed)
        write_scalar(self._uptime_file, _ticks(self._state.uptime))
        return self._printer.dynamic(self._state)

    def snapshot(self) -> dict[str, SnmpValue]:
        """What the printer's agent answers now, as the daemon reads it."""
        cells: dict[str, tuple[str, int | str | bytes]] = {}
        cells.update(self._printer.static(self._device))
        cells.update(self._printer.dynamic(self._state))
        cells[oids.SYS_UPTIME] = ("67", _ticks(self._state.uptime))
        return {oid: as_read(tag, value) for oid, (tag, value) in cells.items()}

    def step(self, now: float, elapsed: float) -> None:
        state = self._state
        state.now = now
        state.uptime = now - self._booted
        open_now = self._context.site_open(now)
        if open_now and not self._was_open:
            # Out of its night's sleep when the first visitor arrives.
            state.warmup_until = now + self._rng.uniform(45, 120)
        self._was_open = open_now
        self._attendant(now, open_now)
        if state.jam is not None:
            return
        rate = self._profile.jobs_open if open_now else self._profile.jobs_closed
        jobs = _poisson(self._rng, min(30.0, rate * elapsed / 3600))
        showcase = self._jam_at is not None and now >= self._jam_at
        if showcase:
            jobs = max(jobs, 1)
        for n in range(jobs):
            forced = showcase and n == jobs - 1
            if self._print_job(now, force_jam=forced):
                if forced:
                    self._jam_at = None
                break

    def _delay(self, open_now: bool, minutes: tuple[float, float]) -> float:
        delay = self._rng.uniform(*minutes) * 60
        # Nobody is at the desk when the site is closed: it takes longer.
        return max(delay if open_now else 3 * delay, self._visible)

    def _attendant(self, now: float, open_now: bool) -> None:
        state = self._state
        for n, supply in enumerate(self._profile.supplies):
            if state.levels[n] <= 0 and n not in self._replace_at:
                self._replace_at[n] = now + self._delay(open_now, (20, 90))
            if n in self._replace_at and now >= self._replace_at[n]:
                del self._replace_at[n]
                state.levels[n] = float(supply.capacity)
        for n, tray in enumerate(self._profile.trays):
            if tray.manual:
                continue
            if state.trays[n] <= LOW_FRACTION * tray.capacity and n not in self._refill_at:
                self._refill_at[n] = now + self._delay(open_now, (10, 40))
            if n in self._refill_at and now >= self._refill_at[n]:
                del self._refill_at[n]
                state.trays[n] = tray.capacity - self._rng.randint(0, 10)
        jam = state.jam
        if jam is not None and now >= jam.door_at:
            state.door_open = True
        if jam is not None and now >= jam.until:
            state.jam = None
            state.door_open = False
            state.warmup_until = now + self._rng.uniform(30, 60)

    def _print_job(self, now: float, force_jam: bool = False) -> bool:
        """Print one job; True when it jammed."""
        profile, state = self._profile, self._state
        pages = min(40, max(1, round(self._rng.lognormvariate(1.0, 0.8))))
        colour = self._rng.random() < profile.colour_share
        a3 = self._rng.random() < profile.a3_share
        printed = 0
        jammed = False
        for page in range(pages):
            tray = self._printer.paper_for(state, a3)
            if tray is None or not self._printer.black_ready(state):
                break
            state.trays[tray] -= 1
            state.pages += 1
            printed += 1
            for n, supply in enumerate(profile.supplies):
                if supply.uses == "colour" and not colour:
                    continue
                use = supply.per_page * self._rng.uniform(0.7, 1.3)
                state.levels[n] = max(0.0, state.levels[n] - use)
                if supply.uses == "colour" and state.levels[n] <= 0:
                    colour = False  # the rest of the job comes out in black
            if (force_jam and page == pages - 1) or self._rng.random() < JAM_PER_PAGE:
                self._jam(now)
                jammed = True
                break
        if printed:
            # About 4 demo seconds a page, plus the start of the job.
            state.busy_until = max(state.busy_until, now) + 10 + 4 * printed
        return jammed

    def _jam(self, now: float) -> None:
        until = now + max(self._rng.uniform(5, 15) * 60, self._visible)
        door_for = max(self._rng.uniform(1, 3) * 60, self._visible / 2)
        self._state.jam = _Jam(door_at=until - door_for, until=until)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means of one tick.
    limit = math.exp(-mean)
    count = 0
    product = rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _work_dir(context: SimulationContext) -> Path:
    if context.work_dir is None:
        raise ValueError("the demo gives SNMP simulators a work_dir")
    return context.work_dir
