"""QoS 1 session events survive a broker restart and are counted exactly once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store
from ocrfleet_agent.mqtt import AgentConnection, AgentIdentity, BrokerSettings
from ocrfleet_agent.payloads import SessionMessage
from tests.support.daemon import RunningApp, scrape, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto

AGENTS = 4
SESSIONS_PER_AGENT = 60
# In the past by the daemon's clock, or the events would be refused as implausible.
BASE = time.time() - 2 * SESSIONS_PER_AGENT * 100


def _agent(port: int, device: str) -> AgentConnection:
    settings = BrokerSettings(
        host="127.0.0.1",
        port=port,
        client_id=f"agent-{device}",
        reconnect_min_delay=1,
        reconnect_max_delay=2,
        queue_size=10_000,
    )
    return AgentConnection(settings, AgentIdentity("ocrfleet", "lib", device))


def _play_sessions(agent: AgentConnection, device: str) -> None:
    for n in range(SESSIONS_PER_AGENT):
        sid = f"{device}-{n}"
        started = BASE + n * 100
        agent.publish_session(
            SessionMessage(v=1, event="start", session_id=sid, started_at=started)
        )
        agent.publish_session(
            SessionMessage(
                v=1, event="end", session_id=sid, started_at=started, ended_at=started + 60
            )
        )
        time.sleep(0.02)


def test_every_session_event_counted_once_across_broker_restart(
    broker: Mosquitto, tmp_path: Path
) -> None:
    devices = [f"pc-{i:02d}" for i in range(AGENTS)]
    store_path = tmp_path / "s.sqlite"
    config = site_config(
        broker.port,
        store_path,
        devices=[{"id": d, "kind": "pc"} for d in devices],
        reconnect_min_delay=1,
        reconnect_max_delay=2,
    )
    total = AGENTS * SESSIONS_PER_AGENT
    with RunningApp(config) as daemon:
        agents = [_agent(broker.port, d) for d in devices]
        for agent in agents:
            agent.start()
            assert agent.wait_connected(10)
        players = [
            threading.Thread(target=_play_sessions, args=(a, d))
            for a, d in zip(agents, devices, strict=True)
        ]
        for player in players:
            player.start()
        # Restart the broker while the agents are in the middle of publishing.
        time.sleep(0.4)
        broker.stop()
        time.sleep(1.5)
        broker.start()
        for player in players:
            player.join(60)
        wait_for(
            lambda: all(a.unacknowledged() == 0 for a in agents),
            timeout=30,
            what="agent queues drained",
        )

        def all_counted() -> bool:
            samples = scrape(daemon.metrics_url)
            counts = [
                value(samples, "ocrfleet_sessions_total", site="lib", device=d, kind="pc") or 0
                for d in devices
            ]
            # Ends are applied after their starts: wait for both, or a busy
            # machine may scrape between a session's start and its end.
            ended = value(samples, "ocrfleet_session_duration_seconds_count", site="lib", kind="pc")
            return sum(counts) >= total and (ended or 0) >= total

        wait_for(all_counted, timeout=30, what="every session counted")
        time.sleep(1.0)  # any late duplicate would arrive now
        samples = daemon.scrape()
        assert daemon.app.subscriber.connects >= 2, "the daemon never saw the broker go away"
        for d in devices:
            labels = {"site": "lib", "device": d, "kind": "pc"}
            assert value(samples, "ocrfleet_sessions_total", **labels) == SESSIONS_PER_AGENT
        hist = {"site": "lib", "kind": "pc"}
        assert value(samples, "ocrfleet_session_duration_seconds_count", **hist) == total
        for agent in agents:
            agent.stop()
    store = Store(StoreConnections(store_path))
    try:
        assert store.session_count() == total
    finally:
        store.close()
