"""Session events survive a crash anywhere: real Mosquitto, real agents, the real daemon.

Each case plays visitors on several agent processes (tests/support/agent_process.py:
the agent's own runner, journal and connection) while something is killed, then
checks the store against what the agents journaled: no session missing, no
end lost, none counted twice. docs/reliability.md has the table of runs.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.support.agent_process import read_ledger
from tests.support.daemon import scrape, value, wait_for
from tests.support.mosquitto import Mosquitto, free_port

AGENTS = 3
SESSIONS = 40
ROOT = Path(__file__).resolve().parent.parent
# deploy/mosquitto/site.conf's persistence, with a short autosave so a kill
# lands both before and after one within a test.
SITE_PERSISTENCE = "autosave_interval 1\nautosave_on_changes false\n"


class Daemon:
    """`ocrfleet run` as its own process, so it can be killed with SIGKILL."""

    def __init__(self, workdir: Path, mqtt_port: int) -> None:
        self.http_port = free_port()
        self.store = workdir / "store.sqlite"
        self.config = workdir / "ocrfleet.toml"
        self.log = workdir / "daemon.log"
        config: dict[str, Any] = {
            "municipality": {"name": "Testdorp", "adult_population": 5000},
            "sites": [
                {
                    "id": "lib",
                    "name": "Library",
                    "village_core": "Testdorp",
                    "opening_hours": {"mon": ["09:00-17:00"]},
                    "devices": [{"id": f"pc-{i}", "kind": "pc"} for i in range(AGENTS)],
                }
            ],
            "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": "ocrfleet-faults"},
            "http": {"listen": "127.0.0.1", "port": self.http_port},
            "store": {"path": str(self.store)},
        }
        self.config.write_text(tomli_w.dumps(config))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/metrics"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ocrfleet", "run", "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.connected, timeout=30, what="the daemon connected to the broker")

    def connected(self) -> bool:
        try:
            return value(scrape(self.url), "ocrfleet_mqtt_connected") == 1.0
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._process is not None:
            self._process.send_signal(sig)
            self._process.wait(20)
            self._process = None


class Agent:
    def __init__(self, workdir: Path, mqtt_port: int, device: str) -> None:
        self.dir = workdir / device
        self.dir.mkdir(parents=True)
        self.device = device
        self._port = mqtt_port
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "tests.support.agent_process", "--port", str(self._port)]
        command += ["--device", self.device, "--dir", str(self.dir), "--sessions", str(SESSIONS)]
        with open(self.dir / "agent.log", "ab") as log:
            self._process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(20)
            self._process = None

    def ended(self) -> int:
        return sum(1 for (_, event) in read_ledger(self.dir / "ledger.jsonl") if event == "end")

    def unacknowledged(self) -> int:
        journal = self.dir / "journal.json"
        return len(json.loads(journal.read_text())["pending"]) if journal.exists() else -1


@contextmanager
def fleet(
    tmp_path: Path, persistence: str | None
) -> Iterator[tuple[Mosquitto, Daemon, list[Agent]]]:
    broker = Mosquitto(
        tmp_path / "broker", persistence=persistence is not None, extra_config=persistence or ""
    )
    broker.start()
    daemon = Daemon(tmp_path, broker.port)
    daemon.start()
    agents = [Agent(tmp_path / "agents", broker.port, f"pc-{i}") for i in range(AGENTS)]
    try:
        yield broker, daemon, agents
    finally:
        for agent in agents:
            agent.stop()
        daemon.stop()
        broker.stop()


def until_sessions(agents: list[Agent], at_least: int) -> None:
    wait_for(
        lambda: sum(a.ended() for a in agents) >= at_least,
        timeout=60,
        what=f"{at_least} sessions played",
    )


def delivered(daemon: Daemon, agents: list[Agent]) -> None:
    """Every agent has played every visitor and the daemon acknowledged all of it."""
    wait_for(
        lambda: all(a.ended() == SESSIONS and a.unacknowledged() == 0 for a in agents),
        timeout=120,
        what="every session played and acknowledged",
    )


def check_store(daemon: Daemon, agents: list[Agent]) -> dict[str, int]:
    """The pass condition: 0 missing, 0 ends lost, 0 counted twice."""
    db = sqlite3.connect(daemon.store)
    try:
        rows = db.execute(
            "SELECT device, session_id, started_at, ended_at, closed_by FROM sessions"
        ).fetchall()
    finally:
        db.close()
    stored = {(device, sid): (start, end, how) for device, sid, start, end, how in rows}
    figures = {"sessions": 0, "missing": 0, "ends_lost": 0, "extra": 0}
    expected: set[tuple[str, str]] = set()
    for agent in agents:
        for (sid, event), message in read_ledger(agent.dir / "ledger.jsonl").items():
            if event != "end":
                continue
            expected.add((agent.device, sid))
            figures["sessions"] += 1
            row = stored.get((agent.device, sid))
            if row is None:
                figures["missing"] += 1
            elif (row[0], row[1], row[2]) != (message.started_at, message.ended_at, "agent"):
                figures["ends_lost"] += 1
    figures["extra"] = len(set(stored) - expected)
    samples = scrape(daemon.url)
    for agent in agents:
        labels = {"site": "lib", "device": agent.device, "kind": "pc"}
        counted = value(samples, "ocrfleet_sessions_total", **labels)
        if counted != SESSIONS:
            figures["extra"] += int((counted or 0) - SESSIONS)
    durations = value(samples, "ocrfleet_session_duration_seconds_count", site="lib", kind="pc")
    figures["durations_counted"] = int(durations or 0)
    print("figures:", figures)
    return figures


def assert_whole(figures: dict[str, int]) -> None:
    assert figures["sessions"] == AGENTS * SESSIONS
    assert (figures["missing"], figures["ends_lost"], figures["extra"]) == (0, 0, 0), figures


@pytest.mark.parametrize("persistence", [None, SITE_PERSISTENCE], ids=["default", "site-conf"])
def test_broker_sigkill_mid_stream(tmp_path: Path, persistence: str | None) -> None:
    with fleet(tmp_path, persistence) as (broker, daemon, agents):
        for agent in agents:
            agent.start()
        until_sessions(agents, AGENTS * SESSIONS // 4)
        broker.stop(signal.SIGKILL)
        broker.start()
        back = time.monotonic()
        wait_for(daemon.connected, timeout=30, what="the daemon back on the broker")
        print(f"daemon back {time.monotonic() - back:.1f} s after the broker")
        delivered(daemon, agents)
        figures = check_store(daemon, agents)
    assert_whole(figures)
    # Only events the daemon has committed leave a journal, and every one did.
    assert figures["durations_counted"] == AGENTS * SESSIONS


def test_daemon_sigkill_during_burst(tmp_path: Path) -> None:
    with fleet(tmp_path, None) as (_broker, daemon, agents):
        for agent in agents:
            agent.start()
        until_sessions(agents, AGENTS * SESSIONS // 3)
        daemon.stop(signal.SIGKILL)
        until_sessions(agents, AGENTS * SESSIONS * 2 // 3)
        daemon.start()
        delivered(daemon, agents)
        figures = check_store(daemon, agents)
    assert_whole(figures)


def test_agent_sigkill_while_broker_down(tmp_path: Path) -> None:
    with fleet(tmp_path, None) as (broker, daemon, agents):
        for agent in agents:
            agent.start()
        until_sessions(agents, AGENTS * SESSIONS // 4)
        broker.stop(signal.SIGKILL)
        # The agents go on journaling visitors while the broker is away.
        until_sessions(agents, AGENTS * SESSIONS // 2)
        for agent in agents:
            agent.kill()
        broker.start()
        # Their service manager starts them again.
        for agent in agents:
            agent.start()
        delivered(daemon, agents)
        figures = check_store(daemon, agents)
    assert_whole(figures)


def test_everything_killed_at_once(tmp_path: Path) -> None:
    with fleet(tmp_path, SITE_PERSISTENCE) as (broker, daemon, agents):
        for agent in agents:
            agent.start()
        until_sessions(agents, AGENTS * SESSIONS // 3)
        # A power cut in the network closet: broker, daemon and PCs at once.
        for agent in agents:
            agent.kill()
        daemon.stop(signal.SIGKILL)
        broker.stop(signal.SIGKILL)
        broker.start()
        daemon.start()
        for agent in agents:
            agent.start()
        delivered(daemon, agents)
        figures = check_store(daemon, agents)
    assert_whole(figures)
