"""The hotspot plugin's rules: down, restarted and a whole opening day without clients."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from ocrfleet.alerts.rules import Finding, RuleSettings
from ocrfleet.clock import ManualClock
from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.i18n.readers import english_utc
from ocrfleet.i18n.text import Words
from ocrfleet.state import FleetState
from ocrfleet_hotspot import plugin
from ocrfleet_hotspot.kind import HotspotKind
from ocrfleet_hotspot.reading import HotspotReading, Uplink
from ocrfleet_hotspot.rules import (
    HotspotNoClientsRule,
    HotspotRestartedRule,
    HotspotUplinkDownRule,
    HotspotUplinkMissingRule,
    NoClientsSettings,
    RestartedSettings,
)
from tests.support.rules import findings, rule_context

BRUSSELS = ZoneInfo("Europe/Brussels")
MINUTE = 60.0
WIFI = DeviceKey("lib", "wifi-01")
# Open Monday and Tuesday with a lunch break; closed on 2026-03-10 (a Tuesday).
HOURS = OpeningHours.model_validate(
    {"mon": ["09:00-12:00", "13:00-17:00"], "tue": ["09:00-12:00", "13:00-17:00"]}
)


def _say(words: Words) -> str:
    return english_utc().speaker().say(words)


def _local(day: int, hour: int, minute: int = 0, zone: ZoneInfo = BRUSSELS) -> float:
    """A moment in March 2026; the 2nd is a Monday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=zone).timestamp()


def _state(timezone: str = "Europe/Brussels") -> FleetState:
    closed = frozenset({datetime(2026, 3, 10).date()})
    schedule = SiteSchedule(HOURS, timezone, closed)
    return FleetState([DeviceInfo(WIFI, "hotspot", schedule=schedule)], {})


def _reading(restarts: int = 0, clients: int | None = 0) -> HotspotReading:
    return HotspotReading(
        uptime_seconds=3600.0,
        restarts=restarts,
        vendor="unifi" if clients is not None else "generic",
        clients=clients,
        interfaces=(),
        model="nanoHD",
    )


def _found(
    rule: HotspotRestartedRule | HotspotNoClientsRule,
    state: FleetState,
    now: float,
    settings: RuleSettings | None = None,
) -> list[Finding]:
    return findings(rule.evaluate(rule_context(state, now), settings or rule.settings_model()))


# -- registration ---------------------------------------------------------------


def test_the_plugin_registers_its_rules() -> None:
    rules = {rule.name: rule for rule in plugin.ocrfleet_alert_rules()}
    assert sorted(rules) == [
        "hotspot_down",
        "hotspot_no_clients",
        "hotspot_restarted",
        "hotspot_uplink_down",
        "hotspot_uplink_missing",
    ]


def test_hotspot_down_is_a_network_problem_while_the_site_is_open() -> None:
    rule = {r.name: r for r in plugin.ocrfleet_alert_rules()}["hotspot_down"]
    state = _state()
    now = _local(2, 10)
    state.record_poll_failure(WIFI, "timeout", now)
    (finding,) = rule.evaluate(rule_context(state, now), RuleSettings())
    assert isinstance(finding, Finding)
    assert _say(finding.summary) == "Wifi hotspot wifi-01 is down"
    assert finding.labels["reason"] == "timeout"
    assert finding.labels["category"] == "network"
    night = _local(2, 22)
    state.record_poll_failure(WIFI, "timeout", night)
    assert list(rule.evaluate(rule_context(state, night), RuleSettings())) == []


# -- hotspot_restarted ------------------------------------------------------------


def test_a_restart_is_reported_for_the_window_then_forgotten() -> None:
    state, rule, clock = _state(), HotspotRestartedRule(), ManualClock(_local(2, 10))
    state.record_reading(WIFI, _reading(restarts=0), clock.now())
    assert _found(rule, state, clock.now()) == []
    clock.advance(MINUTE)
    state.record_reading(WIFI, _reading(restarts=1), clock.now())
    (finding,) = _found(rule, state, clock.now())
    assert finding.subject == "lib/wifi-01"
    assert finding.labels == {
        "site": "lib",
        "device": "wifi-01",
        "kind": "hotspot",
        "category": "network",
    }
    clock.advance(29 * MINUTE)
    assert len(_found(rule, state, clock.now())) == 1
    clock.advance(MINUTE)
    assert _found(rule, state, clock.now()) == []
    clock.advance(MINUTE)
    assert _found(rule, state, clock.now()) == []


def test_a_restart_fires_without_tolerance() -> None:
    assert RestartedSettings().for_ == 0


def test_the_window_is_configurable_and_a_new_restart_extends_it() -> None:
    settings = RestartedSettings.model_validate({"window": "10m"})
    state, rule, clock = _state(), HotspotRestartedRule(), ManualClock(_local(2, 10))
    state.record_reading(WIFI, _reading(restarts=0), clock.now())
    _found(rule, state, clock.now(), settings)
    clock.advance(MINUTE)
    state.record_reading(WIFI, _reading(restarts=1), clock.now())
    assert len(_found(rule, state, clock.now(), settings)) == 1
    clock.advance(8 * MINUTE)
    state.record_reading(WIFI, _reading(restarts=2), clock.now())
    (finding,) = _found(rule, state, clock.now(), settings)
    assert "restarted 2 times" in _say(finding.description)
    assert "uptime went back 2x" in finding.detail
    clock.advance(9 * MINUTE)
    assert len(_found(rule, state, clock.now(), settings)) == 1
    clock.advance(MINUTE)
    assert _found(rule, state, clock.now(), settings) == []


def test_restarts_before_the_rule_first_looked_are_not_news() -> None:
    """After a daemon restart the rule starts empty: its first look is a baseline."""
    state, rule = _state(), HotspotRestartedRule()
    now = _local(2, 10)
    state.record_reading(WIFI, _reading(restarts=4), now)
    assert _found(rule, state, now) == []
    assert _found(rule, state, now + MINUTE) == []


def test_a_counter_that_went_back_is_a_new_baseline() -> None:
    state, rule = _state(), HotspotRestartedRule()
    now = _local(2, 10)
    state.record_reading(WIFI, _reading(restarts=3), now)
    _found(rule, state, now)
    state.record_reading(WIFI, _reading(restarts=0), now + MINUTE)
    assert _found(rule, state, now + MINUTE) == []
    state.record_reading(WIFI, _reading(restarts=1), now + 2 * MINUTE)
    assert len(_found(rule, state, now + 2 * MINUTE)) == 1


# -- hotspot_no_clients -----------------------------------------------------------


class _Day:
    """Drives the rule through time, one evaluation every `step`."""

    def __init__(self, start: float, timezone: str = "Europe/Brussels") -> None:
        self.state = _state(timezone)
        self.rule = HotspotNoClientsRule()
        self.clock = ManualClock(start)
        self.settings = NoClientsSettings()

    def until(
        self, end: float, clients: int | None = 0, up: bool = True, step: float = 15 * MINUTE
    ) -> list[Finding]:
        found: list[Finding] = []
        while self.clock.now() < end:
            now = self.clock.now()
            if up:
                self.state.record_reading(WIFI, _reading(clients=clients), now)
            else:
                self.state.record_poll_failure(WIFI, "timeout", now)
            found = _found(self.rule, self.state, now, self.settings)
            self.clock.advance(step)
        return found


def test_a_whole_opening_day_without_clients_is_found_at_closing_time() -> None:
    day = _Day(_local(2, 7))
    assert day.until(_local(2, 17)) == []
    (finding,) = day.until(_local(2, 17, 1))
    assert finding.subject == "lib/wifi-01"
    assert finding.labels["category"] == "network"
    assert _say(finding.summary) == "No wifi users on hotspot wifi-01 since Mar 2, 2026"
    assert "2026-03-02" in finding.detail
    # It stays through the night and the next morning while nobody connects...
    assert len(day.until(_local(3, 10))) == 1
    # ...and clears as soon as a client is seen.
    assert day.until(_local(3, 10, 15), clients=1) == []
    assert day.until(_local(3, 11), clients=0) == []


def test_a_single_client_during_the_day_is_enough() -> None:
    day = _Day(_local(2, 7))
    day.until(_local(2, 14))
    day.until(_local(2, 14, 15), clients=2)
    assert day.until(_local(3, 8)) == []


def test_clients_outside_opening_hours_do_not_count_for_the_day() -> None:
    day = _Day(_local(2, 7))
    day.until(_local(2, 8), clients=3)
    day.until(_local(2, 12, 15))
    day.until(_local(2, 12, 45), clients=3)  # lunch break: closed
    assert len(day.until(_local(2, 18))) == 1


def test_a_vendor_without_client_counts_never_fires() -> None:
    day = _Day(_local(2, 7))
    assert day.until(_local(4, 8), clients=None) == []


def test_a_hotspot_down_during_the_day_is_not_judged() -> None:
    day = _Day(_local(2, 7))
    day.until(_local(2, 11))
    day.until(_local(2, 11, 30), up=False)
    assert day.until(_local(3, 8)) == []


def test_a_day_watched_only_from_midday_is_not_judged() -> None:
    """E.g. the daemon started at 11:00: the morning is unknown."""
    day = _Day(_local(2, 11))
    assert day.until(_local(3, 8)) == []
    # The next day is watched whole.
    assert len(day.until(_local(3, 18))) == 1


def test_a_closed_day_is_not_an_opening_day() -> None:
    # 2026-03-09 is an open Monday, the 10th a closure, the 14th-15th a weekend.
    day = _Day(_local(9, 18))
    assert day.until(_local(11, 8)) == []
    day = _Day(_local(14, 7))
    assert day.until(_local(16, 8)) == []


def test_the_opening_day_is_that_of_the_sites_time_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    day = _Day(_local(2, 7, zone=new_york), timezone="America/New_York")
    # 17:00 in Brussels is 11:00 in New York: the site is still open.
    assert day.until(_local(2, 17, 1)) == []
    assert day.until(_local(2, 17, zone=new_york)) == []
    assert len(day.until(_local(2, 17, 1, zone=new_york))) == 1


def test_the_finding_stays_across_more_empty_days() -> None:
    day = _Day(_local(2, 7))
    day.until(_local(3, 18))
    (finding,) = day.until(_local(3, 18, 15))
    assert "since Mar 2, 2026" in _say(finding.summary)


# -- hotspot_uplink_down and hotspot_uplink_missing -------------------------------

PPPOE_UP = Uplink("up", "interface", "pppoe-out1", 5, detail="ifOperStatus up(1)")
PPPOE_DOWN = Uplink("down", "interface", "pppoe-out1", 5, detail="ifOperStatus lowerLayerDown(7)")
TYPO = Uplink("unknown", "interface", configured=True, missing="wan9", detail="no interface ...")


def _uplink_findings(
    rule: HotspotUplinkDownRule | HotspotUplinkMissingRule, state: FleetState, now: float
) -> list[Finding]:
    context = rule_context(state, now, kind=HotspotKind())
    return findings(rule.evaluate(context, rule.settings_model()))


def test_an_uplink_that_is_down_on_a_hotspot_that_answers_is_found() -> None:
    rule, state, now = HotspotUplinkDownRule(), _state(), _local(2, 10)
    assert rule.default_severity == "critical"
    state.record_reading(WIFI, replace(_reading(), uplink=PPPOE_UP), now)
    assert _uplink_findings(rule, state, now) == []
    state.record_reading(WIFI, replace(_reading(), uplink=PPPOE_DOWN), now + MINUTE)
    [finding] = _uplink_findings(rule, state, now + MINUTE)
    assert finding.subject == "lib/wifi-01"
    assert finding.labels == {
        "site": "lib",
        "device": "wifi-01",
        "kind": "hotspot",
        "category": "network",
    }
    assert _say(finding.summary) == (
        "Wifi hotspot wifi-01 is on but has no connection to the internet"
    )
    assert _say(finding.description).startswith(
        "The wifi hotspot in Bibliotheek is on, but has no connection to the internet"
    )
    assert "pppoe-out1 (ifIndex 5): ifOperStatus lowerLayerDown(7)" in finding.detail
    # The missing-interface rule has nothing to say about it.
    assert _uplink_findings(HotspotUplinkMissingRule(), state, now + MINUTE) == []


def test_a_hotspot_that_does_not_answer_is_hotspot_downs_not_the_uplinks() -> None:
    rule, state, now = HotspotUplinkDownRule(), _state(), _local(2, 10)
    state.record_reading(WIFI, replace(_reading(), uplink=PPPOE_DOWN), now)
    state.record_poll_failure(WIFI, "timeout", now + MINUTE)
    assert _uplink_findings(rule, state, now + MINUTE) == []


def test_an_unknown_uplink_is_not_down_but_a_missing_interface_is_told() -> None:
    state, now = _state(), _local(2, 10)
    state.record_reading(WIFI, replace(_reading(), uplink=TYPO), now)
    assert _uplink_findings(HotspotUplinkDownRule(), state, now) == []
    [finding] = _uplink_findings(HotspotUplinkMissingRule(), state, now)
    assert finding.labels["category"] == "network"
    assert _say(finding.summary) == (
        "The internet connection of wifi hotspot wifi-01 cannot be checked"
    )
    assert "options.uplink_interface = 'wan9'" in finding.detail
    state.record_reading(WIFI, _reading(), now + MINUTE)  # nothing tells: no uplink at all
    assert _uplink_findings(HotspotUplinkMissingRule(), state, now + MINUTE) == []
