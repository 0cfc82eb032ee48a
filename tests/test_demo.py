"""`ocrfleet run` with no config: the Vlaminggem demo fleet comes alive by itself."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.daemon import Samples, scrape, series_of, wait_for
from tests.support.mosquitto import free_port

DEMO_SITES = {
    "vlaminggem-library",
    "vlaminggem-welfare",
    "zonnedorp-library",
    "boskerke-service-centre",
    "overbrugge-neighbourhood-house",
}


@pytest.mark.parametrize("broker", ["mosquitto", "amqtt"])
def test_demo_fleet_is_up_within_30_seconds(tmp_path: Path, broker: str) -> None:
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ocrfleet",
            "run",
            "--demo-http-port",
            str(port),
            "--demo-state-dir",
            str(tmp_path),
            "--demo-broker",
            broker,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    latest: Samples = {}

    def all_up() -> bool:
        nonlocal latest
        try:
            latest = scrape(url)
        except OSError:
            return False
        up = [k for k in latest if k[0] == "ocrfleet_device_up" and latest[k] == 1.0]
        return len(up) == 21

    started = time.monotonic()
    try:
        wait_for(all_up, timeout=30, what="21 demo devices up")
        series = series_of(latest, "ocrfleet_device_up")
        assert {s["site"] for s in series} == DEMO_SITES
        kinds = [s["kind"] for s in series]
        assert kinds.count("pc") == 11 and kinds.count("laptop") == 10
        wait_for(
            lambda: len(series_of(scrape(url), "ocrfleet_pc_cpu_ratio")) == 21,
            timeout=max(1.0, 40 - (time.monotonic() - started)),
            what="health from every simulated PC",
        )
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            code = demo.wait(timeout=10)
        except subprocess.TimeoutExpired:
            demo.kill()
            code = -1
        output = demo.communicate()[0]
    assert code == 0, output
    assert f"http://127.0.0.1:{port}/metrics" in output
    assert "Traceback" not in output
