"""The printer kind without a network: decoding, parsing recorded agents, samples and status.

The recordings in tests/fixtures/snmp/printers are written for these tests
(modelled on the structure of real agents, with their own values); each test
says which quirk of real printers it stands for.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import Sample
from ocrfleet.state import Availability, DeviceView, PollFailure, Presence, Usage
from ocrfleet_printer import oids
from ocrfleet_printer.decode import error_conditions, text
from ocrfleet_printer.kind import PrinterKind, PrinterOptions
from ocrfleet_printer.parse import level_state, parse_reading, strip_serial, unique_labels
from ocrfleet_printer.reading import PRINTER_STATUSES, SUPPLY_STATES, PrinterReading, Supply
from tests.support.snmprec import read_snmprec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"
BRUSSELS = ZoneInfo("Europe/Brussels")


@cache
def reading(name: str, low_fraction: float = 0.1) -> PrinterReading:
    return parse_reading(read_snmprec(FIXTURES / f"{name}.snmprec"), low_fraction)


def supply(r: PrinterReading, label: str) -> Supply:
    found = [s for s in r.supplies if s.label == label]
    assert len(found) == 1, [s.label for s in r.supplies]
    return found[0]


# -- decoding octet strings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        (b"", ""),
        (b"  Black Toner  ", "Black Toner"),
        (b"Drum Unit\x00\x00\x00\x00leftover", "Drum Unit"),
        (b"Fuser\r\nUnit\r\n", "Fuser Unit"),
        (b"Fuser\rUnit\nKit", "Fuser Unit Kit"),
        # JetDirect style: 16 bytes of text, the rest as hex-pair lines.
        (b"Yellow Cartridge\n20 36 35 32 41 20 00 ", "Yellow Cartridge 652A"),
        (b"Magenta Cartridg\n65 20 48 50\n00 ", "Magenta Cartridge HP"),
        # The whole value as one hex dump.
        (b"42 6C 61 63 6B 00", "Black"),
        # Looks like hex, decodes to control bytes: it was text all along.
        (b"12 34", "12 34"),
        (b"Schwarz Toner", "Schwarz Toner"),
        ("Tóner negro".encode("latin-1"), "Tóner negro"),
        ("黑色碳粉".encode(), "黑色碳粉"),
        (b"Toner\tK\x07", "Toner K"),
        (b"\x00\x00\x00", ""),
        ("1.3.6.1.4.1.11", "1.3.6.1.4.1.11"),
        (42, "42"),
    ],
)
def test_text_decoding(raw: bytes | str | int | None, expected: str) -> None:
    assert text(raw) == expected


@given(st.binary(max_size=300))
def test_text_never_raises_and_is_one_trimmed_line(raw: bytes) -> None:
    decoded = text(raw)
    assert decoded == decoded.strip()
    assert "\n" not in decoded and "\r" not in decoded and "\x00" not in decoded


# -- hrPrinterDetectedErrorState ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),  # not reported: not the same as "no condition"
        (7, None),  # an INTEGER where BITS belong: unreadable, so not reported
        (b"", frozenset()),  # Epson sends this
        (b"\x00", frozenset()),  # Brother and HP send one octet
        (b"\x00\x00", frozenset()),
        (b"\x80", {"lowPaper"}),
        (b"\x20", {"lowToner"}),  # one octet 0x20 is a real lowToner, not padding
        (b"\x20\x00", {"lowToner"}),
        (b"  ", frozenset()),  # space padding, not lowToner + markerSupplyMissing
        (b"    ", frozenset()),
        (b"\x0c\x00", {"doorOpen", "jammed"}),
        (b"\x80\x04", {"lowPaper", "inputTrayEmpty"}),
        (b"\x01\x00", {"serviceRequested"}),
        (b"\x00\x80", {"inputTrayMissing"}),
        (b"\x00\x02", {"overduePreventMaint"}),
        (b"\x00\x01", frozenset()),  # bit 15 is unassigned
        (b"\x00\x00\xff\xff", frozenset()),  # octets past the second define nothing
        (b"\xff\xff", set(oids.ERROR_STATE_BITS)),
    ],
)
def test_error_state_bits(raw: bytes | int | None, expected: set[str] | None) -> None:
    assert error_conditions(raw) == (None if expected is None else frozenset(expected))


@given(st.binary(max_size=64))
def test_error_state_never_raises_or_invents_names(raw: bytes) -> None:
    found = error_conditions(raw)
    assert found is not None
    assert found <= set(oids.ERROR_STATE_BITS)
    if len(raw) >= 2 and set(raw) == {0x20}:
        assert found == frozenset()


def test_error_state_names_follow_rfc_2790_bit_order() -> None:
    assert oids.ERROR_STATE_BITS.index("lowPaper") == 0
    assert oids.ERROR_STATE_BITS.index("jammed") == 5
    assert oids.ERROR_STATE_BITS.index("serviceRequested") == 7
    assert oids.ERROR_STATE_BITS.index("overduePreventMaint") == 14
    assert len(oids.ERROR_STATE_BITS) == 15


# -- levels: never invent a percentage -----------------------------------------------


@pytest.mark.parametrize(
    ("level", "max_capacity", "receptacle", "fraction", "state"),
    [
        (42, 100, False, 0.42, "ok"),
        (10, 100, False, 0.10, "low"),  # the threshold itself is low
        (11, 100, False, 0.11, "ok"),
        (0, 100, False, 0.0, "empty"),
        (6, 100, True, 0.06, "nearly_full"),
        (0, 100, True, 0.0, "full"),
        (100, 100, True, 1.0, "ok"),
        (150, 100, False, 1.0, "ok"),  # above capacity: capped, not 150 %
        (-1, 100, False, None, "other"),
        (-2, 100, False, None, "unknown"),
        (-3, 100, False, None, "some_remaining"),
        (-3, -2, False, None, "some_remaining"),
        (-3, -2, True, None, "some_remaining"),
        (-9, 100, False, None, "unknown"),
        (None, 100, False, None, "unknown"),
        (50, -1, False, None, "unknown"),
        (50, -2, False, None, "unknown"),
        (50, 0, False, None, "unknown"),
        (50, None, False, None, "unknown"),
        (0, -2, False, None, "unknown"),  # Brother's empty slot: not "empty"
    ],
)
def test_level_state(
    level: int | None,
    max_capacity: int | None,
    receptacle: bool,
    fraction: float | None,
    state: str,
) -> None:
    got_fraction, got_state = level_state(level, max_capacity, receptacle, 0.1)
    assert got_state == state
    if fraction is None:
        assert got_fraction is None
    else:
        assert got_fraction == pytest.approx(fraction)


@given(
    st.one_of(st.none(), st.integers(-10, 10**9)),
    st.one_of(st.none(), st.integers(-10, 10**9)),
    st.booleans(),
)
def test_a_fraction_exists_only_for_a_real_level_over_a_real_capacity(
    level: int | None, max_capacity: int | None, receptacle: bool
) -> None:
    fraction, state = level_state(level, max_capacity, receptacle, 0.1)
    assert state in SUPPLY_STATES
    real = level is not None and level >= 0 and max_capacity is not None and max_capacity > 0
    assert (fraction is not None) == real
    if fraction is not None:
        assert 0.0 <= fraction <= 1.0


# -- recorded printers ----------------------------------------------------------------


def test_mono_laser() -> None:
    r = reading("mono_laser")
    assert r.model == "Acme LaserMono 4200dn; firmware 2.14.7"
    assert r.name == "lib-print-01"
    assert r.object_id == "1.3.6.1.4.1.99999.1.4200"
    assert r.uptime_seconds == 86400.0
    assert (r.status, r.device_status) == ("idle", "running")
    assert r.conditions == frozenset()
    assert r.pages == 48213
    toner = supply(r, "Black Toner Cartridge AC-42K")
    assert (toner.type, toner.supply_class, toner.class_reported) == (
        "tonerCartridge",
        "consumed",
        True,
    )
    assert (toner.remaining_fraction, toner.state, toner.colour, toner.unit) == (
        0.42,
        "ok",
        "black",
        "percent",
    )
    drum = supply(r, "Imaging Drum AC-42D")
    assert drum.type == "opc"
    assert drum.remaining_fraction == pytest.approx(8000 / 30000)
    assert drum.colour is None  # colorant index 0: no colorant
    [tray] = r.trays
    assert (tray.label, tray.media, tray.remaining_fraction, tray.state, tray.status) == (
        "Tray 1",
        "iso_a4_210x297mm",
        0.92,
        "ok",
        "availableIdle",
    )
    [output] = r.outputs
    assert (output.label, output.remaining_fraction, output.state) == (
        "Face-down Bin",
        None,
        "some_remaining",
    )
    [cover] = r.covers
    assert (cover.label, cover.open, cover.status) == ("Front Door", False, "coverClosed")
    assert r.alerts == ()


def test_colour_mfp_uses_the_colorant_table_and_reads_the_waste_box_as_room_left() -> None:
    r = reading("colour_mfp")
    assert (r.status, r.device_status) == ("printing", "warning")
    assert r.conditions == frozenset({"lowPaper"})
    colours = {s.label: s.colour for s in r.supplies}
    # The descriptions name no colour; the colorant table does.
    assert colours["Toner Cartridge TK-55C"] == "cyan"
    assert colours["Toner Cartridge TK-55M"] == "magenta"
    assert colours["Toner Cartridge TK-55Y"] == "yellow"
    assert colours["Toner Cartridge TK-55K"] == "black"
    assert supply(r, "Toner Cartridge TK-55Y").state == "low"
    waste = supply(r, "Waste Toner Box")
    assert (waste.supply_class, waste.type, waste.state) == (
        "receptacle",
        "wasteToner",
        "nearly_full",
    )
    assert waste.remaining_fraction == pytest.approx(0.06)
    assert waste.fill_fraction == pytest.approx(0.94)
    assert supply(r, "Drum Unit DK-55").fill_fraction is None  # not a receptacle
    trays = {t.label: t for t in r.trays}
    assert trays["Tray 2"].state == "low"
    assert trays["Tray 2"].status_flags == {"nonCriticalAlerts"}
    assert (trays["Bypass Tray"].state, trays["Bypass Tray"].status) == (
        "empty",
        "unavailableOnRequest",
    )
    assert (trays["Tray 3"].remaining_fraction, trays["Tray 3"].state) == (None, "unknown")
    assert trays["Tray 3"].media == ""
    [output] = r.outputs
    assert output.state == "nearly_full"
    assert {c.label: c.open for c in r.covers} == {"Front Cover": False, "Right Side Cover": False}
    assert [(a.severity, a.code, a.level) for a in r.alerts] == [
        ("warningBinaryChangeEvent", "inputMediaSupplyLow", "warning"),
        ("warningUnaryChangeEvent", "powerUp", None),
    ]


def test_brother_style_some_remaining_is_never_a_percentage() -> None:
    r = reading("brother_style")
    assert r.conditions == frozenset()  # one octet 0x00
    first, second, drum = r.supplies
    # Same description twice: labels made unique by the row number.
    assert (first.label, second.label) == ("Black Toner Cartridge #1", "Black Toner Cartridge #2")
    assert (second.level, second.max_capacity) == (-3, -2)
    assert (second.remaining_fraction, second.state) == (None, "some_remaining")
    # Level 0 of an unknown capacity: "unknown", not "empty".
    assert (first.remaining_fraction, first.state) == (None, "unknown")
    # No class column: toner is consumed by its type.
    assert (second.supply_class, second.class_reported) == ("consumed", False)
    assert drum.remaining_fraction == 0.75
    assert [(t.label, t.state, t.status) for t in r.trays] == [
        ("MP TRAY", "empty", None),
        ("TRAY1", "some_remaining", None),
    ]


def test_special_values_and_descriptions_that_need_decoding() -> None:
    r = reading("special_values")
    assert r.conditions is None  # the agent has no hrPrinterDetectedErrorState
    assert r.status == "unknown"  # nor hrPrinterStatus
    assert r.device_status == "unknown"
    assert r.pages is None  # its marker counts meters, not pages
    rows = [(s.label, s.remaining_fraction, s.state, s.colour) for s in r.supplies]
    assert rows == [
        ("Cyan Ink Cartridge 991C HighYield", 0.75, "ok", "cyan"),  # hex-pair lines
        ("Magenta Ink Cartridge 991M", None, "other", "magenta"),  # CR/LF, NUL then junk
        ("Gele inktcartridge 991Y", None, "unknown", "yellow"),  # UTF-8, Dutch
        ("Encre noire 991K haute capacité", None, "unknown", "black"),  # Latin-1, French
        ("Cleaning Unit", None, "unknown", None),  # capacity 0
        ("Transfer Belt", 1.0, "ok", None),  # level above capacity
        ("Maintenance Box", None, "unknown", None),  # level -9 is out of range
        ("Ink Absorber (waste)", 0.15, "ok", None),  # receptacle by its name alone
        ("Waste Ink Pad", 0.0, "full", None),
        ("supply 10", 0.5, "ok", None),  # no description at all
    ]
    absorber = supply(r, "Ink Absorber (waste)")
    assert (absorber.supply_class, absorber.class_reported) == ("receptacle", False)
    assert absorber.fill_fraction == pytest.approx(0.85)
    assert [(t.label, t.remaining_fraction, t.state) for t in r.trays] == [
        ("Rear Feeder", None, "other"),
        ("Cassette", None, "unknown"),
        ("Photo Tray", 1.0, "ok"),
    ]


def test_jammed_with_the_door_open() -> None:
    r = reading("jammed")
    assert r.conditions == frozenset({"jammed", "doorOpen"})
    assert (r.status, r.device_status) == ("other", "down")
    assert {c.label: c.open for c in r.covers} == {"Front Door": True, "Rear Interlock": False}
    assert Counter(a.level for a in r.alerts) == {"critical": 2, None: 1}
    assert [a.code for a in r.alerts] == ["jam", "coverOpen", "printerReadyToPrint"]
    assert r.alerts[0].group == "mediaPath"
    assert r.alerts[0].description == "Paper jam behind the front door"
    # prtAlertGroupIndex: the row of the group's table (cover 1); -1 is none.
    assert [(a.group, a.group_index) for a in r.alerts] == [
        ("mediaPath", 1),
        ("cover", 1),
        ("generalPrinter", None),
    ]


def test_low_paper() -> None:
    r = reading("low_paper")
    assert r.conditions == frozenset({"lowPaper", "inputTrayEmpty"})
    assert [(t.label, t.state) for t in r.trays] == [("Tray 1", "empty"), ("Tray 2", "low")]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("error_empty", frozenset()),
        ("error_one_byte", frozenset({"lowToner"})),
        ("error_spaces", frozenset()),
        ("error_overlong", frozenset()),
    ],
)
def test_malformed_error_states_from_an_agent(name: str, expected: frozenset[str]) -> None:
    assert reading(name).conditions == expected


def test_low_fraction_is_a_setting() -> None:
    assert supply(reading("colour_mfp"), "Toner Cartridge TK-55M").state == "ok"
    strict = reading("colour_mfp", low_fraction=0.25)
    assert supply(strict, "Toner Cartridge TK-55M").state == "low"
    assert supply(strict, "Waste Toner Box").state == "nearly_full"


def test_every_fixture_parses_with_unique_labels() -> None:
    for path in sorted(FIXTURES.glob("*.snmprec")):
        r = reading(path.stem)
        for rows in (r.supplies, r.trays, r.outputs, r.covers):
            labels = [row.label for row in rows]
            assert len(labels) == len(set(labels)), (path.stem, labels)


def test_serial_numbers_are_kept_out_of_labels() -> None:
    assert strip_serial("Black Toner, PN 006R01509;SN48178080E0000481") == (
        "Black Toner, PN 006R01509"
    )
    assert strip_serial("Black Toner Cartridge S/N:CRUM-1234") == "Black Toner Cartridge"
    assert strip_serial("Fuser S/N:") == "Fuser"
    assert strip_serial("Snow White Toner") == "Snow White Toner"


def test_unique_labels_across_device_indexes() -> None:
    labels = unique_labels([("1.1", "Toner"), ("2.1", "Toner"), ("1.2", "")], fallback="supply")
    assert labels == {"1.1": "Toner #1.1", "2.1": "Toner #2.1", "1.2": "supply 2"}


# -- samples and status ---------------------------------------------------------------

MONDAY_NOON = datetime(2027, 1, 4, 12, 0, tzinfo=BRUSSELS).timestamp()
MONDAY_NIGHT = datetime(2027, 1, 4, 23, 30, tzinfo=BRUSSELS).timestamp()
SCHEDULE = SiteSchedule(OpeningHours.model_validate({"mon": ["09:00-17:00"]}), "Europe/Brussels")


def view(
    r: PrinterReading | None,
    failure: PollFailure | None = None,
    sleep_hours: list[str] | None = None,
    schedule: SiteSchedule | None = SCHEDULE,
) -> DeviceView:
    options = PrinterOptions(host="192.0.2.10", sleep_hours=sleep_hours)
    info = DeviceInfo(DeviceKey("lib", "printer-1"), "printer", options=options, schedule=schedule)
    return DeviceView(
        info=info,
        presence=Presence(Availability.UNKNOWN, failure is None, None),
        last_seen=None,
        reading=r,
        reading_at=None,
        usage=Usage(),
        failure=failure,
    )


def samples(v: DeviceView) -> list[Sample]:
    return list(PrinterKind().samples(v))


def by_name(found: list[Sample], name: str) -> dict[tuple[str, ...], float]:
    series = [(s.labels, s.value) for s in found if s.name == name]
    assert len(series) == len({labels for labels, _ in series}), f"{name} has duplicate series"
    return dict(series)


def test_days_used_below_are_what_they_claim() -> None:
    assert datetime.fromtimestamp(MONDAY_NOON, BRUSSELS).weekday() == 0
    assert SCHEDULE.is_open(MONDAY_NOON)
    assert not SCHEDULE.is_open(MONDAY_NIGHT)


def test_samples_of_a_reading() -> None:
    found = samples(view(reading("colour_mfp")))
    specs = {spec.name: spec for spec in PrinterKind.metric_specs}
    for sample in found:
        assert len(sample.labels) == len(specs[sample.name].labels), sample
    status = by_name(found, "ocrfleet_printer_status")
    assert status == {(s,): 1.0 if s == "printing" else 0.0 for s in PRINTER_STATUSES}
    ratio = by_name(found, "ocrfleet_printer_supply_level_ratio")
    assert ratio[("Toner Cartridge TK-55C", "tonerCartridge", "cyan")] == 0.64
    assert ratio[("Waste Toner Box", "wasteToner", "")] == pytest.approx(0.06)
    state = by_name(found, "ocrfleet_printer_supply_state")
    waste = {k[3]: v for k, v in state.items() if k[0] == "Waste Toner Box"}
    assert waste == {s: 1.0 if s == "nearly_full" else 0.0 for s in SUPPLY_STATES}
    conditions = by_name(found, "ocrfleet_printer_condition")
    assert conditions == {(c,): 1.0 if c == "lowPaper" else 0.0 for c in oids.ERROR_STATE_BITS}
    assert by_name(found, "ocrfleet_printer_pages_total") == {(): 987654.0}
    trays = by_name(found, "ocrfleet_printer_tray_level_ratio")
    assert trays == {
        ("Tray 1", "iso_a4_210x297mm"): 0.96,
        ("Tray 2", "iso_a3_297x420mm"): 0.08,
        ("Bypass Tray", "iso_a4_210x297mm"): 0.0,
    }
    assert by_name(found, "ocrfleet_printer_cover_open") == {
        ("Front Cover",): 0.0,
        ("Right Side Cover",): 0.0,
    }
    assert by_name(found, "ocrfleet_printer_alerts") == {
        ("critical",): 0.0,
        ("warning",): 1.0,
        ("other",): 0.0,
    }
    assert by_name(found, "ocrfleet_printer_uptime_seconds") == {(): 1234567.89}


def test_no_ratio_where_the_printer_gives_no_number() -> None:
    found = samples(view(reading("brother_style")))
    ratio = by_name(found, "ocrfleet_printer_supply_level_ratio")
    assert list(ratio) == [("Drum Unit", "opc", "")]
    state = by_name(found, "ocrfleet_printer_supply_state")
    assert state[("Black Toner Cartridge #2", "toner", "black", "some_remaining")] == 1.0
    assert state[("Black Toner Cartridge #1", "toner", "black", "unknown")] == 1.0


def test_conditions_are_left_out_when_not_reported() -> None:
    found = samples(view(reading("special_values")))
    assert by_name(found, "ocrfleet_printer_condition") == {}
    assert by_name(found, "ocrfleet_printer_pages_total") == {}


def _status(v: DeviceView) -> str | None:
    series = by_name(samples(v), "ocrfleet_printer_status")
    on = [labels[0] for labels, value in series.items() if value == 1.0]
    if not series:
        return None
    assert len(on) == 1 and len(series) == len(PRINTER_STATUSES)
    return on[0]


def _failure(at: float, reason: str = "timeout") -> PollFailure:
    return PollFailure(reason, since=at - 600, last_attempt=at)


def test_no_status_before_the_first_poll() -> None:
    assert _status(view(None)) is None


@pytest.mark.parametrize(
    ("at", "sleep_hours", "reason", "expected"),
    [
        # Without sleep hours: asleep while the site is closed.
        (MONDAY_NOON, None, "timeout", "unreachable"),
        (MONDAY_NIGHT, None, "timeout", "asleep"),
        # Sleep hours crossing midnight replace the opening hours.
        (MONDAY_NIGHT, ["22:00-06:30"], "timeout", "asleep"),
        (MONDAY_NOON, ["22:00-06:30"], "timeout", "unreachable"),
        (MONDAY_NOON, ["07:00-08:00", "11:30-12:30"], "timeout", "asleep"),
        (MONDAY_NIGHT, ["01:00-05:00"], "timeout", "unreachable"),
        (MONDAY_NIGHT, None, "unreachable", "asleep"),
        # An auth error comes from a printer that is awake.
        (MONDAY_NIGHT, None, "auth", "unreachable"),
        (MONDAY_NIGHT, ["22:00-06:30"], "protocol", "unreachable"),
    ],
)
def test_asleep_or_unreachable(
    at: float, sleep_hours: list[str] | None, reason: str, expected: str
) -> None:
    last = reading("mono_laser")
    assert _status(view(last, _failure(at, reason), sleep_hours)) == expected
    # The last reading's facts stay while it does not answer.
    assert by_name(samples(view(last, _failure(at))), "ocrfleet_printer_pages_total") == {
        (): 48213.0
    }


def test_a_device_without_schedule_is_never_expected_asleep() -> None:
    assert _status(view(None, _failure(MONDAY_NIGHT), schedule=None)) == "unreachable"


@pytest.mark.parametrize(
    "bad",
    [["22:00"], ["25:00-06:00"], ["08:00-08:00"], ["8-9"], ["12:00-24:30"]],
)
def test_sleep_hours_are_validated(bad: list[str]) -> None:
    with pytest.raises(ValidationError):
        PrinterOptions(host="192.0.2.10", sleep_hours=bad)


def test_options() -> None:
    options = PrinterOptions.model_validate(
        {"host": "192.0.2.10", "low_fraction": 0.2, "sleep_hours": ["20:00-24:00"]}
    )
    assert (options.low_fraction, options.port, options.snmp.version) == (0.2, 161, "2c")
    with pytest.raises(ValidationError):
        PrinterOptions(host="192.0.2.10", low_fraction=1.5)
    with pytest.raises(ValidationError):
        PrinterOptions.model_validate({"host": "192.0.2.10", "sleep_hour": ["20:00-24:00"]})


def test_describe_is_a_readable_table() -> None:
    kind = PrinterKind()
    text_ = kind.describe(reading("colour_mfp"))
    lines = text_.splitlines()
    assert lines[0] == "Acme ColorMFP C5500"
    assert "status      printing (device warning), up 14 d 6 h" in lines
    assert "conditions  lowPaper" in lines
    waste = next(line for line in lines if "Waste Toner Box" in line)
    assert "94 % full" in waste and "nearly_full" in waste
    yellow = next(line for line in lines if "TK-55Y" in line)
    assert "8/100 (8 %)" in yellow and yellow.rstrip().endswith("low")
    brother = kind.describe(reading("brother_style"))
    assert "some left (-3)" in brother
    assert "%" not in next(line for line in brother.splitlines() if "#2" in line)
    assert "conditions  not reported" in kind.describe(reading("special_values"))
    assert kind.describe("not a reading") == "'not a reading'"


def test_supply_states_follow_each_reading_however_many_the_kind_has_kept() -> None:
    kind = PrinterKind()
    # The kind keeps each supply's state samples; a full store starts over.
    kind._states.MAX = 3
    first = reading("colour_mfp")
    toner = first.supplies[0]
    labels = (toner.label, toner.type, toner.colour or "")
    for state in (*SUPPLY_STATES, *reversed(SUPPLY_STATES)):
        changed = replace(first, supplies=(replace(toner, state=state), *first.supplies[1:]))
        found = list(kind.samples(view(changed)))
        states = by_name(found, "ocrfleet_printer_supply_state")
        assert {key[3]: value for key, value in states.items() if key[:3] == labels} == {
            s: 1.0 if s == state else 0.0 for s in SUPPLY_STATES
        }
        assert found == samples(view(changed))
