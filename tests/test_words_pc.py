"""What the pc plugin's findings say: plain Dutch and English.

Every finding its rules can produce (a PC or laptop offline, restore
software off) is put into words with the plugin's real catalog, as a
Flemish front desk reads it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from ocrfleet.alerts.rules import AlertRule, Finding
from ocrfleet.cli.common import load_catalog
from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.i18n import tools
from ocrfleet.i18n.catalogs import Catalogs, packaged_catalog
from ocrfleet.state import Availability, FleetState
from ocrfleet_agent.payloads import Health
from ocrfleet_pc import plugin
from ocrfleet_pc.kind import LaptopKind, PcKind
from ocrfleet_pc.rules import PcNotFrozenRule
from tests.support.publisher import health as payload
from tests.support.rules import findings, rule_context
from tests.support.words import BRUSSELS, IDENTIFIER, MIB_WORD, assert_plain_dutch, speaker

PACKAGE = Path(plugin.__file__).resolve().parent
OPEN = datetime(2026, 3, 2, 10, 0, tzinfo=BRUSSELS).timestamp()  # a Monday
CATALOGS = Catalogs([packaged_catalog("ocrfleet_pc")])
DUTCH = speaker("nl", CATALOGS)
ENGLISH = speaker("en", CATALOGS)
SCHEDULE = SiteSchedule(OpeningHours.model_validate({"mon": ["09:00-17:00"]}), "Europe/Brussels")


def health(frozen: bool | None) -> Health:
    return Health.parse(json.dumps(payload(ts=OPEN, frozen=frozen)))


def found(rule: AlertRule, state: FleetState, now: float = OPEN) -> list[Finding]:
    return findings(rule.evaluate(rule_context(state, now), rule.settings_model()))


def fleet(kind: str) -> tuple[FleetState, DeviceKey]:
    key = DeviceKey("lib", f"{kind}-01")
    return FleetState([DeviceInfo(key, kind, schedule=SCHEDULE)], {key: 180.0}), key


def test_every_message_has_dutch_words() -> None:
    assert tools.check(PACKAGE) == []


def test_the_plugin_registers_its_catalog() -> None:
    [catalog] = plugin.ocrfleet_message_catalogs()
    assert catalog.domain == "ocrfleet_pc"
    assert load_catalog().message_catalogs["ocrfleet_pc"] == catalog


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("pc", "Herstelsoftware van pc pc-01 staat uit — terug aanzetten"),
        ("laptop", "Herstelsoftware van laptop laptop-01 staat uit — terug aanzetten"),
    ],
)
def test_restore_software_off_in_dutch(kind: str, expected: str) -> None:
    state, key = fleet(kind)
    state.record_reading(key, health(frozen=False), OPEN)
    [finding] = found(PcNotFrozenRule(), state)
    summary, description = assert_plain_dutch(finding, CATALOGS)
    assert summary == expected
    assert not re.search(r"\bfrozen\b", f"{summary} {description}")  # a health report's field
    assert "Deep Freeze" in description and "ICT-dienst" in description
    assert finding.detail.endswith("frozen=false (thawed)")


@pytest.mark.parametrize(
    ("kind", "rule", "expected"),
    [
        ("pc", "pc_offline", "Pc pc-01 staat uit of is offline"),
        ("laptop", "laptop_offline", "Laptop laptop-01 staat uit of is offline"),
    ],
)
def test_offline_in_dutch(kind: str, rule: str, expected: str) -> None:
    state, key = fleet(kind)
    state.record_reading(key, health(frozen=True), OPEN - 600)
    state.record_availability(key, Availability.OFFLINE, OPEN)
    [finding] = found(load_catalog().rules[rule], state)
    summary = DUTCH.say(finding.summary)
    assert summary == expected
    assert summary != ENGLISH.say(finding.summary)
    assert not MIB_WORD.search(summary) and not IDENTIFIER.search(summary)


def test_titles_in_dutch() -> None:
    assert DUTCH.say(PcNotFrozenRule.title) == "Herstelsoftware uitgeschakeld"
    assert (DUTCH.say(PcKind.title), DUTCH.say(LaptopKind.title)) == ("Pc", "Laptop")
