"""What the hotspot plugin's findings say: plain Dutch and English, never a MIB name.

Every finding its rules can produce (down, restarted once or more, a day
without wifi users) is put into words with the plugin's real catalog, as a
Flemish front desk reads it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ocrfleet.alerts.rules import AlertRule, Finding
from ocrfleet.cli.common import load_catalog
from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.i18n import tools
from ocrfleet.i18n.catalogs import Catalogs, packaged_catalog
from ocrfleet.state import FleetState
from ocrfleet_hotspot import plugin
from ocrfleet_hotspot.kind import HotspotKind
from ocrfleet_hotspot.reading import HotspotReading, Uplink
from ocrfleet_hotspot.rules import (
    HotspotNoClientsRule,
    HotspotRestartedRule,
    HotspotUplinkDownRule,
    HotspotUplinkMissingRule,
)
from tests.support.rules import findings, rule_context
from tests.support.words import BRUSSELS, IDENTIFIER, MIB_WORD, assert_plain_dutch, speaker

PACKAGE = Path(plugin.__file__).resolve().parent
WIFI = DeviceKey("lib", "wifi-01")
CATALOGS = Catalogs([packaged_catalog("ocrfleet_hotspot")])
DUTCH = speaker("nl", CATALOGS)
ENGLISH = speaker("en", CATALOGS)
SCHEDULE = SiteSchedule(
    OpeningHours.model_validate({"mon": ["09:00-17:00"], "tue": ["09:00-17:00"]}),
    "Europe/Brussels",
)


def local(day: int, hour: int, minute: int = 0) -> float:
    """A moment in March 2026; the 2nd is a Monday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BRUSSELS).timestamp()


def hotspot(
    restarts: int = 0, clients: int | None = 0, uplink: Uplink | None = None
) -> HotspotReading:
    return HotspotReading(
        uptime_seconds=600.0,
        restarts=restarts,
        vendor="unifi",
        clients=clients,
        interfaces=(),
        model="nanoHD",
        uplink=uplink,
    )


class Fleet:
    def __init__(self) -> None:
        self.state = FleetState([DeviceInfo(WIFI, "hotspot", schedule=SCHEDULE)], {})

    def run(self, rule: AlertRule, now: float) -> list[Finding]:
        context = rule_context(self.state, now, kind=HotspotKind())
        return findings(rule.evaluate(context, rule.settings_model()))


def test_every_message_has_dutch_words() -> None:
    assert tools.check(PACKAGE) == []


def test_the_plugin_registers_its_catalog() -> None:
    [catalog] = plugin.ocrfleet_message_catalogs()
    assert catalog.domain == "ocrfleet_hotspot"
    assert load_catalog().message_catalogs["ocrfleet_hotspot"] == catalog


def test_a_hotspot_that_is_down_in_dutch() -> None:
    fleet = Fleet()
    fleet.state.record_poll_failure(WIFI, "timeout", local(2, 10))
    [finding] = fleet.run(load_catalog().rules["hotspot_down"], local(2, 10))
    summary = DUTCH.say(finding.summary)
    assert summary == "Wifi-hotspot wifi-01 is uitgevallen"
    assert not MIB_WORD.search(summary) and not IDENTIFIER.search(summary)
    assert ENGLISH.say(finding.summary) == "Wifi hotspot wifi-01 is down"


def test_a_restart_in_dutch() -> None:
    fleet, rule = Fleet(), HotspotRestartedRule()
    fleet.state.record_reading(WIFI, hotspot(restarts=0), local(2, 10))
    assert fleet.run(rule, local(2, 10)) == []
    fleet.state.record_reading(WIFI, hotspot(restarts=1), local(2, 10, 1))
    [once] = fleet.run(rule, local(2, 10, 1))
    summary, description = assert_plain_dutch(once, CATALOGS)
    assert summary == "Wifi-hotspot wifi-01 is opnieuw opgestart"
    assert description.startswith("Wie op de wifi zat, verloor even de verbinding.")
    fleet.state.record_reading(WIFI, hotspot(restarts=3), local(2, 10, 2))
    [thrice] = fleet.run(rule, local(2, 10, 2))
    _, description = assert_plain_dutch(thrice, CATALOGS)
    assert description.startswith("Hij is 3 keer kort na elkaar opnieuw opgestart")
    assert "uptime went back 3x" in thrice.detail


def test_a_day_without_wifi_users_in_dutch() -> None:
    fleet, rule = Fleet(), HotspotNoClientsRule()
    found: list[Finding] = []
    now = local(2, 8)
    while now <= local(2, 17, 15):
        fleet.state.record_reading(WIFI, hotspot(clients=0), now)
        found = fleet.run(rule, now)
        now += 900
    [finding] = found
    summary, description = assert_plain_dutch(finding, CATALOGS)
    assert summary == "Geen wifi-gebruikers op hotspot wifi-01 sinds 2 mrt 2026"
    assert "de hele openingsdag van 2 mrt 2026" in description
    assert ENGLISH.say(finding.summary) == "No wifi users on hotspot wifi-01 since Mar 2, 2026"
    assert "2026-03-02" in finding.detail


def test_an_uplink_down_in_dutch() -> None:
    fleet = Fleet()
    down = Uplink("down", "vendor", detail="the vendor's MIB says down")
    fleet.state.record_reading(WIFI, hotspot(uplink=down), local(2, 10))
    [finding] = fleet.run(HotspotUplinkDownRule(), local(2, 10))
    summary, description = assert_plain_dutch(finding, CATALOGS)
    assert summary == "Wifi-hotspot wifi-01 staat aan, maar heeft geen verbinding met het internet"
    assert description.startswith(
        "De wifi-hotspot in Bibliotheek staat aan, maar heeft geen verbinding met het internet"
    )
    assert "uplink down" in finding.detail


def test_a_missing_uplink_interface_in_dutch() -> None:
    fleet = Fleet()
    typo = Uplink("unknown", "interface", configured=True, missing="wan9", detail="no ...")
    fleet.state.record_reading(WIFI, hotspot(uplink=typo), local(2, 10))
    [finding] = fleet.run(HotspotUplinkMissingRule(), local(2, 10))
    summary, description = assert_plain_dutch(finding, CATALOGS)
    assert summary == "De internetverbinding van wifi-hotspot wifi-01 kan niet nagekeken worden"
    assert "ICT-dienst" in description


def test_titles_in_dutch() -> None:
    assert DUTCH.say(HotspotRestartedRule.title) == "Herstarts van wifi-hotspots"
    assert DUTCH.say(HotspotNoClientsRule.title) == "Wifi-hotspots zonder gebruikers"
    assert DUTCH.say(HotspotKind.title) == "Wifi-hotspot"
    assert DUTCH.say(HotspotUplinkDownRule.title) == "Wifi-hotspots zonder internet"
