"""Each bundled kind's status card (DeviceKind.status_card), from recorded readings.

The printer and hotspot recordings are the plugins' own test fixtures; a
card is read as the front desk reads it, in English and Dutch.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.kinds import DeviceKind, Gauge, StatusCard
from ocrfleet.state import Availability, DeviceView, PollFailure, Presence, Usage
from ocrfleet_agent.payloads import Health
from ocrfleet_hotspot import oids as hotspot_oids
from ocrfleet_hotspot.parse import build_reading
from ocrfleet_hotspot.reading import HotspotReading
from ocrfleet_printer.parse import parse_reading
from ocrfleet_printer.reading import PrinterReading
from tests.support.daemon import catalog
from tests.support.snmprec import read_snmprec
from tests.support.words import IDENTIFIER, MIB_WORD, speaker

FIXTURES = Path(__file__).parent / "fixtures" / "snmp"
KINDS = catalog().kinds
UP = Presence(Availability.UNKNOWN, True, 0.0)
DOWN = Presence(Availability.UNKNOWN, False, 0.0)


def view(
    kind: str,
    reading: object,
    presence: Presence = UP,
    *,
    in_use: bool = False,
    failure: PollFailure | None = None,
    info: DeviceInfo | None = None,
) -> DeviceView:
    return DeviceView(
        info=info or DeviceInfo(DeviceKey("lib", f"{kind}-01"), kind),
        presence=presence,
        last_seen=0.0,
        reading=reading,
        reading_at=0.0,
        usage=Usage(in_use=in_use),
        failure=failure,
    )


def card_of(kind: str, device: DeviceView) -> StatusCard:
    return KINDS[kind].status_card(device)


def words(card: StatusCard, language: str = "en") -> dict[str, Any]:
    """The card as a person reads it."""
    say = speaker(language).say  # type: ignore[arg-type]
    return {
        "condition": say(card.condition),
        "tone": card.tone,
        "gauges": [
            (
                say(g.label),
                None if g.ratio is None else round(g.ratio, 2),
                g.tone,
                say(g.note),
            )
            for g in card.gauges
        ],
        "facts": [say(f) for f in card.facts],
    }


def assert_plain(card: StatusCard) -> None:
    """Dutch differs from English and carries no MIB names or program identifiers."""
    english, dutch = words(card), words(card, "nl")
    texts = [
        dutch["condition"],
        *dutch["facts"],
        *(t for g in dutch["gauges"] for t in (g[0], g[3])),
    ]
    for text in texts:
        assert not MIB_WORD.search(text) and not IDENTIFIER.search(text), text
    if english["condition"]:
        assert dutch["condition"] != english["condition"]


# -- printer -----------------------------------------------------------------------


def printer(name: str, low_fraction: float = 0.1) -> PrinterReading:
    return parse_reading(read_snmprec(FIXTURES / "printers" / f"{name}.snmprec"), low_fraction)


def test_a_colour_mfp_shows_its_toners_waste_box_and_trays() -> None:
    card = card_of("printer", view("printer", printer("colour_mfp")))
    assert words(card) == {
        "condition": "Paper running low — add paper soon",
        "tone": "warning",
        "gauges": [
            ("Cyan toner", 0.64, "ok", "64% left"),
            ("Magenta toner", 0.23, "ok", "23% left"),
            ("Yellow toner", 0.08, "warning", "8% left"),
            ("Black toner", 0.77, "ok", "77% left"),
            # A receptacle fills up: drawn as full as it is.
            ("Waste toner box", 0.94, "warning", "94% full"),
            ("Tray 1", 0.96, "ok", "96% left"),
            ("Tray 2", 0.08, "warning", "8% left"),
        ],
        "facts": ["Printing"],
    }
    assert words(card, "nl")["gauges"][2] == ("Gele toner", 0.08, "warning", "nog 8 %")
    assert words(card, "nl")["condition"] == "Papier bijna op — leg straks papier bij"
    assert_plain(card)


def test_a_jam_comes_before_the_cover_opened_to_clear_it() -> None:
    card = card_of("printer", view("printer", printer("jammed")))
    assert card.tone == "critical"
    found = words(card)
    assert found["condition"] == "Paper jam — remove the paper"
    assert found["facts"][0] in ("Front cover is open — close it", "A cover is open — close it")
    assert words(card, "nl")["condition"] == "Papier vastgelopen — verwijder het papier"
    assert_plain(card)


def test_an_empty_tray_is_named_and_low_paper_not_repeated() -> None:
    reading = printer("low_paper")
    assert reading.conditions is not None and {"lowPaper", "inputTrayEmpty"} <= reading.conditions
    card = card_of("printer", view("printer", reading))
    found = words(card)
    assert found["condition"] == "Tray 1 is empty — add paper"
    assert "Paper running low — add paper soon" not in found["facts"]
    assert ("Tray 1", 0.0, "critical", "empty") in found["gauges"]
    assert words(card, "nl")["condition"] == "Lade 1 is leeg — leg papier bij"


def test_levels_the_printer_does_not_state_are_not_invented() -> None:
    card = card_of("printer", view("printer", printer("special_values")))
    gauges = words(card)["gauges"]
    assert ("Cyan ink", 0.75, "ok", "75% left") in gauges
    assert ("Magenta ink", None, "ok", "level unknown") in gauges
    assert ("Waste ink box", 1.0, "critical", "full") in gauges
    some_left = words(card_of("printer", view("printer", printer("brother_style"))))["gauges"]
    assert ("Black toner", None, "ok", "some left") in some_left
    # A tray that holds "some" paper, amount unknown, has no fill but says so.
    assert ("Tray 1", None, "ok", "paper in it") in some_left


def test_a_printer_that_does_not_answer_keeps_its_bars_but_no_stale_condition() -> None:
    failure = PollFailure("timeout", 0.0, 0.0)
    reading = printer("jammed")
    card = card_of("printer", view("printer", reading, DOWN, failure=failure))
    assert card.condition == "" and card.gauges and not card.facts
    # Asleep while its site is closed (no sleep_hours): the desk reads it is asleep.
    closed = DeviceInfo(
        DeviceKey("lib", "printer-01"), "printer", schedule=SiteSchedule(OpeningHours())
    )
    asleep = card_of("printer", view("printer", reading, DOWN, failure=failure, info=closed))
    assert words(asleep)["facts"] == ["Asleep"] and words(asleep, "nl")["facts"] == ["Slaapt"]


def test_no_reading_or_another_kind_of_reading_is_an_empty_card() -> None:
    for kind in ("printer", "hotspot", "pc", "laptop"):
        assert card_of(kind, view(kind, None, DOWN)) == StatusCard()
        assert card_of(kind, view(kind, object(), DOWN)) == StatusCard()
    assert card_of("printer", view("printer", {"not": "a reading"})) == StatusCard()
    assert card_of("hotspot", view("hotspot", "garbage")) == StatusCard()


# -- hotspot -----------------------------------------------------------------------


def hotspot(stem: str) -> HotspotReading:
    values = read_snmprec(FIXTURES / "hotspots" / f"{stem}.snmprec")
    kind: Any = KINDS["hotspot"]

    def text(value: object) -> str:
        return value.decode() if isinstance(value, bytes) else str(value or "")

    vendor = kind.select_vendor(
        "auto",
        text(values.get(hotspot_oids.SYS_OBJECT_ID)),
        text(values.get(hotspot_oids.SYS_DESCR)),
    )
    return build_reading(values, vendor, previous=None, now=0.0)


def test_a_hotspot_says_how_many_use_it_and_how_long_it_runs() -> None:
    card = card_of("hotspot", view("hotspot", hotspot("unifi-ap")))
    assert words(card) == {
        "condition": "",
        "tone": "ok",
        "gauges": [],
        "facts": ["25 wifi users", "Running for 24 hours"],
    }
    assert words(card, "nl")["facts"] == ["25 wifi-gebruikers", "Werkt al 24 uur"]
    one = replace(hotspot("mikrotik-wap"), clients=1)
    assert words(card_of("hotspot", view("hotspot", one)))["facts"][0] == "1 wifi user"


def test_a_vendor_without_a_count_says_nothing_about_users() -> None:
    reading = hotspot("generic-ap")
    assert reading.clients is None
    found = words(card_of("hotspot", view("hotspot", reading)))
    assert not any("wifi user" in fact for fact in found["facts"])


def test_a_hotspot_with_a_radio_off_or_no_uplink_or_just_restarted() -> None:
    reading = hotspot("mikrotik-wap")
    radios = [i for i in reading.interfaces if i.role == "radio" and i.admin_up]
    assert len(radios) >= 2
    one_off = tuple(replace(i, oper_up=False) if i is radios[0] else i for i in reading.interfaces)
    card = card_of("hotspot", view("hotspot", replace(reading, interfaces=one_off)))
    assert (words(card)["condition"], card.tone) == (
        "1 of its wifi radios is off — visitors may not connect",
        "warning",
    )
    all_off = tuple(
        replace(i, oper_up=False) if i.role in ("radio", "uplink") else i
        for i in reading.interfaces
    )
    card = card_of(
        "hotspot", view("hotspot", replace(reading, interfaces=all_off, uptime_seconds=600.0))
    )
    found = words(card)
    assert card.tone == "critical"
    assert found["condition"] == "No wifi — switch the hotspot off and on again, or call IT"
    assert "No internet connection — check its network cable" in found["facts"]
    assert "Restarted 10 minutes ago" in found["facts"]
    assert_plain(card)
    restarted = card_of("hotspot", view("hotspot", replace(reading, uptime_seconds=300.0)))
    assert (words(restarted)["condition"], restarted.tone) == ("Restarted 5 minutes ago", "warning")
    assert words(restarted, "nl")["condition"] == "5 minuten geleden herstart"


def test_a_hotspot_that_does_not_answer_has_an_empty_card() -> None:
    failure = PollFailure("timeout", 0.0, 0.0)
    assert card_of("hotspot", view("hotspot", hotspot("unifi-ap"), DOWN, failure=failure)) == (
        StatusCard()
    )


# -- pc and laptop -----------------------------------------------------------------


def health(**values: Any) -> Health:
    base: dict[str, Any] = {
        "ts": 0.0,
        "cpu_ratio": 0.1,
        "memory_used_ratio": 0.4,
        "disk_free_bytes": 10**10,
        "uptime_seconds": 600.0,
        "os": "Windows 11",
        "agent_version": "0.1.0",
    }
    return Health(**{**base, **values})


@pytest.mark.parametrize("kind", ["pc", "laptop"])
def test_a_seat_is_in_use_or_free(kind: str) -> None:
    assert words(card_of(kind, view(kind, health(), in_use=True)))["facts"] == ["In use"]
    free = card_of(kind, view(kind, health(frozen=True, eid_reader_present=True)))
    assert words(free) == {"condition": "", "tone": "ok", "gauges": [], "facts": ["Free"]}
    assert words(free, "nl")["facts"] == ["Vrij"]
    # Up without a health message yet (only a session or availability).
    assert words(card_of(kind, view(kind, None)))["facts"] == ["Free"]
    assert card_of(kind, view(kind, health(), DOWN, in_use=True)) == StatusCard()


def test_a_pc_without_its_eid_reader_or_restore_software() -> None:
    card = card_of("pc", view("pc", health(eid_reader_present=False, frozen=False), in_use=True))
    assert words(card) == {
        "condition": "No eID card reader connected — plug it in",
        "tone": "warning",
        "gauges": [],
        "facts": ["Restore software is off — call IT", "In use"],
    }
    assert words(card, "nl")["condition"] == "Geen eID-kaartlezer aangesloten — sluit hem aan"
    # ("eID" is what every Belgian calls the card; the MIB-word check would take it for one.)
    assert words(card, "nl")["facts"] == [
        "Herstelsoftware staat uit — bel de ICT-dienst",
        "In gebruik",
    ]


# -- the API -------------------------------------------------------------------------


def test_a_gauge_is_clamped_and_a_nan_is_unknown() -> None:
    assert Gauge("x", 1.5).ratio == 1.0
    assert Gauge("x", -0.2).ratio == 0.0
    assert Gauge("x", math.nan).ratio is None
    assert Gauge("x", None).ratio is None


class _Plain(DeviceKind):
    name = "plain"

    def samples(self, device: DeviceView) -> list[Any]:
        return []


def test_a_kind_without_a_card_gets_the_empty_one() -> None:
    assert _Plain().status_card(view("plain", None)) == StatusCard()
