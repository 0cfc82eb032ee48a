"""The core's seat rules: site minimum, a seat without reservation, the municipal norm."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocrfleet.alerts.context import build_context
from ocrfleet.alerts.device_down import DeviceDownRule
from ocrfleet.alerts.rules import Finding, RuleContext, RuleSettings
from ocrfleet.alerts.seats import (
    MunicipalityBelowNormRule,
    NoUnreservedSeatRule,
    SeatsBelowMinimumRule,
)
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.i18n.text import Catalog
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.state import FleetState
from tests.support.daemon import catalog
from tests.support.words import MIB_WORD, dutch, english

_ = Catalog("ocrfleet")

# A Monday at 10:00 in Brussels (open) and 22:00 (closed).
MONDAY_OPEN = datetime(2027, 3, 1, 9, 0, tzinfo=UTC).timestamp()
MONDAY_NIGHT = datetime(2027, 3, 1, 21, 0, tzinfo=UTC).timestamp()
KINDS = catalog().kinds


def _site(site_id: str, core: str, devices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": site_id,
        "name": site_id.title(),
        "village_core": core,
        "opening_hours": {"mon": ["09:00-17:00"]},
        "devices": devices,
        **extra,
    }


def _loaded(adults: int, sites: list[dict[str, Any]]) -> LoadedConfig:
    return load_config(
        {"municipality": {"name": "Testdorp", "adult_population": adults}, "sites": sites}, KINDS
    )


def _context(loaded: LoadedConfig, up: set[str], now: float) -> RuleContext:
    state = FleetState(loaded.devices, {})
    for device in loaded.devices:
        if str(device.key) in up:
            state.record_heartbeat(device.key, now)
    return build_context(state, loaded, KINDS, LedgerView(), now)


def _found(rule: Any, context: RuleContext) -> list[Finding]:
    return [f for f in rule.evaluate(context, RuleSettings()) if isinstance(f, Finding)]


PCS = [{"id": f"pc-{n}", "kind": "pc"} for n in (1, 2, 3)]


def test_a_site_below_its_minimum_of_usable_seats() -> None:
    loaded = _loaded(2000, [_site("lib", "A", PCS, min_usable_seats=2)])
    rule = SeatsBelowMinimumRule()
    assert _found(rule, _context(loaded, {"lib/pc-1", "lib/pc-2"}, MONDAY_OPEN)) == []
    (finding,) = _found(rule, _context(loaded, {"lib/pc-1"}, MONDAY_OPEN))
    assert finding.subject == "lib" and finding.labels["category"] == "capacity"
    assert english(finding.summary) == "Only 1 computer can be used, 2 are needed"
    assert dutch(finding.summary) == "Maar 1 computer bruikbaar, er zijn er 2 nodig"


def test_a_site_without_a_minimum_never_fires() -> None:
    loaded = _loaded(2000, [_site("lib", "A", PCS)])
    assert _found(SeatsBelowMinimumRule(), _context(loaded, set(), MONDAY_OPEN)) == []


def test_at_least_one_seat_must_be_usable_without_a_reservation() -> None:
    devices: list[dict[str, Any]] = [
        {"id": "pc-1", "kind": "pc", "reservable": True},
        {"id": "pc-2", "kind": "pc"},
        {"id": "printer-1", "kind": "printer", "options": {"host": "127.0.0.1"}},
    ]
    loaded = _loaded(2000, [_site("lib", "A", devices)])
    rule = NoUnreservedSeatRule()
    assert _found(rule, _context(loaded, {"lib/pc-2"}, MONDAY_OPEN)) == []
    (finding,) = _found(rule, _context(loaded, {"lib/pc-1", "lib/printer-1"}, MONDAY_OPEN))
    assert "out of order: pc-2" in english(finding.description)
    assert finding.detail == "unreserved seats down: pc-2"
    all_reservable = _loaded(2000, [_site("lib", "A", [devices[0]])])
    (finding,) = _found(rule, _context(all_reservable, {"lib/pc-1"}, MONDAY_OPEN))
    assert "set up as reservable" in english(finding.description)


def test_a_site_without_seats_is_left_alone() -> None:
    printer = [{"id": "printer-1", "kind": "printer", "options": {"host": "127.0.0.1"}}]
    loaded = _loaded(2000, [_site("lib", "A", printer)])
    assert _found(NoUnreservedSeatRule(), _context(loaded, set(), MONDAY_OPEN)) == []


def test_the_municipal_norm_counts_adults_and_village_cores() -> None:
    # 11,793 adults need ceil(11,793 / 2,500) = 5 devices; 4 village cores.
    sites = [
        _site("a", "Vlaminggem", [{"id": f"pc-{n}", "kind": "pc"} for n in range(3)]),
        _site("b", "Zonnedorp", [{"id": "pc-0", "kind": "pc"}]),
        _site("c", "Boskerke", [{"id": "pc-0", "kind": "pc"}]),
        _site("d", "Overbrugge", [{"id": "pc-0", "kind": "pc"}]),
    ]
    loaded = _loaded(11_793, sites)
    rule = MunicipalityBelowNormRule()
    every = {str(d.key) for d in loaded.devices}
    assert _found(rule, _context(loaded, every, MONDAY_OPEN)) == []
    (finding,) = _found(rule, _context(loaded, every - {"a/pc-0", "a/pc-1"}, MONDAY_OPEN))
    assert english(finding.summary) == "4 public computers available, the guide asks for 5"
    assert "site" not in finding.labels
    # Few adults, many cores: the cores decide (4), so 3 usable is too few.
    small = _loaded(100, sites)
    assert _found(rule, _context(small, {"a/pc-0", "b/pc-0", "c/pc-0"}, MONDAY_OPEN))


def test_seats_off_because_the_site_is_closed_still_count_for_the_norm() -> None:
    loaded = _loaded(2_500, [_site("a", "A", [{"id": "pc-0", "kind": "pc"}])])
    key = DeviceKey("a", "pc-0")
    state = FleetState(loaded.devices, {key: 300.0})
    state.record_heartbeat(key, MONDAY_OPEN)
    state.expire_heartbeats(MONDAY_OPEN + 10_000)  # switched off at closing
    context = build_context(state, loaded, KINDS, LedgerView(), MONDAY_NIGHT)
    assert context.statuses[key].state == "scheduled_off"
    assert _found(MunicipalityBelowNormRule(), context) == []


def test_the_cores_words_read_plainly_in_dutch_and_english() -> None:
    """Every finding of the core's seat rules and of a kind's down rule, as a person reads it."""
    seats = [dict(pc, reservable=pc["id"] != "pc-1") for pc in PCS]
    loaded = _loaded(20_000, [_site("lib", "A", seats, min_usable_seats=3)])
    state = FleetState(loaded.devices, {device.key: 90.0 for device in loaded.devices})
    state.record_heartbeat(DeviceKey("lib", "pc-1"), MONDAY_OPEN - 3600)
    state.record_heartbeat(DeviceKey("lib", "pc-2"), MONDAY_OPEN)
    state.expire_heartbeats(MONDAY_OPEN)
    context = build_context(state, loaded, KINDS, LedgerView(), MONDAY_OPEN)
    down = DeviceDownRule(
        kind="pc", name="pc_down", category="hardware", summary=_("PC {device} at {site} is off")
    )
    rules = [SeatsBelowMinimumRule(), NoUnreservedSeatRule(), MunicipalityBelowNormRule(), down]
    findings = [f for rule in rules for f in _found(rule, context)]
    assert {f.rule for f in findings} == {
        "site_seats_below_minimum",
        "no_unreserved_seat",
        "municipality_below_norm",
        "pc_down",
    }
    for finding in findings:
        assert finding.detail, finding.rule
        # The down rule's summary is the kind's (here the test's own) words.
        own = (finding.description,) if finding.rule == "pc_down" else ()
        for words in own or (finding.summary, finding.description):
            nl, en = dutch(words), english(words)
            assert nl != en, en
            assert not MIB_WORD.search(nl) and not MIB_WORD.search(en)
            assert finding.rule not in nl and finding.rule not in en
    (pc_down, *_rest) = [f for f in findings if f.rule == "pc_down"]
    assert english(pc_down.summary) == "PC pc-1 at Lib is off"
    # Times in the site's zone, named: it was found down at 09:00 UTC, 10:00 in Brussels.
    assert "sinds 1 mrt 2027 10:00 CET" in dutch(pc_down.description)
    assert "state down" in pc_down.detail
