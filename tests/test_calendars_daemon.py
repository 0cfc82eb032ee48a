"""A whole daemon: a printer that does not answer on a public holiday is closed, not down,
and a refreshed feed reaches the running daemon's schedules without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ocrfleet.clock import ManualClock
from tests.support.daemon import RunningApp, Samples, series_of, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.snmpsim import free_udp_port
from tests.test_calendars_feed import GOOD, FeedServer

BRUSSELS = ZoneInfo("Europe/Brussels")
EASTER_MONDAY = datetime(2027, 3, 29, 12, 0, tzinfo=BRUSSELS)
A_MONDAY = datetime(2027, 1, 4, 12, 0, tzinfo=BRUSSELS)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feed = FeedServer()
    try:
        yield feed
    finally:
        feed.stop()


def silent_printer(port: int) -> dict[str, Any]:
    """A printer nothing answers for: down whenever its site is open."""
    return {
        "id": "mfp",
        "kind": "printer",
        "options": {
            "host": "127.0.0.1",
            "port": port,
            "snmp": {"version": "2c", "community": "public"},
            "poll_interval": 5,
            "timeout": 1,
            "retries": 0,
        },
    }


def two_sites(broker: Mosquitto, store: Path, calendars: list[dict[str, Any]]) -> dict[str, Any]:
    """`lib` with the calendars, `annex` without; both open on Mondays, both printers silent."""
    port = free_udp_port()
    config = site_config(broker.port, store, devices=[silent_printer(port)])
    config["sites"][0]["calendars"] = calendars
    config["sites"].append(
        {
            "id": "annex",
            "name": "Annex",
            "village_core": "Testdorp",
            "opening_hours": {"mon": ["09:00-17:00"]},
            "devices": [silent_printer(port)],
        }
    )
    return config


def state(samples: Samples, site: str) -> list[tuple[str, str]]:
    return [
        (s["state"], s["reason"])
        for s in series_of(samples, "ocrfleet_device_state")
        if s["site"] == site and s["device"] == "mfp"
    ]


def polled_twice(daemon: RunningApp) -> Samples:
    """A scrape once both printers have failed a poll: the annex's is then down."""
    scraped: dict[str, Samples] = {}

    def annex_down() -> bool:
        scraped["last"] = daemon.scrape()
        return state(scraped["last"], "annex") == [("down", "timeout")]

    wait_for(annex_down, timeout=30, what="a failed poll of the annex's printer")
    return scraped["last"]


def test_a_printer_down_on_a_public_holiday_is_not_reported_down(
    broker: Mosquitto, tmp_path: Path
) -> None:
    holidays = [{"type": "public_holidays", "country": "BE"}]
    config = two_sites(broker, tmp_path / "store.sqlite", holidays)
    with RunningApp(config, clock=ManualClock(EASTER_MONDAY.timestamp())) as daemon:
        samples = polled_twice(daemon)
        timeouts = value(
            samples, "ocrfleet_snmp_poll_errors_total", kind="printer", reason="timeout"
        )
        assert timeouts is not None and timeouts >= 2  # the library's printer failed too
        assert state(samples, "lib") == [("scheduled_off", "closure")]
        assert value(samples, "ocrfleet_site_open", site="lib") == 0.0
        assert value(samples, "ocrfleet_site_open", site="annex") == 1.0
        midnight = EASTER_MONDAY.replace(hour=0).timestamp()
        assert value(samples, "ocrfleet_site_next_closure_timestamp_seconds", site="lib") == (
            midnight
        )
        assert value(samples, "ocrfleet_site_next_closure_timestamp_seconds", site="annex") is None
        calendar = {"calendar": "lib/public_holidays", "type": "public_holidays"}
        wait_for(
            lambda: (
                value(
                    daemon.scrape(), "ocrfleet_calendar_last_success_timestamp_seconds", **calendar
                )
                == EASTER_MONDAY.timestamp()
            ),
            what="the start-up refresh",
        )


def test_a_refreshed_feed_reaches_the_running_daemon(
    broker: Mosquitto, server: FeedServer, tmp_path: Path
) -> None:
    feed = [{"type": "ical", "name": "own", "url": server.url, "timeout": 5}]
    config = two_sites(broker, tmp_path / "store.sqlite", feed)
    labels = {"calendar": "lib/own", "type": "ical"}
    with RunningApp(config, clock=ManualClock(A_MONDAY.timestamp())) as daemon:
        wait_for(
            lambda: (
                value(daemon.scrape(), "ocrfleet_calendar_last_success_timestamp_seconds", **labels)
                is not None
            ),
            what="the start-up fetch of the feed",
        )
        samples = polled_twice(daemon)
        # The feed does not close today: the library's silent printer is down.
        assert state(samples, "lib") == [("down", "timeout")]

        # The library closes today after all; the next daily refresh brings it in.
        server.body = GOOD.replace(b"20270303", b"20270104")
        daemon.call(daemon.app.refresh_calendars)
        samples = daemon.scrape()
        assert state(samples, "lib") == [("scheduled_off", "closure")]
        assert state(samples, "annex") == [("down", "timeout")]
        assert value(samples, "ocrfleet_site_open", site="lib") == 0.0

        # The feed breaks: the closure stays, and the failure shows.
        server.status = 500
        daemon.call(daemon.app.refresh_calendars)
        samples = daemon.scrape()
        assert state(samples, "lib") == [("scheduled_off", "closure")]
        assert (
            value(samples, "ocrfleet_calendar_refresh_failed", reason="http_status", **labels)
            == 1.0
        )
        # The copy a restart would start from is the last good one.
        copy = tmp_path / "calendars" / "lib--own.ics"
        assert copy.read_bytes() == GOOD.replace(b"20270303", b"20270104")
