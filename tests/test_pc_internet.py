"""The pc kind's side of the agent's internet check: the check, the metrics, the card."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.connectivity import CheckSource, InternetCheck
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.state import Availability, DeviceView, Presence, Usage
from ocrfleet_agent.payloads import Health, InternetReport
from tests.support.daemon import RunningApp, catalog, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher
from tests.support.words import speaker

KINDS = catalog().kinds
UP = Presence(Availability.UNKNOWN, True, 0.0)
DOWN = Presence(Availability.UNKNOWN, False, 0.0)
LABELS = {"site": "lib", "device": "pc-01", "kind": "pc"}
REACHABLE = InternetReport(
    ok=True, checked_at=1_767_261_590.0, latency_ms=180.4, dns_ms=11.2, status=200
)
NO_NAME = InternetReport(
    ok=False,
    checked_at=1_767_261_590.0,
    error="dns",
    detail="www.vlaminggem.be: [Errno -3] Temporary failure in name resolution",
)


def health(internet: InternetReport | None = None, **values: Any) -> Health:
    base: dict[str, Any] = {
        "ts": 1_767_261_600.0,
        "cpu_ratio": 0.1,
        "memory_used_ratio": 0.4,
        "disk_free_bytes": 10**10,
        "uptime_seconds": 600.0,
        "os": "Windows 11",
        "agent_version": "0.3.0",
        "frozen": True,
        "eid_reader_present": True,
    }
    return Health(**{**base, **values}, internet=internet)


def view(
    reading: object,
    kind: str = "pc",
    presence: Presence = UP,
    received_at: float | None = None,
) -> DeviceView:
    """The device as the daemon holds it; the report arrived `received_at` (daemon time).

    By default at its own `ts`: the PC's clock agrees with the daemon's.
    """
    if received_at is None:
        received_at = reading.ts if isinstance(reading, Health) else 0.0
    return DeviceView(
        info=DeviceInfo(DeviceKey("lib", f"{kind}-01"), kind),
        presence=presence,
        last_seen=received_at,
        reading=reading,
        reading_at=received_at,
        usage=Usage(in_use=False),
    )


@pytest.mark.parametrize("kind", ["pc", "laptop"])
def test_the_check_from_the_reading(kind: str) -> None:
    check = KINDS[kind].internet_check(view(health(REACHABLE), kind))
    assert check == InternetCheck(
        ok=True, checked_at=1_767_261_590.0, latency=0.1804, source=CheckSource.PROBE
    )
    failed = KINDS[kind].internet_check(view(health(NO_NAME), kind))
    assert failed == InternetCheck(
        ok=False,
        checked_at=1_767_261_590.0,
        latency=None,
        error="dns",
        detail="www.vlaminggem.be: [Errno -3] Temporary failure in name resolution",
        source=CheckSource.PROBE,
    )


@pytest.mark.parametrize(
    ("pc_clock", "what"),
    [(-1200.0, "20 minutes slow"), (1200.0, "20 minutes fast"), (0.0, "right")],
)
def test_the_checks_time_is_on_the_daemons_clock(pc_clock: float, what: str) -> None:
    # The daemon received the report at `arrived` on its own clock; the PC
    # stamped it (ts) and its check (10 s earlier) on a clock `pc_clock` off.
    arrived = 1_767_261_600.0
    reading = health(REACHABLE._replace(checked_at=arrived + pc_clock - 10), ts=arrived + pc_clock)
    check = KINDS["pc"].internet_check(view(reading, received_at=arrived))
    assert check is not None and check.checked_at == arrived - 10, what


def test_a_check_never_starts_after_its_report_arrived() -> None:
    # A check stamped after its own report (a PC clock stepped back between
    # the two): as old as the report, never from the daemon's future.
    reading = health(REACHABLE._replace(checked_at=1_767_261_660.0), ts=1_767_261_600.0)
    check = KINDS["pc"].internet_check(view(reading, received_at=1_767_200_000.0))
    assert check is not None and check.checked_at == 1_767_200_000.0


def test_no_check_without_the_part_or_a_health_reading() -> None:
    assert KINDS["pc"].internet_check(view(health())) is None, "an agent that does not check"
    assert KINDS["pc"].internet_check(view(None)) is None
    assert KINDS["pc"].internet_check(view("not a health report")) is None


def samples_of(reading: Health) -> dict[str, float]:
    return {
        sample.name: sample.value
        for sample in KINDS["pc"].samples(view(reading))
        if sample.name.startswith("ocrfleet_pc_internet_")
    }


def test_kind_metrics() -> None:
    assert samples_of(health(REACHABLE)) == {
        "ocrfleet_pc_internet_ok": 1.0,
        "ocrfleet_pc_internet_latency_seconds": 0.1804,
        "ocrfleet_pc_internet_checked_timestamp_seconds": 1_767_261_590.0,
    }
    assert samples_of(health(NO_NAME)) == {
        "ocrfleet_pc_internet_ok": 0.0,
        "ocrfleet_pc_internet_checked_timestamp_seconds": 1_767_261_590.0,
    }, "no latency for a check that failed"
    assert samples_of(health()) == {}, "absent when the agent does not check"
    declared = {spec.name for spec in KINDS["pc"].metric_specs}
    assert {
        "ocrfleet_pc_internet_ok",
        "ocrfleet_pc_internet_latency_seconds",
        "ocrfleet_pc_internet_checked_timestamp_seconds",
    } <= declared


def facts(reading: Health, language: str, presence: Presence = UP) -> list[str]:
    say = speaker(language).say  # type: ignore[arg-type]
    return [say(fact) for fact in KINDS["pc"].status_card(view(reading, presence=presence)).facts]


def test_the_status_card_says_whether_the_room_reaches_the_internet() -> None:
    assert facts(health(REACHABLE), "en") == ["Free", "Internet: reachable, 180 ms"]
    assert facts(health(REACHABLE), "nl") == ["Vrij", "Internet: bereikbaar, 180 ms"]
    assert facts(health(NO_NAME), "en") == ["Free", "Internet: not reachable (dns)"]
    assert facts(health(NO_NAME), "nl") == ["Vrij", "Internet: niet bereikbaar (dns)"]
    assert facts(health(), "en") == ["Free"], "nothing said without a check"
    assert facts(health(REACHABLE), "en", DOWN) == [], "a PC that is not up says nothing"
    # Next to a problem, the check is one of the facts.
    card = KINDS["pc"].status_card(view(health(NO_NAME, frozen=False)))
    say = speaker("en").say
    assert say(card.condition) == "Restore software is off — call IT"
    assert [say(fact) for fact in card.facts] == ["Free", "Internet: not reachable (dns)"]


def test_the_daemon_takes_the_part_from_mqtt(broker: Mosquitto, tmp_path: Path) -> None:
    publisher = TestPublisher(broker.port)
    topic = "ocrfleet/lib/pc-01/health"
    try:
        with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
            publisher.publish(topic, health(REACHABLE).to_json(), qos=0)
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_pc_internet_ok", **LABELS) == 1.0,
                what="the internet part in the metrics",
            )
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_pc_internet_latency_seconds", **LABELS) == 0.1804
            assert (
                value(samples, "ocrfleet_pc_internet_checked_timestamp_seconds", **LABELS)
                == 1_767_261_590.0
            )
            # A broken part refuses the whole report, in the agent's words.
            broken = health(REACHABLE).to_json().replace(b'"status": 200', b'"status": 503')
            publisher.publish(topic, broken, qos=0)
            publisher.publish(topic, health(NO_NAME, cpu_ratio=0.5).to_json(), qos=0)
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_pc_cpu_ratio", **LABELS) == 0.5,
                what="the next report",
            )
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_pc_internet_ok", **LABELS) == 0.0
            assert value(samples, "ocrfleet_pc_internet_latency_seconds", **LABELS) is None
            rejected = {
                labels: count
                for (name, labels), count in samples.items()
                if name == "ocrfleet_mqtt_messages_rejected_total"
            }
            invalid = [
                n for labels, n in rejected.items() if dict(labels).get("reason") == "invalid"
            ]
            assert invalid == [1.0], rejected
    finally:
        publisher.close()


def test_a_pc_whose_clock_is_slow_still_counts_for_its_site(
    broker: Mosquitto, tmp_path: Path
) -> None:
    # The PC's clock is 20 minutes behind the daemon's, more than
    # internet.stale_after (15 min): its check, 5 s before its report, is fresh.
    publisher = TestPublisher(broker.port)
    try:
        with RunningApp(site_config(broker.port, tmp_path / "s.sqlite")) as daemon:
            pc_now = time.time() - 1200
            report = health(REACHABLE._replace(checked_at=pc_now - 5), ts=pc_now)
            publisher.publish("ocrfleet/lib/pc-01/health", report.to_json(), qos=0)
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_site_internet_up", site="lib") == 1.0,
                what="the site's internet up from the PC's check",
            )
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_site_internet_checks", site="lib") == 1.0
            assert value(samples, "ocrfleet_site_internet_state", site="lib", state="up") == 1.0
    finally:
        publisher.close()
