"""The pc plugin's rules: PCs and laptops offline, restore software off."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ocrfleet.alerts.rules import AlertRule, Finding, RuleSettings
from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.i18n.readers import english_utc
from ocrfleet.i18n.text import Words
from ocrfleet.state import Availability, FleetState
from ocrfleet_agent.payloads import Health
from ocrfleet_pc import plugin
from ocrfleet_pc.rules import PcNotFrozenRule
from tests.support.publisher import health as payload
from tests.support.rules import findings, rule_context

BRUSSELS = ZoneInfo("Europe/Brussels")
# A Monday, 10:00 (open) and 22:00 (closed) in Brussels.
OPEN = datetime(2026, 3, 2, 10, 0, tzinfo=BRUSSELS).timestamp()
NIGHT = datetime(2026, 3, 2, 22, 0, tzinfo=BRUSSELS).timestamp()
PC = DeviceKey("lib", "pc-01")
LAPTOP = DeviceKey("lib", "laptop-01")
PRINTER = DeviceKey("lib", "printer-1")
SCHEDULE = SiteSchedule(OpeningHours.model_validate({"mon": ["09:00-17:00"]}), "Europe/Brussels")


def _say(words: Words) -> str:
    return english_utc().speaker().say(words)


def _state() -> FleetState:
    return FleetState(
        [
            DeviceInfo(PC, "pc", schedule=SCHEDULE),
            DeviceInfo(LAPTOP, "laptop", schedule=SCHEDULE),
            DeviceInfo(PRINTER, "printer", schedule=SCHEDULE),
        ],
        {PC: 180.0, LAPTOP: 180.0, PRINTER: None},
    )


def _health(frozen: bool | None, **extra: Any) -> Health:
    return Health.parse(json.dumps(payload(ts=OPEN, frozen=frozen, **extra)))


def _found(rule: AlertRule, state: FleetState, now: float = OPEN) -> list[Finding]:
    return findings(rule.evaluate(rule_context(state, now), RuleSettings()))


def _rules() -> dict[str, AlertRule]:
    return {rule.name: rule for rule in plugin.ocrfleet_alert_rules()}


def test_the_plugin_registers_its_rules_for_both_its_kinds() -> None:
    assert sorted(_rules()) == ["laptop_offline", "pc_not_frozen", "pc_offline"]


# -- pc_not_frozen --------------------------------------------------------------------


def test_a_thawed_pc_that_is_up_is_found() -> None:
    state = _state()
    state.record_reading(PC, _health(frozen=False), OPEN)
    (finding,) = _found(PcNotFrozenRule(), state)
    assert finding.rule == "pc_not_frozen"
    assert finding.subject == "lib/pc-01"
    assert finding.labels == {
        "site": "lib",
        "device": "pc-01",
        "kind": "pc",
        "category": "hardware",
    }
    assert _say(finding.summary) == "Restore software of PC pc-01 is off — switch it back on"
    assert "frozen=false" in finding.detail


def test_a_frozen_pc_or_one_that_does_not_know_is_fine() -> None:
    state = _state()
    state.record_reading(PC, _health(frozen=True), OPEN)
    state.record_reading(LAPTOP, _health(frozen=None), OPEN)
    assert _found(PcNotFrozenRule(), state) == []


def test_a_thawed_laptop_is_found_as_a_laptop() -> None:
    state = _state()
    state.record_reading(LAPTOP, _health(frozen=False), OPEN)
    (finding,) = _found(PcNotFrozenRule(), state)
    assert (finding.labels["kind"], finding.labels["device"]) == ("laptop", "laptop-01")
    assert _say(finding.summary).startswith("Restore software of laptop laptop-01 is off")


def test_a_thawed_pc_that_is_no_longer_up_is_not_found() -> None:
    """Its last report says thawed, but it may come back frozen: the offline rule speaks."""
    state = _state()
    state.record_reading(PC, _health(frozen=False), OPEN)
    state.record_availability(PC, Availability.OFFLINE, OPEN + 60)
    assert _found(PcNotFrozenRule(), state, OPEN + 60) == []


def test_other_kinds_are_ignored_even_with_a_health_like_reading() -> None:
    state = _state()
    state.record_reading(PRINTER, _health(frozen=False), OPEN)
    assert _found(PcNotFrozenRule(), state) == []


# -- pc_offline and laptop_offline -----------------------------------------------------


def test_an_offline_pc_is_found_while_the_site_is_open_only() -> None:
    rule = _rules()["pc_offline"]
    state = _state()
    state.record_reading(PC, _health(frozen=True), OPEN - 600)
    state.record_availability(PC, Availability.OFFLINE, OPEN)
    (finding,) = _found(rule, state)
    assert _say(finding.summary) == "PC pc-01 is switched off or offline"
    assert finding.labels["reason"] == "offline"
    assert finding.labels["category"] == "hardware"
    state.record_availability(PC, Availability.OFFLINE, NIGHT)
    assert _found(rule, state, NIGHT) == []


def test_a_silent_laptop_is_found_by_its_own_rule() -> None:
    rules = _rules()
    state = _state()
    state.record_reading(LAPTOP, _health(frozen=True), OPEN - 600)
    state.expire_heartbeats(OPEN)
    (finding,) = _found(rules["laptop_offline"], state)
    assert _say(finding.summary) == "Laptop laptop-01 is switched off or offline"
    assert finding.labels["reason"] == "no_heartbeat"
    assert _found(rules["pc_offline"], state) == []
