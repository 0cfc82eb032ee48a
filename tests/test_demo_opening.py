"""The demo says at start which sites are open, and when the closed ones open.

The running demo's own output is checked in tests/test_demo.py (running_demo);
here the lines themselves, at moments chosen to show each case.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.demo.fleet import demo_config
from ocrfleet.demo.opening import opening_lines, site_state
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager

BRUSSELS = ZoneInfo("Europe/Brussels")


def at(month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, month, day, hour, minute, tzinfo=BRUSSELS).timestamp()


def demo() -> LoadedConfig:
    plugins = PluginCatalog.from_manager(build_plugin_manager(()))
    data = demo_config(1883, 0, Path("unused.sqlite"), snmp_port=None, kinds=plugins.kinds)
    return load_config(data, plugins.kinds)


def test_saturday_eight_oclock_every_site_closed_and_when_it_opens() -> None:
    # 5 December 2026 is a Saturday: the case a newcomer sees 0 sessions in.
    assert opening_lines(demo(), at(12, 5, 8)) == [
        "site vlaminggem-library (Hoofdbibliotheek): closed now, opens 09:00 CET",
        "site vlaminggem-welfare (Buurthuis op de zorgcampus): closed now, "
        "opens Mon 7 Dec 09:00 CET",
        "site zonnedorp-library (Bibliotheekfiliaal in de basisschool): closed now, "
        "opens 10:00 CET",
        "site boskerke-service-centre (Lokaal dienstencentrum): closed now, "
        "opens Mon 7 Dec 09:00 CET",
        "site overbrugge-neighbourhood-house (Buurthuis De Brug): closed now, opens 10:00 CET",
    ]


def test_open_sites_say_until_when() -> None:
    # Tuesday 16 June 2026, 10:30 summer time.
    lines = opening_lines(demo(), at(6, 16, 10, 30))
    assert lines[0] == "site vlaminggem-library (Hoofdbibliotheek): open now until 12:00 CEST"
    assert lines[2].endswith("): open now until 12:00 CEST")
    assert lines[4].endswith("): closed now, opens Wed 17 Jun 13:00 CEST")


def test_closed_for_good_and_open_for_good() -> None:
    never = SiteSchedule(OpeningHours())
    assert site_state(never, at(12, 5, 8)) == "closed now, no opening in the weeks ahead"
    day = ["00:00-24:00"]
    always = SiteSchedule(
        OpeningHours.model_validate({d: day for d in ("mon", "tue", "wed", "thu", "fri")}),
        closed_days=frozenset({date(2026, 12, 8)}),
    )
    # Open past midnight into the next day, which is closed.
    assert site_state(always, at(12, 7, 22)) == "open now until Tue 8 Dec 00:00 CET"
