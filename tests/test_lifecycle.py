"""The daemon as a process: start, serve, stop on SIGTERM within 5 s, store intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store
from tests.support.daemon import scrape, series_of, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto, free_port
from tests.support.publisher import TestPublisher, health


def _toml(data: dict[str, Any]) -> str:
    # Just enough TOML for these configs: scalars, lists of scalars, tables and arrays of tables.
    lines: list[str] = []

    def scalar(v: Any) -> str:
        return json.dumps(v) if not isinstance(v, bool) else ("true" if v else "false")

    def emit(prefix: str, table: dict[str, Any], array: bool = False) -> None:
        lines.append(f"[[{prefix}]]" if array else f"[{prefix}]")
        nested = []
        for key, v in table.items():
            if isinstance(v, dict):
                nested.append((key, v, False))
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                nested.extend((key, item, True) for item in v)
            else:
                lines.append(f"{key} = {scalar(v)}")
        for key, v, is_array in nested:
            emit(f"{prefix}.{key}", v, is_array)

    for key, v in data.items():
        if isinstance(v, list):
            for item in v:
                emit(key, item, True)
        else:
            emit(key, v)
    text = "\n".join(lines) + "\n"
    assert tomllib.loads(text) == data
    return text


def _start(config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ocrfleet", "run", "-c", str(config), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return bool(json.load(response)["mqtt_connected"])
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_within_five_seconds_with_store_intact(
    broker: Mosquitto, tmp_path: Path, sig: int
) -> None:
    store_path = tmp_path / "state" / "s.sqlite"
    http_port = free_port()
    data = site_config(broker.port, store_path)
    data["http"]["port"] = http_port
    config = tmp_path / "ocrfleet.toml"
    config.write_text(_toml(data))
    daemon = _start(config)
    try:
        wait_for(lambda: _healthy(http_port), timeout=20, what="daemon healthy")
        agent = TestPublisher(broker.port)
        agent.publish("ocrfleet/lib/pc-01/health", health(), qos=0)
        for n in range(20):
            start = {"v": 1, "event": "start", "session_id": f"s{n}", "started_at": 1000.0 + n}
            agent.publish("ocrfleet/lib/pc-01/session", start)
            agent.publish(
                "ocrfleet/lib/pc-01/session", {**start, "event": "end", "ended_at": 1100.0 + n}
            )
        url = f"http://127.0.0.1:{http_port}/metrics"
        labels = {"site": "lib", "device": "pc-01", "kind": "pc"}
        wait_for(lambda: value(scrape(url), "ocrfleet_sessions_total", **labels) == 20)
        agent.close()
        sent = time.monotonic()
        daemon.send_signal(sig)
        code = daemon.wait(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if daemon.poll() is None:
            daemon.kill()
        output = daemon.communicate()[0]
    assert code == 0, output
    assert elapsed < 5.0, f"took {elapsed:.1f} s to stop"
    assert "Traceback" not in output
    store = Store(StoreConnections(store_path))
    try:
        assert store.integrity_ok()
        assert store.session_count() == 20
        seen = store.seen_devices()
        assert [str(r.key) for r in seen] == ["lib/pc-01"]
        assert seen[0].first_seen <= seen[0].last_seen
    finally:
        store.close()


def test_sessions_and_open_session_survive_restart(broker: Mosquitto, tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    http_port = free_port()
    data = site_config(broker.port, store_path)
    data["http"]["port"] = http_port
    config = tmp_path / "ocrfleet.toml"
    config.write_text(_toml(data))
    url = f"http://127.0.0.1:{http_port}/metrics"
    labels = {"site": "lib", "device": "pc-01", "kind": "pc"}
    agent = TestPublisher(broker.port)
    for run in range(2):
        daemon = _start(config)
        try:
            wait_for(lambda: _healthy(http_port), timeout=20, what="daemon healthy")
            if run == 0:
                now = time.time()
                start = {"v": 1, "event": "start", "session_id": "a", "started_at": now - 600}
                agent.publish("ocrfleet/lib/pc-01/session", start)
                agent.publish(
                    "ocrfleet/lib/pc-01/session", {**start, "ended_at": now - 540, "event": "end"}
                )
                agent.publish(
                    "ocrfleet/lib/pc-01/session",
                    {"v": 1, "event": "start", "session_id": "b", "started_at": now - 60},
                )
                wait_for(lambda: value(scrape(url), "ocrfleet_sessions_total", **labels) == 2)
            else:
                samples = scrape(url)
                assert value(samples, "ocrfleet_sessions_total", **labels) == 2
                assert value(samples, "ocrfleet_pc_in_use", **labels) == 1
                assert series_of(samples, "ocrfleet_device_up") == [labels]
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert daemon.wait(timeout=10) == 0
    agent.close()


def test_unwritable_store_is_a_clear_error(broker: Mosquitto, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        store_path = blocker / "s.sqlite"
    else:
        store_path = Path("/proc/ocrfleet/s.sqlite")
    data = site_config(broker.port, store_path)
    config = tmp_path / "ocrfleet.toml"
    config.write_text(_toml(data))
    result = subprocess.run(
        [sys.executable, "-m", "ocrfleet", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert str(store_path) in result.stderr


def test_sighup_reloads_devices_and_json_logs(broker: Mosquitto, tmp_path: Path) -> None:
    http_port = free_port()
    two = [{"id": "pc-01", "kind": "pc"}, {"id": "pc-02", "kind": "pc"}]
    data = site_config(broker.port, tmp_path / "s.sqlite", devices=two)
    data["http"]["port"] = http_port
    config = tmp_path / "ocrfleet.toml"
    config.write_text(_toml(data))
    daemon = _start(config, "--log-format", "json")
    url = f"http://127.0.0.1:{http_port}/metrics"
    try:
        wait_for(lambda: _healthy(http_port), timeout=20, what="daemon healthy")
        assert len(series_of(scrape(url), "ocrfleet_device_up")) == 2
        data["sites"][0]["devices"] = two[:1]
        config.write_text(_toml(data))
        daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: len(series_of(scrape(url), "ocrfleet_device_up")) == 1, what="reload")
        # A broken file is refused and the running devices stay as they were.
        config.write_text("sites = 3\n")
        daemon.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert len(series_of(scrape(url), "ocrfleet_device_up")) == 1
        assert daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=10)
        output = daemon.communicate()[0]
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert records, output
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any("configuration reloaded: 1 devices" in r["message"] for r in records)
    refused = [r for r in records if "configuration not reloaded" in r["message"]]
    assert refused and refused[0]["level"] == "error"
    assert "sites: Input should be a valid list" in refused[0]["message"]
