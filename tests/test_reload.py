"""Reloading the configuration: removed devices leave the metrics, new ones join."""

from __future__ import annotations

from pathlib import Path

from ocrfleet.config.loader import load_config
from tests.support.daemon import RunningApp, series_of, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher, health


def test_removed_device_disappears_and_its_messages_are_rejected(
    broker: Mosquitto, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    two = [{"id": "pc-01", "kind": "pc"}, {"id": "pc-02", "kind": "pc"}]
    with RunningApp(site_config(broker.port, store, devices=two)) as daemon:
        agent = TestPublisher(broker.port)
        for device in ("pc-01", "pc-02"):
            agent.publish(f"ocrfleet/lib/{device}/health", health())
        wait_for(lambda: len(series_of(daemon.scrape(), "ocrfleet_pc_cpu_ratio")) == 2)

        three = [{"id": "pc-01", "kind": "pc"}, {"id": "laptop-01", "kind": "laptop"}]
        reloaded = load_config(site_config(broker.port, store, devices=three), daemon.catalog.kinds)
        daemon.app.reload(reloaded)
        samples = daemon.scrape()
        devices = {s["device"] for s in series_of(samples, "ocrfleet_device_up")}
        assert devices == {"pc-01", "laptop-01"}
        assert all(s["device"] != "pc-02" for s in series_of(samples, "ocrfleet_pc_cpu_ratio"))
        # pc-01 kept its state across the reload.
        pc1 = {"site": "lib", "device": "pc-01", "kind": "pc"}
        assert value(samples, "ocrfleet_pc_cpu_ratio", **pc1) == 0.25

        agent.publish("ocrfleet/lib/pc-02/health", health())
        agent.publish("ocrfleet/lib/laptop-01/health", health(cpu_ratio=0.75))
        laptop = {"site": "lib", "device": "laptop-01", "kind": "laptop"}
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_cpu_ratio", **laptop) == 0.75)
        samples = daemon.scrape()
        assert value(samples, "ocrfleet_mqtt_messages_rejected_total", reason="unknown_device") == 1
        assert all(s["device"] != "pc-02" for s in series_of(samples, "ocrfleet_device_up"))
        agent.close()
