"""The alert lifecycle on an injected clock: tolerance, hysteresis, opening hours,
repeats, silences, routing and grouping, restarts, failing rules."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.alerts.engine import AlertEngine
from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet.alerts.store import AlertStore
from ocrfleet.config.alerting import AlertingConfig
from ocrfleet.config.loader import load_config
from ocrfleet.devices import DeviceKey
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.notify.notification import Notification
from ocrfleet.state import FleetState
from ocrfleet.store.connections import StoreConnections

T0 = 1_800_000_000.0


class ScriptedRule(AlertRule):
    """Finds whatever the test says is wrong now."""

    name = "jam"
    default_severity = Severity.WARNING

    def __init__(self, name: str = "jam", rule_type: str = "alert") -> None:
        self.name = name  # type: ignore[misc]
        self.rule_type = rule_type  # type: ignore[misc,assignment]
        self.problems: dict[str, dict[str, str]] = {}
        self.broken = False
        self.evidence: list[MaintenanceEvidence] = []

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        if self.broken:
            raise RuntimeError("rule bug")
        yield from self.evidence
        for subject, labels in self.problems.items():
            yield Finding(self.name, subject, labels, f"{subject} is jammed", "details")


def _config() -> Any:
    return load_config(
        {
            "municipality": {"name": "Testdorp", "adult_population": 5000},
            "sites": [
                {"id": "lib", "name": "Library", "village_core": "Testdorp"},
                {"id": "hall", "name": "Hall", "village_core": "Testdorp"},
            ],
        },
        {},
    )


def context(now: float, closed: Iterable[str] = ()) -> RuleContext:
    loaded = _config()
    state = FleetState([], {})
    return RuleContext(
        now=now,
        snapshot=state.snapshot(now),
        config=loaded.config,
        devices={},
        statuses={},
        ledger=LedgerView(),
        site_open={"lib": "lib" not in closed, "hall": "hall" not in closed},
    )


class Harness:
    def __init__(self, path: Path, rules: list[ScriptedRule], **alerting: Any) -> None:
        self.path = path
        self.rules = rules
        self.alerting = AlertingConfig.model_validate(alerting)
        self.settings: dict[str, RuleSettings] = {}
        self.silenced: set[str] = set()
        self.now = T0
        self.sent: list[Notification] = []
        self.engine = self._engine()

    def _engine(self) -> AlertEngine:
        harness = self

        class Silences:
            def suppressed_by(self, labels: Mapping[str, str], now: float) -> str | None:
                return "silenced" if labels.get("site") in harness.silenced else None

        return AlertEngine(
            {rule.name: rule for rule in self.rules},
            self.settings,
            self.alerting,
            AlertStore(StoreConnections(self.path)),
            [Silences()],
        )

    def configure(self, rule: str, **settings: Any) -> None:
        found = next(r for r in self.rules if r.name == rule)
        self.settings[rule] = found.settings_model.model_validate(settings)
        self.engine.reconfigure(self.settings, self.alerting)

    def restart(self) -> None:
        self.engine = self._engine()

    def step(self, seconds: float = 0.0, closed: Iterable[str] = ()) -> list[Notification]:
        self.now += seconds
        sent = self.engine.evaluate(context(self.now, closed))
        self.sent.extend(sent)
        return sent

    def outbox(self) -> list[tuple[str, str, str]]:
        with sqlite3.connect(self.path) as db:
            rows = db.execute("SELECT id, channel, payload FROM outbox ORDER BY rowid").fetchall()
        return [(row[0], row[1], row[2]) for row in rows]


@pytest.fixture
def jam() -> ScriptedRule:
    return ScriptedRule()


@pytest.fixture
def harness(tmp_path: Path, jam: ScriptedRule) -> Iterator[Harness]:
    h = Harness(tmp_path / "state.sqlite", [jam])
    h.configure("jam", **{"for": 60, "resolve_after": 120})
    yield h


LIB_PRINTER = {"site": "lib", "device": "printer-1", "category": "jam"}


def statuses(sent: list[Notification]) -> list[tuple[str, ...]]:
    return [tuple(f"{i.status}:{i.key}" for i in n.items) for n in sent]


def test_a_problem_fires_after_its_tolerance_and_resolves_after_its_hysteresis(
    harness: Harness, jam: ScriptedRule
) -> None:
    jam.problems["lib/printer-1"] = LIB_PRINTER
    assert harness.step() == []  # pending
    assert harness.step(30) == []
    sent = harness.step(30)  # 60 s: fires
    assert statuses(sent) == [("firing:jam:lib/printer-1",)]
    assert harness.step(15) == []  # no repeat yet
    jam.problems.clear()
    assert harness.step(60) == []  # gone for 60 s < 120 s: still firing
    jam.problems["lib/printer-1"] = LIB_PRINTER  # flaps back: no new notification
    assert harness.step(15) == []
    jam.problems.clear()
    assert harness.step(60) == []
    sent = harness.step(60)
    assert statuses(sent) == [("resolved:jam:lib/printer-1",)]
    item = sent[0].items[0]
    assert item.starts_at == T0 and item.ends_at == harness.now
    assert item.labels["alertname"] == "jam" and item.labels["severity"] == "warning"


def test_a_problem_shorter_than_its_tolerance_is_never_told(
    harness: Harness, jam: ScriptedRule
) -> None:
    jam.problems["lib/printer-1"] = LIB_PRINTER
    harness.step()
    jam.problems.clear()
    harness.step(59)
    jam.problems["lib/printer-1"] = LIB_PRINTER
    assert harness.step(30) == []  # a new episode: its tolerance starts again
    assert harness.sent == []


def test_nothing_starts_fires_or_resolves_while_the_site_is_closed(
    harness: Harness, jam: ScriptedRule
) -> None:
    jam.problems["lib/printer-1"] = LIB_PRINTER
    for _ in range(10):
        assert harness.step(600, closed=["lib"]) == []  # closed all night
    harness.step(0)  # opens: pending now
    assert statuses(harness.step(60)) == [("firing:jam:lib/printer-1",)]
    # It closes while the alert fires; the jam is cleared overnight.
    jam.problems.clear()
    for _ in range(10):
        assert harness.step(600, closed=["lib"]) == []
    assert statuses(harness.step(0)) == [("resolved:jam:lib/printer-1",)]


def test_a_rule_may_notify_outside_opening_hours(harness: Harness, jam: ScriptedRule) -> None:
    harness.configure("jam", **{"for": 0, "outside_opening_hours": True})
    jam.problems["lib/printer-1"] = LIB_PRINTER
    assert statuses(harness.step(0, closed=["lib"])) == [("firing:jam:lib/printer-1",)]


def test_firing_alerts_repeat_at_their_interval_but_not_while_closed(
    harness: Harness, jam: ScriptedRule
) -> None:
    harness.configure("jam", **{"for": 0, "repeat_interval": "1h"})
    jam.problems["lib/printer-1"] = LIB_PRINTER
    first = harness.step()
    assert len(first) == 1 and not first[0].repeat
    assert harness.step(1800) == []
    again = harness.step(1800)
    assert len(again) == 1 and again[0].repeat and again[0].id != first[0].id
    assert harness.step(7200, closed=["lib"]) == []
    assert len(harness.step(0)) == 1


def test_a_silence_holds_notifications_back_and_lets_them_out_when_it_ends(
    harness: Harness, jam: ScriptedRule
) -> None:
    harness.configure("jam", **{"for": 0, "resolve_after": 0})
    harness.silenced.add("lib")
    jam.problems["lib/printer-1"] = LIB_PRINTER
    assert harness.step() == []
    assert harness.engine.suppressed == {"jam:lib/printer-1": "silenced"}
    assert harness.engine.records["jam:lib/printer-1"].state == "firing"
    harness.silenced.clear()
    assert statuses(harness.step(10)) == [("firing:jam:lib/printer-1",)]
    # Silenced the whole time and gone again: nobody is told it resolved.
    jam.problems["lib/printer-2"] = {**LIB_PRINTER, "device": "printer-2"}
    harness.silenced.add("lib")
    harness.step(10)
    del jam.problems["lib/printer-2"]
    harness.silenced.clear()
    assert harness.step(10) == []


def test_alerts_are_grouped_per_site_and_routed_by_labels(tmp_path: Path) -> None:
    jam, network = ScriptedRule("jam"), ScriptedRule("hotspot_down")
    h = Harness(
        tmp_path / "s.sqlite",
        [jam, network],
        channels={"desk": {"type": "log"}, "it": {"type": "log"}, "boss": {"type": "log"}},
        routes=[
            {"match": {"category": ["jam", "paper", "toner"]}, "channels": ["desk"]},
            {"match_re": {"site": "l.*"}, "channels": ["boss"], "continue": True},
            {"match": {"category": "network"}, "channels": ["it"]},
        ],
        default_channels=["log"],
    )
    for rule in ("jam", "hotspot_down"):
        h.configure(rule, **{"for": 0})
    jam.problems["lib/printer-1"] = LIB_PRINTER
    jam.problems["lib/printer-2"] = {**LIB_PRINTER, "device": "printer-2"}
    jam.problems["hall/printer-1"] = {**LIB_PRINTER, "site": "hall"}
    network.problems["lib/wifi"] = {"site": "lib", "device": "wifi", "category": "network"}
    network.problems["hall/wifi"] = {"site": "hall", "device": "wifi", "category": "network"}
    sent = h.step()
    by_channel: dict[str, list[tuple[dict[str, str], list[str]]]] = {}
    for n in sent:
        by_channel.setdefault(n.channel, []).append(
            (n.group_labels, sorted(i.key for i in n.items))
        )
    assert sorted(by_channel["desk"], key=str) == sorted(
        [
            ({"site": "lib"}, ["jam:lib/printer-1", "jam:lib/printer-2"]),
            ({"site": "hall"}, ["jam:hall/printer-1"]),
        ],
        key=str,
    )
    # `continue` lets the lib hotspot reach both boss and it.
    assert by_channel["boss"] == [({"site": "lib"}, ["hotspot_down:lib/wifi"])]
    assert sorted(by_channel["it"], key=str) == sorted(
        [
            ({"site": "lib"}, ["hotspot_down:lib/wifi"]),
            ({"site": "hall"}, ["hotspot_down:hall/wifi"]),
        ],
        key=str,
    )
    assert "log" not in by_channel
    # What the outbox holds is exactly what was sent, one row per channel.
    rows = h.outbox()
    assert sorted((r[0], r[1]) for r in rows) == sorted((n.id, n.channel) for n in sent)
    assert Notification.from_json(rows[0][2]) in sent


def test_reminders_travel_apart_from_alerts(tmp_path: Path) -> None:
    jam, monthly = ScriptedRule("jam"), ScriptedRule("monthly", rule_type="reminder")
    h = Harness(tmp_path / "s.sqlite", [jam, monthly])
    for rule in ("jam", "monthly"):
        h.configure(rule, **{"for": 0})
    jam.problems["lib/printer-1"] = LIB_PRINTER
    monthly.problems["lib/printer-1"] = {"site": "lib", "device": "printer-1"}
    sent = h.step()
    assert sorted(n.type for n in sent) == ["alert", "reminder"]
    reminder = next(n for n in sent if n.type == "reminder")
    assert reminder.items[0].labels["type"] == "reminder"


def test_a_restart_neither_forgets_nor_repeats_an_alert(
    harness: Harness, jam: ScriptedRule
) -> None:
    jam.problems["lib/printer-1"] = LIB_PRINTER
    harness.step()
    harness.step(60)
    assert len(harness.sent) == 1
    harness.restart()
    assert harness.step(10) == []
    jam.problems.clear()
    harness.step(60)
    assert statuses(harness.step(60)) == [("resolved:jam:lib/printer-1",)]


def test_after_a_restart_an_alert_not_found_yet_waits_for_the_grace_before_resolving(
    harness: Harness, jam: ScriptedRule
) -> None:
    jam.problems["lib/printer-1"] = LIB_PRINTER
    harness.step()
    harness.step(60)
    harness.restart()
    jam.problems.clear()  # nothing polled yet after the restart
    assert harness.step(10) == []
    assert harness.engine.next_due == T0 + 70 + 300  # the end of the grace
    assert harness.step(200) == []
    sent = harness.step(100)  # 300 s after the first evaluation: resolves
    assert statuses(sent) == [("resolved:jam:lib/printer-1",)]


def test_a_failing_rule_keeps_its_alerts_as_they_are(harness: Harness, jam: ScriptedRule) -> None:
    jam.problems["lib/printer-1"] = LIB_PRINTER
    harness.step()
    harness.step(60)
    jam.broken = True
    for _ in range(5):
        assert harness.step(600) == []
    assert harness.engine.records["jam:lib/printer-1"].state == "firing"
    assert harness.engine.stats.rule_errors == {"jam": 5}


def test_a_disabled_rule_resolves_what_it_had_fired(harness: Harness, jam: ScriptedRule) -> None:
    jam.problems["lib/printer-1"] = LIB_PRINTER
    harness.step()
    harness.step(60)
    harness.configure("jam", enabled=False)
    assert statuses(harness.step(1)) == [("resolved:jam:lib/printer-1",)]


def test_history_records_fired_and_resolved(harness: Harness, jam: ScriptedRule) -> None:
    harness.configure("jam", **{"for": 0, "resolve_after": 0})
    jam.problems["lib/printer-1"] = LIB_PRINTER
    harness.step()
    jam.problems.clear()
    harness.step(30)
    with sqlite3.connect(harness.path) as db:
        events = db.execute("SELECT key, site, device, status, at FROM alert_events").fetchall()
    assert events == [
        ("jam:lib/printer-1", "lib", "printer-1", "firing", T0),
        ("jam:lib/printer-1", "lib", "printer-1", "resolved", T0 + 30),
    ]


def test_evidence_goes_to_the_ledger_callback(tmp_path: Path) -> None:
    logged: list[tuple[str, MaintenanceEvidence]] = []
    rule = ScriptedRule()
    rule.evidence.append(
        MaintenanceEvidence("e1", DeviceKey("lib", "printer-1"), "supply_replaced", "toner", T0)
    )
    engine = AlertEngine(
        {"jam": rule},
        {},
        AlertingConfig(),
        AlertStore(StoreConnections(tmp_path / "s.sqlite")),
        record_evidence=lambda rule, evidence: logged.append((rule, evidence)),
    )
    engine.evaluate(context(T0))
    assert [(rule, e.evidence_id) for rule, e in logged] == [("jam", "e1")]


def test_notification_json_round_trips(harness: Harness, jam: ScriptedRule) -> None:
    harness.configure("jam", **{"for": 0})
    jam.problems["lib/printer-1"] = LIB_PRINTER
    (sent,) = harness.step()
    assert Notification.from_json(sent.to_json()) == sent
    assert json.loads(sent.to_json())["items"][0]["labels"]["site"] == "lib"


# -- group keys --------------------------------------------------------------------


def test_group_keys_have_alertmanagers_shape(tmp_path: Path) -> None:
    jam, monthly = ScriptedRule("jam"), ScriptedRule("monthly", rule_type="reminder")
    h = Harness(
        tmp_path / "s.sqlite",
        [jam, monthly],
        channels={"desk": {"type": "log"}, "it": {"type": "log"}},
        routes=[
            {
                "match": {"category": ["jam", "paper.x"], "site": "lib"},
                "match_re": {"device": "printer-.*"},
                "channels": ["desk"],
                "continue": True,
            },
            # The same matchers again: the same key, but not the same notification.
            {
                "match": {"category": ["jam", "paper.x"], "site": "lib"},
                "match_re": {"device": "printer-.*"},
                "channels": ["it"],
            },
        ],
        default_channels=["log"],
    )
    for rule in ("jam", "monthly"):
        h.configure(rule, **{"for": 0})
    jam.problems["lib/printer-1"] = LIB_PRINTER
    jam.problems['hall/"odd"\\pc'] = {"site": 'ha"ll\\\n', "device": "pc"}
    monthly.problems["lib/pc"] = {"site": "lib", "device": "pc"}
    keys = {(n.channel, n.type, n.group_key): n.id for n in h.step()}
    route = '{}/{category=~"jam|paper\\\\.x",device=~"printer-.*",site="lib"}'
    assert sorted(keys) == sorted(
        [
            ("desk", "alert", route + ':{site="lib"}'),
            ("it", "alert", route + ':{site="lib"}'),
            ("log", "alert", '{}:{site="ha\\"ll\\\\\\n"}'),
            # Reminders travel apart: their key says so.
            ("log", "reminder", '{}:{site="lib", type="reminder"}'),
        ]
    )
    assert len(set(keys.values())) == len(keys)
