"""What the daemon tunes in its process while it serves, and gives back when it stops."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from ocrfleet.app import GC_FIRST_THRESHOLD, SWITCH_INTERVAL
from tests.support.daemon import RunningApp, site_config
from tests.support.mosquitto import Mosquitto


def test_the_collector_and_switch_interval_are_tuned_while_serving_and_given_back(
    broker: Mosquitto, tmp_path: Path
) -> None:
    before = (gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count())
    config = site_config(
        broker.port, tmp_path / "store.sqlite", devices=[{"id": "pc-01", "kind": "pc"}]
    )
    with RunningApp(config):
        assert gc.get_threshold()[0] == GC_FIRST_THRESHOLD
        assert sys.getswitchinterval() == SWITCH_INTERVAL
        assert gc.get_freeze_count() > 0
    assert (gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count()) == before
