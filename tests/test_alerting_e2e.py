"""Alerts end to end: a jammed printer on a real snmpsim agent, the whole daemon, and
a real HTTP receiver behind the bundled webhook channel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from ocrfleet.config.loader import load_config
from tests.support.daemon import RunningApp, site_config, value, wait_for
from tests.support.http_receiver import HttpReceiver, ReceivedRequest
from tests.support.mosquitto import Mosquitto
from tests.support.snmpsim import SnmpSimulator
from tests.support.words import MIB_WORD

PRINTERS = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimulator]:
    with SnmpSimulator(PRINTERS, tmp_path_factory.mktemp("snmpsim")) as simulator:
        yield simulator


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as started:
        yield started


def _config(
    broker: Mosquitto,
    store: Path,
    agent: SnmpSimulator,
    receiver: HttpReceiver,
    *,
    community: str = "jammed",
    opening_hours: dict[str, list[str]] | None = None,
    outside_opening_hours: bool = False,
) -> dict[str, Any]:
    printer = {
        "id": "mfp",
        "kind": "printer",
        "options": {
            "host": "127.0.0.1",
            "port": agent.port,
            "snmp": {"version": "2c", "community": community},
            "poll_interval": 5,
            "timeout": 1,
            "retries": 1,
        },
    }
    config = site_config(broker.port, store, devices=[printer])
    config["sites"][0]["opening_hours"] = ALWAYS_OPEN if opening_hours is None else opening_hours
    config["alerting"] = {
        "evaluation_interval": 0.5,
        "channels": {"desk": {"type": "webhook", "url": f"{receiver.url}/hook"}},
        # Only jams go to the receiver; the recordings' other troubles to the log.
        "routes": [
            {
                "match": {"alertname": "printer_condition", "condition": "jammed"},
                "channels": ["desk"],
            }
        ],
        "rules": {
            "printer_condition": {
                "for": 0,
                "resolve_after": 0,
                "outside_opening_hours": outside_opening_hours,
            }
        },
    }
    config["outbox"] = {"retry_initial": 0.2, "retry_max": 1}
    return config


def _jam_items(requests: list[ReceivedRequest]) -> list[tuple[str, str]]:
    """(status, idempotency key) of every jam alert the receiver was sent, in order."""
    found = []
    for request in requests:
        if request.answered != 200:
            continue
        for alert in request.json()["alerts"]:
            if alert["labels"].get("condition") == "jammed":
                found.append((alert["status"], request.headers["idempotency-key"]))
    return found


def _reload(daemon: RunningApp, config: dict[str, Any]) -> None:
    c = daemon.catalog
    loaded = load_config(config, c.kinds, c.rules, c.channel_types)
    daemon._loop.call_soon_threadsafe(daemon.app.reload, loaded)


def test_a_jam_reaches_the_webhook_once_and_its_end_once(
    broker: Mosquitto, agent: SnmpSimulator, receiver: HttpReceiver, tmp_path: Path
) -> None:
    config = _config(broker, tmp_path / "s.sqlite", agent, receiver)
    with RunningApp(config) as daemon:
        wait_for(lambda: _jam_items(receiver.requests) != [], timeout=30, what="the jam")
        # Several more evaluations while it stays jammed: nothing new is sent.
        start = value(daemon.scrape(), "ocrfleet_alert_evaluations_total") or 0
        wait_for(
            lambda: (value(daemon.scrape(), "ocrfleet_alert_evaluations_total") or 0) >= start + 6,
            what="six more evaluations",
        )
        assert [status for status, _ in _jam_items(receiver.requests)] == ["firing"]
        # An attendant clears the jam: the printer now answers as a healthy one.
        _reload(
            daemon, _config(broker, tmp_path / "s.sqlite", agent, receiver, community="mono_laser")
        )
        wait_for(lambda: len(_jam_items(receiver.requests)) == 2, timeout=30, what="the end")
        start = value(daemon.scrape(), "ocrfleet_alert_evaluations_total") or 0
        wait_for(
            lambda: (value(daemon.scrape(), "ocrfleet_alert_evaluations_total") or 0) >= start + 6,
            what="six more evaluations",
        )
    items = _jam_items(receiver.requests)
    assert [status for status, _ in items] == ["firing", "resolved"]
    assert items[0][1] != items[1][1]
    body = receiver.requests[0].json()
    assert body["version"] == "4" and body["groupLabels"] == {"site": "lib"}


def test_nothing_is_sent_while_the_site_is_closed_unless_the_rule_says_so(
    broker: Mosquitto, agent: SnmpSimulator, receiver: HttpReceiver, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    closed = _config(broker, store, agent, receiver, opening_hours={})
    with RunningApp(closed) as daemon:
        labels = {"site": "lib", "device": "mfp", "kind": "printer", "condition": "jammed"}

        def jammed_and_evaluated() -> bool:
            samples = daemon.scrape()
            return (
                value(samples, "ocrfleet_printer_condition", **labels) == 1.0
                and (value(samples, "ocrfleet_alert_evaluations_total") or 0) >= 10
            )

        wait_for(jammed_and_evaluated, timeout=30, what="a polled jam and ten evaluations")
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_alerts_firing", severity="warning") == 0.0
        assert receiver.requests == []
        _reload(
            daemon,
            _config(broker, store, agent, receiver, opening_hours={}, outside_opening_hours=True),
        )
        wait_for(lambda: _jam_items(receiver.requests) != [], timeout=30, what="the jam")


def test_a_receiver_down_for_a_while_gets_everything_when_it_is_back(
    broker: Mosquitto, agent: SnmpSimulator, receiver: HttpReceiver, tmp_path: Path
) -> None:
    receiver.fail_until_told(503)
    config = _config(broker, tmp_path / "s.sqlite", agent, receiver)
    with RunningApp(config) as daemon:

        def retried_twice() -> bool:
            samples = daemon.scrape()
            retried = value(
                samples, "ocrfleet_notifications_total", channel="desk", outcome="retried"
            )
            return (retried or 0) >= 2 and value(samples, "ocrfleet_outbox_pending") == 1.0

        wait_for(retried_twice, timeout=30, what="failed tries")
        receiver.recover()
        wait_for(lambda: _jam_items(receiver.requests) != [], timeout=30, what="the delivery")

        # The receiver has the request a moment before the daemon has its answer.
        def marked_delivered() -> bool:
            samples = daemon.scrape()
            delivered = value(
                samples, "ocrfleet_notifications_total", channel="desk", outcome="delivered"
            )
            return delivered == 1.0 and value(samples, "ocrfleet_outbox_pending") == 0.0

        wait_for(marked_delivered, timeout=30, what="the delivery recorded")
    keys = {request.headers["idempotency-key"] for request in receiver.requests}
    assert len(keys) == 1  # every try carried the same key


def test_a_daemon_killed_with_notifications_undelivered_delivers_them_after_restart(
    broker: Mosquitto, agent: SnmpSimulator, receiver: HttpReceiver, tmp_path: Path
) -> None:
    receiver.fail_until_told(503)
    config = _config(broker, tmp_path / "s.sqlite", agent, receiver)
    config["http"]["port"] = 0
    path = tmp_path / "ocrfleet.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    command = [sys.executable, "-m", "ocrfleet.cli.main", "run", "-c", str(path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(receiver.requests) >= 2, timeout=30, what="tries that fail")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    tried = {request.headers["idempotency-key"] for request in receiver.requests}
    receiver.recover()
    second = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(lambda: _jam_items(receiver.requests) != [], timeout=30, what="the delivery")
    finally:
        second.terminate()
        second.wait(10)
    delivered = _jam_items(receiver.requests)
    # The notification the first daemon stored is the one delivered: the
    # second did not raise the alert again, it resumed the delivery.
    assert [status for status, _ in delivered] == ["firing"]
    assert {key for _, key in delivered} == tried


def test_a_jam_reaches_a_dutch_front_desk_in_plain_dutch_and_it_in_english(
    broker: Mosquitto, agent: SnmpSimulator, receiver: HttpReceiver, tmp_path: Path
) -> None:
    """The whole daemon, a real jammed printer and receiver: the front desk's words are
    Dutch and plain, IT's English, and neither carries an SNMP name or a UTC time."""
    config = _config(broker, tmp_path / "s.sqlite", agent, receiver)
    config["municipality"]["language"] = "nl"
    config["alerting"]["channels"]["it"] = {"type": "webhook", "url": f"{receiver.url}/it"}
    config["alerting"]["routes"][0]["continue"] = True
    config["alerting"]["routes"].append(
        {"match": {"condition": "jammed"}, "channels": ["it"], "language": "en"}
    )

    def jam(path: str) -> dict[str, Any] | None:
        for request in receiver.requests:
            if request.path != path or request.answered != 200:
                continue
            for alert in request.json()["alerts"]:
                if alert["labels"].get("condition") == "jammed":
                    return dict(alert)
        return None

    with RunningApp(config):
        wait_for(
            lambda: jam("/hook") is not None and jam("/it") is not None,
            timeout=30,
            what="the jam at both receivers",
        )
    desk_jam, it_jam = jam("/hook"), jam("/it")
    assert desk_jam is not None and it_jam is not None
    summary = desk_jam["annotations"]["summary"]
    assert "vastgelopen" in summary.lower(), summary
    assert "jam" in it_jam["annotations"]["summary"].lower(), it_jam
    for alert in (desk_jam, it_jam):
        for text in alert["annotations"].values():
            assert not MIB_WORD.search(text.split("ICT:")[0].split("IT:")[0]), text
    # Machines keep UTC, RFC 3339.
    assert desk_jam["startsAt"].endswith(("Z", "+00:00")), desk_jam["startsAt"]
