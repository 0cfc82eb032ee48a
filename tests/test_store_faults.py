"""The store fails loudly and recovers by itself: a real full disk and a read-only one.

The daemon is real, so is Mosquitto, and the agent is a plain paho client
publishing QoS 1 session events. While the store refuses writes the events
stay unacknowledged (so the broker holds back the rest), /healthz answers
503 and ocrfleet_store_errors_total rises; once the disk is back, ingestion
resumes by itself and every session counts exactly once.
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store
from ocrfleet.store.writer import Backoff
from tests.support.daemon import RunningApp, Samples, site_config, value, wait_for
from tests.support.disk import fill, read_only_view, tmpfs
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher

PC = {"site": "lib", "device": "pc-01", "kind": "pc"}
SESSION = "ocrfleet/lib/pc-01/session"
# Mosquitto's default max_inflight_messages: unacknowledged QoS 1 messages
# it sends a client before it waits.
INFLIGHT = 20


def healthz(daemon: RunningApp) -> tuple[int, dict[str, Any]]:
    host, port = daemon.app.http.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=5) as response:
            return response.status, dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return exc.code, dict(json.loads(exc.read()))


def sessions_total(samples: Samples) -> float | None:
    return value(samples, "ocrfleet_sessions_total", **PC)


def finished(samples: Samples) -> float | None:
    return value(samples, "ocrfleet_session_duration_seconds_count", site="lib", kind="pc")


def session_errors(samples: Samples) -> float:
    return value(samples, "ocrfleet_store_errors_total", operation="sessions") or 0.0


def session_messages(samples: Samples) -> float:
    return value(samples, "ocrfleet_mqtt_messages_total", channel="session") or 0.0


def publish_sessions(agent: TestPublisher, first: int, count: int) -> None:
    now = time.time()
    for n in range(first, first + count):
        started = now - 600 + n
        start = {"v": 1, "event": "start", "session_id": f"s{n}", "started_at": started}
        agent.publish(SESSION, start)
        agent.publish(SESSION, {**start, "event": "end", "ended_at": started + 60})


def stored_sessions(path: Path) -> list[tuple[str, float | None]]:
    db = sqlite3.connect(path)
    try:
        return list(db.execute("SELECT session_id, ended_at FROM sessions ORDER BY session_id"))
    finally:
        db.close()


def start_daemon(broker: Mosquitto, store: Path) -> RunningApp:
    Store(
        StoreConnections(store)
    ).close()  # migrated beforehand: the WAL starts empty and must grow
    config = site_config(broker.port, store)
    config["store"]["seen_flush_interval"] = 3600
    daemon = RunningApp(config)
    # Short pauses keep the test quick; the doubling is the same.
    daemon.app.writer._backoff = Backoff(initial=0.05, maximum=0.4)
    return daemon


def assert_failing(daemon: RunningApp, store: Path, cause: str) -> None:
    """Writes fail: 503 naming the store, errors counted, no session applied or acked."""

    def unhealthy() -> bool:
        code, status = healthz(daemon)
        return code == 503 and cause in str(status.get("store_error"))

    wait_for(unhealthy, timeout=20, what=f"/healthz 503 with {cause!r}")
    code, status = healthz(daemon)
    assert code == 503 and status["ok"] is False and str(store) in status["store_error"]
    errors = session_errors(daemon.scrape())
    wait_for(
        lambda: session_errors(daemon.scrape()) >= errors + 2,
        what="the same batch tried again, and counted",
    )
    samples = daemon.scrape()
    assert value(samples, "ocrfleet_store_healthy") == 0.0
    assert sessions_total(samples) == 1.0, "nothing applied before it is committed"
    # Unacknowledged: the broker sent no more than its in-flight window.
    assert session_messages(samples) <= 2 + INFLIGHT


def assert_recovered(daemon: RunningApp, store: Path, sessions: int) -> None:
    wait_for(
        lambda: sessions_total(daemon.scrape()) == float(sessions),
        timeout=30,
        what="ingestion resumed by itself",
    )
    wait_for(lambda: finished(daemon.scrape()) == float(sessions), what="every end applied")
    code, status = healthz(daemon)
    assert (code, status["ok"], status["store_error"]) == (200, True, None)
    assert value(daemon.scrape(), "ocrfleet_store_healthy") == 1.0


def test_full_disk_holds_events_back_and_recovers(broker: Mosquitto, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "8m") as disk:
        store = disk / "s.sqlite"
        agent = TestPublisher(broker.port)
        try:
            with start_daemon(broker, store) as daemon:
                publish_sessions(agent, 0, 1)
                wait_for(lambda: finished(daemon.scrape()) == 1.0, what="the first session")
                filler = fill(disk)
                publish_sessions(agent, 1, 30)  # 60 messages, three in-flight windows
                assert_failing(daemon, store, "full")
                filler.unlink()
                assert_recovered(daemon, store, 31)
        finally:
            agent.close()
        rows = stored_sessions(store)
    assert len(rows) == 31 and all(ended is not None for _, ended in rows)


def test_read_only_disk_holds_events_back_and_recovers(broker: Mosquitto, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "8m") as disk:
        (disk / "data").mkdir()
        store = disk / "data" / "s.sqlite"
        agent = TestPublisher(broker.port)
        try:
            with start_daemon(broker, store) as daemon:
                publish_sessions(agent, 0, 1)
                wait_for(lambda: finished(daemon.scrape()) == 1.0, what="the first session")
                # A full disk makes the writer drop its connection; the ones it
                # opens next see the directory read-only.
                filler = fill(disk)
                publish_sessions(agent, 1, 30)
                wait_for(lambda: session_errors(daemon.scrape()) > 0, what="a first failure")
                with read_only_view(disk / "data"):
                    filler.unlink()
                    assert_failing(daemon, store, "readonly")
                assert_recovered(daemon, store, 31)
        finally:
            agent.close()
        rows = stored_sessions(store)
    assert len(rows) == 31 and all(ended is not None for _, ended in rows)
