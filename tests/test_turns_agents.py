"""Fair turns with real agents: two PC agent processes (tests/support/agent_process.py,
the agent's own runner, journal and connection) hold their visitors' sessions open over
a real Mosquitto, the whole daemon runs on a moved clock, and the bundled webhook
channel sends to a real HTTP receiver. Each session past its limit on the full site
reaches the receiver once, firing, and once, resolved, when its visitor leaves.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.clock import ManualClock
from tests.support.agent_process import read_ledger
from tests.support.daemon import RunningApp, site_config, value, wait_for
from tests.support.http_receiver import HttpReceiver, ReceivedRequest
from tests.support.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SITE = {"site": "lib"}
LIMIT = 60.0  # the shortest a limit may be
EVALUATION_INTERVAL = 0.5


class AgentProcess:
    """A PC's agent whose visitor sits down at once and stays until told to leave."""

    def __init__(self, workdir: Path, port: int, device: str) -> None:
        self.device = device
        self.dir = workdir / device
        self.dir.mkdir(parents=True)
        command = [sys.executable, "-m", "tests.support.agent_process", "--port", str(port)]
        command += ["--device", device, "--dir", str(self.dir), "--sessions", "1"]
        # Health often: after the clock jumps the PC is heard from again soon.
        command += ["--hold-session", "--period", "1", "--health-interval", "0.5"]
        with open(self.dir / "agent.log", "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def journaled(self, event: str) -> bool:
        return any(e == event for (_, e) in read_ledger(self.dir / "ledger.jsonl"))

    def session_started_at(self) -> float:
        """When the agent's visitor sat down, by the agent's (real) clock."""
        (start,) = [
            m for (_, e), m in read_ledger(self.dir / "ledger.jsonl").items() if e == "start"
        ]
        return start.started_at

    def visitor_leaves(self) -> None:
        self.process.send_signal(signal.SIGUSR1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as started:
        yield started


def _config(broker: Mosquitto, store: Path, receiver: HttpReceiver) -> dict[str, Any]:
    pcs = [{"id": "pc-1", "kind": "pc"}, {"id": "pc-2", "kind": "pc"}]
    config = site_config(broker.port, store, devices=pcs)
    site = config["sites"][0]
    site["opening_hours"] = ALWAYS_OPEN
    site["session_limit"] = "1m"
    config["alerting"] = {
        "evaluation_interval": EVALUATION_INTERVAL,
        "channels": {"desk": {"type": "webhook", "url": f"{receiver.url}/hook"}},
        "routes": [{"match": {"category": "turns"}, "channels": ["desk"]}],
    }
    config["outbox"] = {"retry_initial": 0.2, "retry_max": 1}
    return config


def _turn_items(requests: list[ReceivedRequest]) -> list[tuple[str, str]]:
    """(status, device) of every fair-turns alert the receiver was sent, in order."""
    return [(status, device) for status, device, _ in _turn_alerts(requests)]


def _turn_alerts(requests: list[ReceivedRequest]) -> list[tuple[str, str, str]]:
    """(status, device, fingerprint) of every fair-turns alert delivered, in order."""
    found = []
    for request in requests:
        if request.answered != 200:
            continue
        for alert in request.json()["alerts"]:
            if alert["labels"]["alertname"] == "session_over_limit":
                found.append((alert["status"], alert["labels"]["device"], alert["fingerprint"]))
    return found


def test_real_agents_sessions_past_their_limit_on_a_full_site_reach_the_desk_once(
    broker: Mosquitto, receiver: HttpReceiver, tmp_path: Path
) -> None:
    # The agents date their sessions by the real clock, a little after this.
    clock = ManualClock(time.time())
    with ExitStack() as stack:
        daemon = stack.enter_context(
            RunningApp(_config(broker, tmp_path / "s.sqlite", receiver), clock=clock)
        )

        def scraped(name: str, **labels: str) -> float | None:
            return value(daemon.scrape(), name, **SITE, **labels)

        def in_use(device: str) -> bool:
            return scraped("ocrfleet_seat_in_use", device=device, kind="pc") == 1.0

        def evaluations(more: int) -> None:
            start = scraped_total("ocrfleet_alert_evaluations_total")
            wait_for(
                lambda: scraped_total("ocrfleet_alert_evaluations_total") >= start + more,
                what=f"{more} more evaluations",
            )

        def scraped_total(name: str) -> float:
            return value(daemon.scrape(), name) or 0.0

        # One after the other, so that visitor 1 has sat longer than visitor 2.
        pc1 = AgentProcess(tmp_path / "agents", broker.port, "pc-1")
        stack.callback(pc1.stop)
        wait_for(lambda: in_use("pc-1"), timeout=30, what="visitor 1 at pc-1")
        pc2 = AgentProcess(tmp_path / "agents", broker.port, "pc-2")
        stack.callback(pc2.stop)
        wait_for(lambda: in_use("pc-2"), timeout=30, what="visitor 2 at pc-2")
        wait_for(lambda: scraped("ocrfleet_site_all_seats_busy") == 1.0, what="a full site")
        assert scraped("ocrfleet_site_seats_in_use") == 2.0
        assert scraped("ocrfleet_site_session_limit_seconds") == LIMIT
        first, second = pc1.session_started_at(), pc2.session_started_at()
        assert first < second

        # Within the limit for both: nobody is told.
        clock.set(second + LIMIT / 2)
        evaluations(4)
        assert _turn_items(receiver.requests) == []

        # Halfway between their limits: visitor 1 is past it, visitor 2 not yet.
        clock.set(first + LIMIT + (second - first) / 2)
        receiver.wait_for_requests(1, timeout=30)
        evaluations(6)
        assert _turn_items(receiver.requests) == [("firing", "pc-1")]

        clock.set(second + LIMIT + 1)
        wait_for(lambda: len(_turn_items(receiver.requests)) >= 2, timeout=30, what="visitor 2")
        assert _turn_items(receiver.requests) == [("firing", "pc-1"), ("firing", "pc-2")]

        # Time goes on with both still seated: a few evaluation intervals, then an hour.
        for _ in range(5):
            clock.advance(EVALUATION_INTERVAL)
            evaluations(2)
        clock.advance(3600)
        # Both agents keep reporting across the jump: the site is still full.
        wait_for(
            lambda: (
                scraped("ocrfleet_site_all_seats_busy") == 1.0
                and scraped("ocrfleet_site_seats_in_use") == 2.0
            ),
            timeout=30,
            what="the site full after an hour",
        )
        evaluations(6)
        assert _turn_items(receiver.requests) == [("firing", "pc-1"), ("firing", "pc-2")]

        # Visitor 2 leaves: their alert is over, visitor 1's stays.
        pc2.visitor_leaves()
        wait_for(lambda: pc2.journaled("end"), timeout=30, what="visitor 2's end journaled")
        wait_for(lambda: len(_turn_items(receiver.requests)) >= 3, timeout=30, what="the end")
        assert not in_use("pc-2")
        evaluations(6)
        alerts = _turn_alerts(receiver.requests)
        assert [(status, device) for status, device, _ in alerts] == [
            ("firing", "pc-1"),
            ("firing", "pc-2"),
            ("resolved", "pc-2"),
        ]
        assert alerts[2][2] == alerts[1][2]  # the same alert, resolved
        assert in_use("pc-1")
