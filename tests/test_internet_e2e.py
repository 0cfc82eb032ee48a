"""Internet end to end: two real PC agents check a local HTTPS server that plays the
internet (devpeers/internet.py), over a real Mosquitto, into the whole daemon; the
site goes down when the server stops, `internet_down` reaches a real webhook
receiver, the site is slow while the server is slowed and up when it is back.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.daemon import RunningApp, site_config, value, wait_for
from tests.support.http_receiver import HttpReceiver, ReceivedRequest
from tests.support.internet import InternetServer
from tests.support.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# The agents check and report often, so each change shows within a few seconds.
INTERVAL = "0.3"


class AgentProcess:
    """tests/support/agent_process.py, checking `internet`."""

    def __init__(self, workdir: Path, port: int, device: str, internet: InternetServer) -> None:
        self.dir = workdir / device
        self.dir.mkdir(parents=True)
        command = [sys.executable, "-m", "tests.support.agent_process", "--port", str(port)]
        command += ["--device", device, "--dir", str(self.dir), "--sessions", "0"]
        command += ["--health-interval", INTERVAL, "--internet-interval", INTERVAL]
        command += ["--internet-url", internet.url, "--internet-ca-file", str(internet.ca_file)]
        command += ["--internet-timeout", "5"]
        with open(self.dir / "agent.log", "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as started:
        yield started


def _state(daemon: RunningApp) -> str | None:
    samples = daemon.scrape()
    for state in ("up", "degraded", "down", "unknown"):
        if value(samples, "ocrfleet_site_internet_state", site="lib", state=state) == 1:
            return state
    return None


def _internet_down(request: ReceivedRequest) -> bool:
    return "internet_down" in request.body.decode()


def test_agents_take_the_site_down_slow_and_up_again(
    broker: Mosquitto, tmp_path: Path, receiver: HttpReceiver
) -> None:
    devices = [{"id": "pc-01", "kind": "pc"}, {"id": "pc-02", "kind": "pc"}]
    config = site_config(broker.port, tmp_path / "store.sqlite", devices=devices)
    config["sites"][0]["opening_hours"] = ALWAYS_OPEN
    config["internet"] = {"degraded_latency": 1.0}
    config["alerting"] = {
        "evaluation_interval": 0.2,
        "channels": {"it": {"type": "webhook", "url": f"{receiver.url}/hook"}},
        "routes": [{"match": {"alertname": "internet_down"}, "channels": ["it"]}],
        # At once: the tolerance is the rule's business, tested in test_internet_daemon.py.
        "rules": {"internet_down": {"for": 0, "resolve_after": 0}},
    }
    with ExitStack() as stack:
        internet = stack.enter_context(InternetServer(tmp_path / "internet"))
        daemon = stack.enter_context(RunningApp(config))
        agents = [AgentProcess(tmp_path, broker.port, d["id"], internet) for d in devices]
        for agent in agents:
            stack.callback(agent.stop)

        def both_checked() -> bool:
            return value(daemon.scrape(), "ocrfleet_site_internet_checks", site="lib") == 2

        wait_for(both_checked, timeout=30, what="both agents' checks")
        assert _state(daemon) == "up"
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_pc_internet_ok", site="lib", device="pc-01", kind="pc") == 1
        assert receiver.requests == []

        # The line is cut: both agents' checks fail, the site is down and IT hears of it.
        internet.stop()
        wait_for(lambda: _state(daemon) == "down", timeout=30, what="the site down")
        assert value(daemon.scrape(), "ocrfleet_site_internet_up", site="lib") == 0
        [firing] = receiver.wait_for_requests(1, timeout=30)
        assert _internet_down(firing)
        alert = firing.json()
        assert alert["status"] == "firing"
        assert "connection" in firing.body.decode()  # the reason, in words

        # Back, but slow: up for the norm, slow for the state and its own rule.
        internet.slow(1.5)
        internet.start()
        wait_for(lambda: _state(daemon) == "degraded", timeout=30, what="the site slow")
        assert value(daemon.scrape(), "ocrfleet_site_internet_up", site="lib") == 1
        resolved = receiver.wait_for_requests(2, timeout=30)[-1]
        assert _internet_down(resolved) and resolved.json()["status"] == "resolved"

        internet.slow(0)
        wait_for(lambda: _state(daemon) == "up", timeout=30, what="the site up again")
        # internet_down was told once firing and once resolved, never repeated.
        assert [r.json()["status"] for r in receiver.requests if _internet_down(r)] == [
            "firing",
            "resolved",
        ]
