"""Printer vendors without a network: choosing one, what the bundled ones change, and isolation.

The recordings in tests/fixtures/snmp/printer_vendors are written for these
tests, modelled on the structure of real agents with their own values.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from ocrfleet.kinds import KindExtension
from ocrfleet.pluginhost.catalog import PluginConflictError
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.snmp.values import SnmpTable, SnmpValue
from ocrfleet_printer import oids
from ocrfleet_printer.kind import PrinterKind, PrinterOptions
from ocrfleet_printer.parse import parse_reading
from ocrfleet_printer.read import decode_reading
from ocrfleet_printer.reading import OUTPUT_STATES, PrinterReading
from ocrfleet_printer.vendors import GenericVendor, PrinterVendor, RicohVendor
from ocrfleet_printer.vendors.registry import PrinterVendors, UnknownVendorError
from tests.support.daemon import catalog
from tests.support.snmprec import read_snmprec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printer_vendors"


def recording(name: str) -> dict[str, SnmpValue]:
    return read_snmprec(FIXTURES / f"{name}.snmprec")


class _Oem(PrinterVendor):
    name = "oem"
    enterprises = ("1.3.6.1.4.1.367",)


class _OemModel(PrinterVendor):
    name = "oem-model"
    enterprises = ("1.3.6.1.4.1.367.1",)


# -- Ricoh ---------------------------------------------------------------------------


def test_ricoh_names_colours_and_the_waste_bottle_in_chinese() -> None:
    """Ricoh firmware set to Chinese: no colorant table, colours and waste only in the words."""
    r = parse_reading(recording("ricoh_cjk"), vendor=RicohVendor())
    assert r.vendor == "ricoh"
    rows = [(s.label, s.colour, s.supply_class, s.state) for s in r.supplies]
    assert rows == [
        ("黑色碳粉", "black", "consumed", "ok"),
        ("废碳粉瓶", None, "receptacle", "ok"),  # type other(1): the word 废 says waste
        ("青色碳粉", "cyan", "consumed", "ok"),
        ("洋红色碳粉", "magenta", "consumed", "ok"),
        ("黄色碳粉", "yellow", "consumed", "low"),
    ]
    assert r.pages == 123456


def test_the_chinese_words_are_ricoh_s_alone() -> None:
    values = {**recording("ricoh_cjk"), oids.SYS_OBJECT_ID: "1.3.6.1.4.1.99999.1.1"}
    r = parse_reading(values)
    assert r.vendor == "generic"
    assert [s.colour for s in r.supplies] == [None] * 5
    assert r.supplies[1].supply_class == "consumed"


def test_ricoh_keeps_the_generic_words() -> None:
    assert RicohVendor().colour("Toner Cartridge Cyan") == "cyan"
    assert RicohVendor().is_waste("Waste Toner Bottle")
    # The generic reading, including serial numbers, is unchanged for Ricoh.
    assert RicohVendor().supply_label("Black Toner S/N:12345") == "Black Toner"


# -- choosing a vendor ---------------------------------------------------------------


def test_the_bundled_vendors_come_through_the_hook() -> None:
    plugins = catalog()
    kind = plugins.kinds["printer"]
    assert isinstance(kind, PrinterKind)
    assert kind.vendors.names == ("ricoh", "generic")
    assert ["printer:ricoh"] in [c.extensions for c in plugins.contributions]


def test_the_longest_enterprise_prefix_wins() -> None:
    vendors = PrinterVendors()
    for vendor in (_Oem(), _OemModel()):
        vendors.add(vendor)
    found = vendors.by_object_id
    assert [
        getattr(found(oid), "name", None)
        for oid in (
            "1.3.6.1.4.1.367.1.1",
            "1.3.6.1.4.1.367.2",
            "1.3.6.1.4.1.367",
            "1.3.6.1.4.1.3670",
        )
    ] == ["oem-model", "oem", "oem", None]


@pytest.mark.parametrize(
    ("extension", "error"),
    [
        (KindExtension("printer", "x", object()), TypeError),
        (KindExtension("printer", "ricoh", RicohVendor()), PluginConflictError),
        (KindExtension("printer", "generic", GenericVendor()), PluginConflictError),
        (KindExtension("printer", "other-name", _Oem()), TypeError),
        (KindExtension("hotspot", "oem", _Oem()), TypeError),
    ],
)
def test_bad_extensions_are_refused(extension: KindExtension, error: type[Exception]) -> None:
    kind = PrinterKind()
    kind.extend(KindExtension("printer", "ricoh", RicohVendor()))
    with pytest.raises(error):
        kind.extend(extension)
    assert kind.vendors.names == ("ricoh", "generic")


def test_a_vendor_without_a_proper_name_is_refused() -> None:
    class Nameless(PrinterVendor):
        pass

    class Shouting(PrinterVendor):
        name = "SHOUTING"

    for vendor in (Nameless(), Shouting()):
        with pytest.raises(TypeError, match="name"):
            PrinterVendors().add(vendor)


def test_the_vendor_option_is_checked_against_the_registered_vendors() -> None:
    kind = catalog().kinds["printer"]
    for name in ("auto", "ricoh", "generic"):
        PrinterOptions.model_validate({"host": "192.0.2.9", "vendor": name}, context={"kind": kind})
    with pytest.raises(ValidationError, match="unknown printer vendor 'kyocera'"):
        PrinterOptions.model_validate(
            {"host": "192.0.2.9", "vendor": "kyocera"}, context={"kind": kind}
        )
    with pytest.raises(ValidationError):
        PrinterOptions.model_validate({"host": "192.0.2.9", "vendor": "Not A Name"})
    with pytest.raises(UnknownVendorError):
        PrinterVendors().named("kyocera")


# -- a vendor that fails ---------------------------------------------------------------


class _Broken(PrinterVendor):
    name = "broken"

    def colour(self, description: str) -> str | None:
        raise RuntimeError("bug in a vendor plugin")


def test_a_failing_vendor_costs_only_its_refinements(caplog: pytest.LogCaptureFixture) -> None:
    generic = GenericVendor()
    log = RateLimitedLog(logging.getLogger("test.printer.vendors"), interval=600.0)
    with caplog.at_level(logging.ERROR):
        r = decode_reading(recording("ricoh_cjk"), _Broken(), generic, 0.1, log)
    assert r.vendor == "generic"
    assert len(r.supplies) == 5
    assert "printer vendor 'broken' failed" in caplog.text


def test_a_failing_generic_reading_is_not_hidden() -> None:
    log = RateLimitedLog(logging.getLogger("test.printer.vendors"))

    class BrokenGeneric(GenericVendor):
        def text(self, value: SnmpValue) -> str:
            raise RuntimeError("bug")

    generic = BrokenGeneric()
    with pytest.raises(RuntimeError):
        decode_reading(recording("ricoh_cjk"), generic, generic, 0.1, log)


def test_adjust_sees_every_value() -> None:
    class Renamer(PrinterVendor):
        name = "renamer"

        def adjust(self, reading: PrinterReading, values: SnmpTable) -> PrinterReading:
            return dataclasses.replace(reading, name=f"{reading.name} ({len(values)} values)")

    r = parse_reading(recording("ricoh_cjk"), vendor=Renamer())
    assert r.name == f"lib-ricoh-01 ({len(recording('ricoh_cjk'))} values)"


# -- output bins -----------------------------------------------------------------------


def test_output_bins_are_receptacles_with_room_left() -> None:
    r = parse_reading(recording("output_bins"))
    rows = [(o.label, o.remaining_fraction, o.state, o.status) for o in r.outputs]
    assert rows == [
        ("Main Tray", 0.0, "full", "availableIdle"),
        ("Upper Tray", 0.08, "nearly_full", "availableIdle"),
        ("Finisher Tray", 0.9, "ok", "availableIdle"),
        ("Mailbox", None, "some_remaining", "availableIdle"),
        ("Booklet Tray", None, "unknown", "unknown"),
    ]
    assert r.conditions == frozenset({"outputNearFull", "outputFull"})
    assert {o.state for o in r.outputs} <= set(OUTPUT_STATES)


def test_describe_names_the_vendor() -> None:
    described = PrinterKind().describe(parse_reading(recording("ricoh_cjk"), vendor=RicohVendor()))
    assert "vendor      ricoh" in described.splitlines()
