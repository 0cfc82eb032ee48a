"""Fair turns end to end: PCs publishing sessions over Mosquitto, the whole daemon on a
moved clock, and a real HTTP receiver behind the bundled webhook channel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.clock import ManualClock
from tests.support.daemon import RunningApp, site_config, value, wait_for
from tests.support.http_receiver import HttpReceiver, ReceivedRequest
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher

ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SITE = {"site": "lib"}


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as started:
        yield started


def _config(broker: Mosquitto, store: Path, receiver: HttpReceiver) -> dict[str, Any]:
    pcs = [{"id": "pc-1", "kind": "pc"}, {"id": "pc-2", "kind": "pc"}]
    config = site_config(broker.port, store, devices=pcs)
    site = config["sites"][0]
    site["opening_hours"] = ALWAYS_OPEN
    site["session_limit"] = 60  # the shortest a limit may be
    config["alerting"] = {
        "evaluation_interval": 0.5,
        "channels": {"desk": {"type": "webhook", "url": f"{receiver.url}/hook"}},
        "routes": [{"match": {"category": "turns"}, "channels": ["desk"]}],
    }
    config["outbox"] = {"retry_initial": 0.2, "retry_max": 1}
    return config


def _turn_items(requests: list[ReceivedRequest]) -> list[tuple[str, str]]:
    """(status, session id) of every fair-turns alert the receiver was sent, in order."""
    found = []
    for request in requests:
        if request.answered != 200:
            continue
        for alert in request.json()["alerts"]:
            if alert["labels"]["alertname"] == "session_over_limit":
                found.append((alert["status"], alert["labels"]["device"]))
    return found


class Agent:
    """What a PC's agent publishes: its availability and its visitors' sessions."""

    def __init__(self, broker: Mosquitto, device: str, clock: ManualClock) -> None:
        self.topic = f"ocrfleet/lib/{device}"
        self.clock = clock
        self.client = TestPublisher(
            broker.port, f"agent-{device}", will=f"{self.topic}/availability"
        )
        self.client.publish(f"{self.topic}/availability", "online", retain=True)
        self.started: dict[str, float] = {}

    def start(self, session_id: str) -> None:
        self.started[session_id] = self.clock.now()
        self.client.publish(
            f"{self.topic}/session",
            {"v": 1, "event": "start", "session_id": session_id, "started_at": self.clock.now()},
        )

    def end(self, session_id: str) -> None:
        self.client.publish(
            f"{self.topic}/session",
            {
                "v": 1,
                "event": "end",
                "session_id": session_id,
                "started_at": self.started[session_id],
                "ended_at": self.clock.now(),
            },
        )

    def close(self) -> None:
        self.client.close()


def test_a_session_past_its_limit_on_a_full_site_reaches_the_desk_once(
    broker: Mosquitto, receiver: HttpReceiver, tmp_path: Path
) -> None:
    clock = ManualClock(time.time())
    with RunningApp(_config(broker, tmp_path / "s.sqlite", receiver), clock=clock) as daemon:
        pc1, pc2 = Agent(broker, "pc-1", clock), Agent(broker, "pc-2", clock)

        def scraped(name: str) -> float | None:
            return value(daemon.scrape(), name, **SITE)

        def evaluations(more: int) -> None:
            start = value(daemon.scrape(), "ocrfleet_alert_evaluations_total") or 0
            wait_for(
                lambda: (
                    (value(daemon.scrape(), "ocrfleet_alert_evaluations_total") or 0)
                    >= start + more
                ),
                what=f"{more} more evaluations",
            )

        try:
            pc1.start("s-visitor-a")
            clock.advance(30)
            pc2.start("s-visitor-b")
            wait_for(lambda: scraped("ocrfleet_site_all_seats_busy") == 1.0, what="a full site")
            assert scraped("ocrfleet_site_session_limit_seconds") == 60.0
            assert _turn_items(receiver.requests) == []
            # Visitor a has had 70 s, visitor b 40 s, of 60.
            clock.advance(40)
            wait_for(lambda: _turn_items(receiver.requests) != [], timeout=30, what="the alert")
            assert scraped("ocrfleet_open_sessions_over_limit") == 1.0
            evaluations(6)
            assert _turn_items(receiver.requests) == [("firing", "pc-1")]
            # Visitor b leaves and the next one sits down: the site fills again.
            pc2.end("s-visitor-b")
            wait_for(lambda: scraped("ocrfleet_site_all_seats_busy") == 0.0, what="a free seat")
            evaluations(3)
            pc2.start("s-visitor-c")
            wait_for(lambda: scraped("ocrfleet_site_all_seats_busy") == 1.0, what="full again")
            evaluations(6)
            assert _turn_items(receiver.requests) == [("firing", "pc-1")]
            # Visitor a leaves: the alert is over.
            pc1.end("s-visitor-a")
            wait_for(lambda: len(_turn_items(receiver.requests)) == 2, timeout=30, what="the end")
            assert _turn_items(receiver.requests) == [("firing", "pc-1"), ("resolved", "pc-1")]
            body = next(r.json() for r in receiver.requests if r.answered == 200)
            (alert,) = body["alerts"]
            assert alert["labels"]["category"] == "turns"
            assert alert["annotations"]["summary"] == (
                "pc-1 has been in use for 70 seconds; the limit is 60 seconds and every "
                "computer is taken"
            )
        finally:
            pc1.close()
            pc2.close()


def test_a_restart_neither_repeats_nor_ends_a_session_already_told(
    broker: Mosquitto, receiver: HttpReceiver, tmp_path: Path
) -> None:
    clock = ManualClock(time.time())
    config = _config(broker, tmp_path / "s.sqlite", receiver)
    # Past the grace, an alert its rule no longer finds resolves.
    config["alerting"]["startup_grace"] = 1
    pc1, pc2 = Agent(broker, "pc-1", clock), Agent(broker, "pc-2", clock)
    try:
        with RunningApp(config, clock=clock) as daemon:
            pc1.start("s-visitor-a")
            clock.advance(30)
            pc2.start("s-visitor-b")
            clock.advance(40)
            wait_for(lambda: _turn_items(receiver.requests) != [], timeout=30, what="the alert")
            # Visitor b leaves: the room is no longer full, visitor a stays.
            pc2.end("s-visitor-b")
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_site_all_seats_busy", **SITE) == 0.0,
                what="a free seat",
            )
        with RunningApp(config, clock=clock) as daemon:
            wait_for(
                lambda: value(daemon.scrape(), "ocrfleet_open_sessions_over_limit", **SITE) == 1.0,
                what="visitor a's session restored",
            )
            clock.advance(5)  # past the start-up grace
            start = value(daemon.scrape(), "ocrfleet_alert_evaluations_total") or 0
            wait_for(
                lambda: (
                    (value(daemon.scrape(), "ocrfleet_alert_evaluations_total") or 0) >= start + 6
                ),
                what="six evaluations after the grace",
            )
            assert _turn_items(receiver.requests) == [("firing", "pc-1")]
    finally:
        pc1.close()
        pc2.close()
