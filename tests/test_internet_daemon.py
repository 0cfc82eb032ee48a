"""A site's internet in the running daemon: its own probe, the devices' checks, metrics,
rules, the norm and the history (docs/internet.md).

The devices here are a test kind (tests/support/netcheck.py) that publishes
its check over MQTT, so the core is tested apart from the PC agent; the
end-to-end test with real agents is tests/test_internet_e2e.py.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from ocrfleet.alerts.engine import AlertEngine
from ocrfleet.clock import ManualClock
from ocrfleet.store.connections import StoreConnections
from tests.support.daemon import RunningApp, catalog, site_config, value, wait_for
from tests.support.internet import InternetServer
from tests.support.mosquitto import Mosquitto, free_port
from tests.support.netcheck import NETCHECK_PLUGIN
from tests.support.publisher import TestPublisher

ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def internet(tmp_path: Path) -> Iterator[InternetServer]:
    with InternetServer(tmp_path / "internet") as server:
        yield server


def _config(broker: Mosquitto, tmp_path: Path, **internet: Any) -> dict[str, Any]:
    devices = [{"id": f"pc-0{n}", "kind": "netcheck"} for n in (1, 2)]
    config = site_config(broker.port, tmp_path / "store.sqlite", devices=devices)
    config["sites"][0]["opening_hours"] = ALWAYS_OPEN
    config["sites"].append(
        {
            "id": "hall",
            "name": "Town hall",
            "village_core": "Testdorp",
            "opening_hours": ALWAYS_OPEN,
            "devices": [{"id": "pc-09", "kind": "netcheck"}],
        }
    )
    config["alerting"] = {"evaluation_interval": 0.2}
    if internet:
        config["internet"] = internet
    return config


def _firing(engine: AlertEngine) -> set[str]:
    return {key for key, record in engine.records.items() if record.state == "firing"}


# -- the daemon's own probe -------------------------------------------------


def test_a_hanging_check_never_blocks_the_event_loop(
    broker: Mosquitto, tmp_path: Path, internet: InternetServer
) -> None:
    internet.hold()
    probe = {"sites": ["lib"], "url": internet.url, "ca_file": str(internet.ca_file), "timeout": 60}
    config = _config(broker, tmp_path, probe=probe)
    with RunningApp(config, catalog(NETCHECK_PLUGIN)) as daemon:
        # The check has reached the server, which holds it unanswered ...
        internet.wait_for_requests(1)
        # ... while the loop runs other work and /metrics answers.
        assert daemon.call(lambda: asyncio.sleep(0, result="loop free")) == "loop free"
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_internet_probe_success", site="lib") is None
        assert value(samples, "ocrfleet_site_internet_state", site="lib", state="unknown") == 1
        assert daemon.app.internet_probe.in_flight
        internet.release()
        wait_for(
            lambda: value(daemon.scrape(), "ocrfleet_internet_probe_success", site="lib") == 1,
            what="the released check to succeed",
        )
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_site_internet_up", site="lib") == 1
        assert value(samples, "ocrfleet_site_internet_checks", site="lib") == 1
        duration = value(samples, "ocrfleet_internet_probe_duration_seconds", site="lib")
        assert duration is not None and duration > 0
        # The other site has no check of its own: unknown, not up.
        assert value(samples, "ocrfleet_site_internet_up", site="hall") is None
        assert value(samples, "ocrfleet_internet_probe_success", site="hall") is None


@pytest.mark.parametrize("failure", ["closed_port", "slow", "unresolvable"])
def test_a_failing_probe_takes_its_site_down(
    broker: Mosquitto, tmp_path: Path, internet: InternetServer, failure: str
) -> None:
    probe: dict[str, Any] = {
        "sites": ["lib"],
        "url": internet.url,
        "ca_file": str(internet.ca_file),
        "timeout": 1,
    }
    if failure == "closed_port":
        probe["url"] = f"https://localhost:{free_port()}/"
    elif failure == "slow":
        internet.slow(120)
    else:
        probe["resolve"] = "nonexistent.invalid"  # never resolves (RFC 6761)
    clock = ManualClock()
    with RunningApp(
        _config(broker, tmp_path, probe=probe), catalog(NETCHECK_PLUGIN), clock
    ) as daemon:
        app = daemon.app
        wait_for(lambda: app.internet_probe.last is not None, what="the first check")
        assert daemon.call(lambda: asyncio.sleep(0, result=1)) == 1
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_internet_probe_success", site="lib") == 0
        assert value(samples, "ocrfleet_site_internet_up", site="lib") == 0
        assert value(samples, "ocrfleet_site_internet_state", site="lib", state="down") == 1
        last = app.internet_probe.last
        assert last is not None
        assert (
            last.error
            == {"closed_port": "connect", "slow": "timeout", "unresolvable": "dns"}[failure]
        )
        # Down for less than the rule's 5 minutes: pending, nothing fires yet.
        app.alerting.request_evaluation()
        records = app.alerting.engine.records
        wait_for(lambda: "internet_down:lib" in records, what="internet_down pending")
        assert records["internet_down:lib"].state == "pending"
        clock.advance(301)
        app.alerting.request_evaluation()
        wait_for(
            lambda: "internet_down:lib" in _firing(app.alerting.engine),
            what="internet_down to fire after its 5 minutes",
        )


# -- the devices' checks ------------------------------------------------------


def _publish(publisher: TestPublisher, device: str, site: str = "lib", **check: Any) -> None:
    publisher.publish(f"ocrfleet/{site}/{device}/check", json.dumps(check))


def test_devices_checks_make_the_site_state_metrics_norm_and_history(
    broker: Mosquitto, tmp_path: Path
) -> None:
    clock = ManualClock()
    now = clock.now()
    config = _config(broker, tmp_path)
    config["municipality"]["adult_population"] = 7000  # 3 public devices required
    publisher = TestPublisher(broker.port)
    try:
        with RunningApp(config, catalog(NETCHECK_PLUGIN), clock) as daemon:
            app = daemon.app

            def state(site: str) -> str | None:
                samples = daemon.scrape()
                for candidate in ("up", "degraded", "down", "unknown"):
                    found = value(
                        samples, "ocrfleet_site_internet_state", site=site, state=candidate
                    )
                    if found == 1:
                        return candidate
                return None

            assert state("lib") == "unknown"
            # One PC gets through: the site is up, one broken PC does not take it down.
            _publish(publisher, "pc-01", ok=False, checked_at=now, error="dns")
            _publish(publisher, "pc-02", ok=True, checked_at=now, latency=0.25)
            _publish(publisher, "pc-09", "hall", ok=True, checked_at=now, latency=0.1)
            wait_for(lambda: state("lib") == "up", what="lib up")
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_site_internet_checks", site="lib") == 2
            assert value(samples, "ocrfleet_site_internet_checks_failed", site="lib") == 1
            assert value(samples, "ocrfleet_site_internet_latency_seconds", site="lib") == 0.25
            assert value(samples, "ocrfleet_norm_devices_usable", state="up") == 3
            assert value(samples, "ocrfleet_norm_devices_no_internet") == 0
            unreserved = {"site": "lib", "state": "up"}
            assert value(samples, "ocrfleet_norm_unreserved_seats_usable", **unreserved) == 2

            # Every PC fails: down, and its seats leave the norm.
            _publish(publisher, "pc-02", ok=False, checked_at=now, error="connect")
            wait_for(lambda: state("lib") == "down", what="lib down")
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_site_internet_up", site="lib") == 0
            assert value(samples, "ocrfleet_norm_devices_usable", state="up") == 1
            assert value(samples, "ocrfleet_norm_devices_no_internet") == 2
            # Only the municipal norm: the seat without reservation is about the
            # devices, as the daemon's rule no_unreserved_seat and Prometheus' agree.
            assert value(samples, "ocrfleet_norm_unreserved_seats_usable", **unreserved) == 2
            app.record_history()
            clock.advance(60)
            app.alerting.request_evaluation()
            records = app.alerting.engine.records
            wait_for(
                lambda: (
                    {"internet_down:lib", "municipality_below_norm:municipality"} <= set(records)
                ),
                what="the rules to see the outage",
            )
            norm = records["municipality_below_norm:municipality"]
            assert norm.detail == (
                "seats up or scheduled off 1 < required 3 (2 more at sites without internet)"
            )
            down = records["internet_down:lib"]
            assert down.detail == "2/2 checks failed (connect, dns) by pc-01, pc-02"
            assert down.labels["category"] == "network"
            app.record_history()

            # Slow: degraded, still up for the norm.
            _publish(publisher, "pc-01", ok=True, checked_at=clock.now(), latency=3.5)
            _publish(publisher, "pc-02", ok=True, checked_at=clock.now(), latency=2.5)
            wait_for(lambda: state("lib") == "degraded", what="lib degraded")
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_site_internet_up", site="lib") == 1
            assert value(samples, "ocrfleet_site_internet_latency_seconds", site="lib") == 3.0
            clock.advance(60)
            app.record_history()

            # Checks older than internet.stale_after say nothing.
            clock.advance(901)
            assert state("lib") == "unknown"
            assert value(daemon.scrape(), "ocrfleet_site_internet_up", site="lib") is None
    finally:
        publisher.close()
    db = StoreConnections(tmp_path / "store.sqlite").connect()
    row = db.execute(
        "SELECT internet_minutes_known, internet_minutes_up, internet_minutes_degraded,"
        " internet_minutes_down FROM site_daily WHERE site = 'lib'"
    ).fetchone()
    db.close()
    # Three samples a minute apart: down, down, degraded.
    assert row == (3.0, 1.0, 1.0, 2.0)


# -- configuration ------------------------------------------------------------


def test_an_unknown_probe_site_is_a_config_error(tmp_path: Path) -> None:
    config = site_config(1883, tmp_path / "store.sqlite")
    config["internet"] = {"probe": {"sites": ["lib", "nowhere"], "url": "https://example.org/"}}
    path = tmp_path / "ocrfleet.toml"
    path.write_text(tomli_w.dumps(config))
    done = subprocess.run(
        [sys.executable, "-m", "ocrfleet", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "internet.probe.sites[1]: unknown site 'nowhere' (known: lib)" in done.stderr
    assert "sites[0]" not in done.stderr.replace("sites[1]", "")
