"""Fair turns: which limit a seat has, when a site is full, the rule and the counters."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocrfleet.alerts.context import build_context
from ocrfleet.alerts.rules import Finding, RuleContext, Severity
from ocrfleet.alerts.store import AlertRecord
from ocrfleet.alerts.turns import SessionOverLimitRule, SessionOverLimitSettings
from ocrfleet.app.alerting import AlertingService, restore_findings
from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.internet.judge import InternetJudge
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.metrics.fleetview import FleetViews
from ocrfleet.metrics.turns import TurnsCollector
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.state import Availability, FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.turns.seats import fleet_turns, session_limits
from ocrfleet.turns.tracker import TurnsTracker
from tests.support.daemon import catalog
from tests.support.words import IDENTIFIER, MIB_WORD, english
from tests.test_config import ocrfleet, write_config

KINDS = catalog().kinds
# A Monday at 10:00 in Brussels: the site is open from 09:00 to 17:00.
MONDAY_OPEN = datetime(2027, 3, 1, 9, 0, tzinfo=UTC).timestamp()
CLOSING = datetime(2027, 3, 1, 16, 0, tzinfo=UTC).timestamp()
PC1, PC2, PC3 = (DeviceKey("lib", f"pc-{n}") for n in (1, 2, 3))


def _loaded(
    *,
    applies: str = "when_full",
    pc3: bool = False,
    sessions: dict[str, Any] | None = None,
    **site: Any,
) -> LoadedConfig:
    devices: list[dict[str, Any]] = [
        {"id": "pc-1", "kind": "pc"},
        {"id": "pc-2", "kind": "pc", "session_limit": "2h"},
        {"id": "mfp", "kind": "printer", "options": {"host": "127.0.0.1"}},
    ]
    if pc3:
        devices.append({"id": "pc-3", "kind": "pc"})
    return load_config(
        {
            "municipality": {"name": "Testdorp", "adult_population": 2000},
            "sites": [
                {
                    "id": "lib",
                    "name": "Library",
                    "village_core": "Testdorp",
                    "opening_hours": {"mon": ["09:00-17:00"]},
                    "session_limit": "1h",
                    "session_limit_applies": applies,
                    "devices": devices,
                    **site,
                }
            ],
            **({"sessions": sessions} if sessions is not None else {}),
        },
        KINDS,
    )


class Room:
    """A FleetState whose PCs report and start and end sessions, as agents do."""

    def __init__(self, loaded: LoadedConfig, clock: ManualClock) -> None:
        self.loaded = loaded
        self.clock = clock
        self.state = FleetState(loaded.devices, {})

    def up(self, *keys: DeviceKey) -> None:
        for key in keys:
            self.state.record_availability(key, Availability.ONLINE, self.clock.now())

    def down(self, key: DeviceKey) -> None:
        self.state.record_availability(key, Availability.OFFLINE, self.clock.now())

    def start(self, key: DeviceKey, session_id: str) -> None:
        event = SessionEvent(SessionEventType.START, session_id, self.clock.now())
        self.state.record_session(key, event, True)

    def end(self, key: DeviceKey, session_id: str, started_at: float) -> None:
        event = SessionEvent(SessionEventType.END, session_id, started_at, self.clock.now())
        self.state.record_session(key, event, False)

    def context(self) -> RuleContext:
        return build_context(self.state, self.loaded, KINDS, LedgerView(), self.clock.now())


def _found(rule: SessionOverLimitRule, room: Room) -> list[Finding]:
    settings = SessionOverLimitSettings()
    return [f for f in rule.evaluate(room.context(), settings) if isinstance(f, Finding)]


def test_a_seat_has_its_own_limit_else_its_sites() -> None:
    limits = session_limits(_loaded().config)
    assert limits == {PC1: 3600.0, PC2: 7200.0, DeviceKey("lib", "mfp"): 3600.0}
    no_site_limit = _loaded(session_limit=None)
    assert session_limits(no_site_limit.config) == {PC2: 7200.0}


def test_a_site_is_full_when_every_seat_that_is_up_is_in_use() -> None:
    clock = ManualClock(MONDAY_OPEN)
    room = Room(_loaded(pc3=True), clock)

    def turns() -> Any:
        return fleet_turns(room.loaded.config, room.state.snapshot(clock.now()), KINDS)["lib"]

    assert not turns().full  # nothing up: nobody can be waiting for a seat
    room.up(PC1, PC2, PC3)
    room.start(PC1, "a")
    room.start(PC2, "b")
    seen = turns()
    assert (seen.seats, seen.seats_up, seen.seats_up_in_use, seen.full) == (3, 3, 2, False)
    room.down(PC3)  # a broken PC is no seat to offer
    assert turns().full
    # The printer is no seat; its site-wide limit plays no part.
    assert {s.key for s in turns().sessions} == {PC1, PC2}


def test_a_session_past_its_limit_on_a_full_site_is_found_once_and_stays_till_it_ends() -> None:
    clock = ManualClock(MONDAY_OPEN)
    room = Room(_loaded(pc3=True), clock)
    rule = SessionOverLimitRule()
    room.up(PC1, PC2, PC3)
    room.start(PC1, "s-7f3a")
    started = clock.now()
    room.start(PC2, "s-91c0")
    clock.advance(3600 + 600)
    # pc-1 is past its hour, but pc-3 is free: nobody has to wait.
    assert _found(rule, room) == []
    room.start(PC3, "s-0b2e")
    (finding,) = _found(rule, room)
    assert finding.subject == "lib/pc-1/s-7f3a"
    assert finding.labels == {"site": "lib", "device": "pc-1", "kind": "pc", "category": "turns"}
    summary, description = english(finding.summary), english(finding.description)
    assert summary == (
        "pc-1 has been in use for 70 minutes; the limit is 60 minutes and every computer is taken"
    )
    assert "Kindly ask the visitor at pc-1 to finish" in description
    for words in (summary, description):
        assert not MIB_WORD.search(words) and not IDENTIFIER.search(words)
    # pc-3's visitor leaves: the site is no longer full, yet pc-1's finding
    # stays, with the same words, so the desk is not asked twice.
    room.end(PC3, "s-0b2e", clock.now())
    clock.advance(600)
    assert _found(rule, room) == [finding]
    room.start(PC3, "s-55d1")
    assert _found(rule, room) == [finding]
    room.end(PC1, "s-7f3a", started)
    assert _found(rule, room) == []


def test_when_the_limit_always_applies_a_free_seat_does_not_matter() -> None:
    clock = ManualClock(MONDAY_OPEN)
    room = Room(_loaded(applies="always", pc3=True), clock)
    rule = SessionOverLimitRule()
    room.up(PC1, PC2, PC3)
    room.start(PC1, "a")
    room.start(PC2, "b")  # its own limit is 2 h
    clock.advance(3600)
    (finding,) = _found(rule, room)
    assert finding.subject == "lib/pc-1/a"
    assert english(finding.summary) == (
        "pc-1 has been in use for 60 minutes; the limit is 60 minutes"
    )
    clock.advance(3600)
    assert [f.subject for f in _found(rule, room)] == ["lib/pc-1/a", "lib/pc-2/b"]


def test_nothing_is_found_while_the_site_is_closed() -> None:
    clock = ManualClock(CLOSING)
    room = Room(_loaded(applies="always"), clock)
    rule = SessionOverLimitRule()
    room.up(PC1, PC2)
    room.start(PC1, "late")
    clock.advance(2 * 3600)  # 19:00 in Brussels
    assert _found(rule, room) == []


def test_what_was_found_survives_a_restart() -> None:
    clock = ManualClock(MONDAY_OPEN)
    room = Room(_loaded(), clock)
    rule = SessionOverLimitRule()
    room.up(PC1, PC2)
    room.start(PC1, "a")
    room.start(PC2, "b")
    clock.advance(3700)
    (finding,) = _found(rule, room)
    kept = json.loads(json.dumps(rule.saved_state()))
    # After the restart pc-2's visitor has left: the site is not full, yet
    # pc-1's session stays found, with its first words.
    room.end(PC2, "b", MONDAY_OPEN)
    restarted = SessionOverLimitRule()
    restarted.restore_state(kept)
    assert _found(restarted, room) == [finding]
    assert _found(SessionOverLimitRule(), room) == []


def test_kept_state_of_another_shape_is_refused() -> None:
    rule = SessionOverLimitRule()
    for bad in ({}, {"found": "x"}, {"found": [["lib", "pc-1"]]}, {"found": [[1] * 8]}):
        try:
            rule.restore_state(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was taken")


def test_the_tracker_counts_busy_time_while_open_and_each_session_once() -> None:
    clock = ManualClock(MONDAY_OPEN)
    room = Room(_loaded(), clock)
    tracker = TurnsTracker()

    def observe(site_open: bool = True) -> None:
        turns = fleet_turns(room.loaded.config, room.state.snapshot(clock.now()), KINDS)
        tracker.observe(turns, {"lib": site_open}, clock.now())

    room.up(PC1, PC2)
    room.start(PC1, "a")
    observe()
    room.start(PC2, "b")
    observe()
    clock.advance(60)
    observe()  # full for this minute
    clock.advance(60)
    observe(site_open=False)  # full and open for the minute before
    clock.advance(60)
    observe()  # closed for the minute before: not counted
    assert tracker.busy_seconds == {"lib": 120.0}
    clock.advance(3600)  # a gap: the daemon was stopped, nobody knows
    observe()
    assert tracker.busy_seconds == {"lib": 120.0}
    assert tracker.over_limit_total == {"lib": 1}  # pc-1, past 1 h; pc-2 has 2 h
    clock.advance(60)
    observe()
    assert tracker.busy_seconds == {"lib": 180.0}
    assert tracker.over_limit_total == {"lib": 1}
    clock.advance(3600)  # pc-2 passes its 2 h; pc-1 is not counted again
    observe()
    assert tracker.over_limit_total == {"lib": 2}


def _over_limit_gauge(room: Room, tracker: TurnsTracker) -> tuple[float, float]:
    """ocrfleet_open_sessions_over_limit and ocrfleet_sessions_over_limit_total of "lib"."""
    views = FleetViews(
        lambda: room.loaded.config, lambda: room.state, KINDS, InternetJudge(KINDS), room.clock
    )
    samples = {
        sample.name: sample.value
        for family in TurnsCollector(views.current, KINDS, tracker).collect()
        for sample in family.samples
        if sample.labels == {"site": "lib"}
    }
    return (
        samples["ocrfleet_open_sessions_over_limit"],
        samples["ocrfleet_sessions_over_limit_total"],
    )


def test_a_session_on_a_seat_that_is_down_has_nobody_to_ask() -> None:
    clock = ManualClock(MONDAY_OPEN)
    room = Room(_loaded(pc3=True), clock)
    rule, tracker = SessionOverLimitRule(), TurnsTracker()

    def observe() -> list[str]:
        turns = fleet_turns(room.loaded.config, room.state.snapshot(clock.now()), KINDS)
        tracker.observe(turns, {"lib": True}, clock.now())
        return [f.subject for f in _found(rule, room)]

    room.up(PC1, PC2, PC3)
    room.start(PC3, "gone")
    assert observe() == []
    clock.advance(50 * 60)
    room.down(PC3)  # switched off at the wall: its session stays open
    room.start(PC1, "a")
    room.start(PC2, "b")
    for _minute in range(15):
        clock.advance(60)
        assert observe() == []
    # Past pc-3's hour on a full site (the two PCs that are up are in use),
    # but nobody sits at pc-3: no desk to bother, nothing over the limit.
    assert fleet_turns(room.loaded.config, room.state.snapshot(clock.now()), KINDS)["lib"].full
    assert observe() == []
    assert _over_limit_gauge(room, tracker) == (0.0, 0.0)
    # pc-3 is back with the same session open, the site full: now somebody is there.
    room.up(PC3)
    clock.advance(60)
    assert observe() == ["lib/pc-3/gone"]
    assert _over_limit_gauge(room, tracker) == (1.0, 1.0)
    # It goes down again: what the desk was told stays until the session ends,
    # and it is neither told nor counted again when pc-3 comes back.
    room.down(PC3)
    clock.advance(60)
    assert observe() == ["lib/pc-3/gone"]
    assert _over_limit_gauge(room, tracker) == (0.0, 1.0)
    room.up(PC3)
    clock.advance(60)
    assert observe() == ["lib/pc-3/gone"]
    assert _over_limit_gauge(room, tracker) == (1.0, 1.0)


def test_a_limit_under_a_minute_is_a_config_error_with_its_path(tmp_path: Path) -> None:
    text = """\
[municipality]
name = "Testdorp"
adult_population = 5000

[[sites]]
id = "lib"
name = "Library"
village_core = "Testdorp"
session_limit = "30s"
devices = [
    { id = "pc-01", kind = "pc" },
    { id = "pc-02", kind = "pc", session_limit = 59 },
]

[store]
path = "STORE_PATH"
"""
    config = write_config(tmp_path, text)
    result = ocrfleet("check-config", str(config))
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert f"{config}: configuration is not valid:" in lines
    assert any(line.startswith("  sites[0].session_limit: ") for line in lines), lines
    assert any(line.startswith("  sites[0].devices[1].session_limit: ") for line in lines)


def test_a_limit_on_a_device_that_is_not_a_seat_is_a_config_error_with_its_path(
    tmp_path: Path,
) -> None:
    text = """\
[municipality]
name = "Testdorp"
adult_population = 5000

[[sites]]
id = "lib"
name = "Library"
village_core = "Testdorp"
devices = [
    { id = "pc-01", kind = "pc", session_limit = "1h" },
    { id = "pc-02", kind = "pc" },
    { id = "mfp", kind = "printer", session_limit = "1h", options = { host = "127.0.0.1" } },
]

[store]
path = "STORE_PATH"
"""
    config = write_config(tmp_path, text)
    result = ocrfleet("check-config", str(config))
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert f"{config}: configuration is not valid:" in lines
    problems = [line for line in lines if line.startswith("  sites[")]
    assert len(problems) == 1, lines
    assert problems[0].startswith(
        "  sites[0].devices[2].session_limit: kind 'printer' is not a seat: "
        "only seats take a session_limit (seat kinds: "
    ), lines
    assert "pc" in problems[0]


def test_a_restarted_tracker_does_not_count_sessions_already_past_their_limit() -> None:
    clock = ManualClock(MONDAY_OPEN)
    room = Room(_loaded(), clock)
    room.up(PC1, PC2)
    room.start(PC1, "a")
    room.start(PC2, "b")
    clock.advance(3700)  # pc-1 passed its hour before the daemon (re)started
    restarted = TurnsTracker()

    def observe() -> None:
        turns = fleet_turns(room.loaded.config, room.state.snapshot(clock.now()), KINDS)
        restarted.observe(turns, {"lib": True}, clock.now())

    observe()
    assert restarted.over_limit_total == {}
    clock.advance(60)
    observe()
    assert restarted.over_limit_total == {}
    clock.advance(3600)  # pc-2 passes its 2 h while this daemon runs: counted
    observe()
    assert restarted.over_limit_total == {"lib": 1}


def _service(room: Room, path: Path) -> AlertingService:
    """The daemon's alerting, as a fresh start of the daemon builds it (new rule objects)."""
    return AlertingService(
        room.loaded, catalog(), lambda: room.state, room.clock, StoreConnections(path)
    )


def _told(path: Path) -> list[str]:
    """The session_over_limit alerts sent out, firing or resolved, in order."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT payload FROM outbox ORDER BY rowid").fetchall()
    told = []
    for (payload,) in rows:
        for item in json.loads(payload)["items"]:
            if item["labels"]["alertname"] == "session_over_limit":
                told.append(f"{item['status']} {item['labels']['device']}")
    return told


def test_a_crash_before_the_rule_kept_its_memory_does_not_tell_a_session_twice(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    clock = ManualClock(MONDAY_OPEN)
    room = Room(_loaded(), clock)
    room.up(PC1, PC2)
    room.start(PC1, "a")
    room.start(PC2, "b")
    before = _service(room, path)
    clock.advance(3500)
    before.evaluate()  # the rules' memory is kept now, and not again for minutes
    clock.advance(200)
    before.evaluate()  # pc-1 passes its hour on a full site: told, then a crash
    assert _told(path) == ["firing pc-1"]
    del before

    room.end(PC2, "b", MONDAY_OPEN)  # the site is no longer full
    after = _service(room, path)
    after.evaluate()
    clock.advance(600)  # past the start-up grace
    after.evaluate()
    room.start(PC2, "c")  # full again, pc-1's visitor still there
    clock.advance(60)
    after.evaluate()
    assert _told(path) == ["firing pc-1"]
    assert list(after.engine.records) == ["session_over_limit:lib/pc-1/a"]


def test_a_session_longer_than_a_day_is_not_told_again(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    clock = ManualClock(MONDAY_OPEN)
    every_day = {day: ["08:00-20:00"] for day in ("mon", "tue", "wed")}
    loaded = _loaded(
        applies="always", sessions={"max_duration": 48 * 3600}, opening_hours=every_day
    )
    room = Room(loaded, clock)
    room.up(PC1, PC2)
    room.start(PC1, "a")
    service = _service(room, path)
    clock.advance(3600)
    service.evaluate()
    assert _told(path) == ["firing pc-1"]
    for _hour in range(30):  # into Tuesday's opening hours, still the same session
        clock.advance(3600)
        service.evaluate()
    assert _told(path) == ["firing pc-1"]


class _Restored(SessionOverLimitRule):
    """The rule, keeping what it is handed back at start-up."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[Finding] = []

    def restore_findings(self, findings: Sequence[Finding]) -> None:
        self.handed = list(findings)
        super().restore_findings(findings)


def _record(device: str, severity: str) -> AlertRecord:
    labels = {"site": "lib", "device": device, "kind": "pc", "category": "turns"}
    engine_labels = {"alertname": "session_over_limit", "severity": severity, "type": "alert"}
    return AlertRecord(
        key=f"session_over_limit:lib/{device}/s-1",
        rule="session_over_limit",
        labels=labels | engine_labels,
        severity=severity,
        summary="in use",
        description="",
        state="firing",
        active_since=MONDAY_OPEN,
        firing_since=MONDAY_OPEN,
        last_active=MONDAY_OPEN,
        last_notified=MONDAY_OPEN,
        detail="session s-1",
    )


def test_findings_come_back_with_a_severity_of_their_own() -> None:
    """A finding's own severity comes back; one that was the configured one need not."""
    records = [_record("pc-1", "critical"), _record("pc-2", "warning")]
    rule = _Restored()
    restore_findings(records, {rule.name: rule}, {}, {})
    assert [(f.subject, f.severity) for f in rule.handed] == [
        ("lib/pc-1/s-1", Severity.CRITICAL),
        ("lib/pc-2/s-1", None),
    ]
    assert rule.handed[0].labels == {
        "site": "lib",
        "device": "pc-1",
        "kind": "pc",
        "category": "turns",
    }
    # Configured critical: now pc-2's warning was its own.
    critical = SessionOverLimitSettings.model_validate({"severity": "critical"})
    restore_findings(records, {rule.name: rule}, {}, {rule.name: critical})
    assert [f.severity for f in rule.handed] == [None, Severity.WARNING]
