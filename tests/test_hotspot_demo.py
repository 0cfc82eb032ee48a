"""The demo hotspots' uplinks: the neighbourhood house's line drops now and then, no other."""

from __future__ import annotations

from pathlib import Path

from ocrfleet_hotspot.demo import UPLINK_OUTAGE_SITES, DemoHotspot
from ocrfleet_hotspot.kind import HotspotKind
from ocrfleet_hotspot.parse import build_reading
from ocrfleet_hotspot.reading import HotspotReading
from ocrfleet_hotspot.vendors.base import as_text
from tests.support.daemon import catalog
from tests.support.demo_time import MONDAY, demo_devices, simulation_context


def test_one_demo_hotspot_loses_its_line_now_and_then(tmp_path: Path) -> None:
    kind = catalog().kinds["hotspot"]
    assert isinstance(kind, HotspotKind)
    seen: dict[str, set[str]] = {}
    outages: dict[str, int] = {}
    down_share: dict[str, float] = {}
    for seed, device in demo_devices("hotspot"):
        clock = [MONDAY]
        hotspot = DemoHotspot(device, simulation_context(device, seed, clock, tmp_path))
        reading: HotspotReading | None = None
        states: list[str] = []
        for minute in range(3 * 24 * 60):
            clock[0] = MONDAY + 60 * minute
            hotspot.step(clock[0], 60.0 if minute else 0.0)
            values = hotspot.snapshot()
            vendor = kind.select_vendor(
                "auto",
                as_text(values["1.3.6.1.2.1.1.2.0"]),
                as_text(values["1.3.6.1.2.1.1.1.0"]),
            )
            reading = build_reading(values, vendor, previous=reading, now=clock[0] - MONDAY)
            states.append(reading.uplink.state if reading.uplink is not None else "none")
        seen[device.site] = set(states)
        down_share[device.site] = states.count("down") / len(states)
        # Outages are the starts of runs of "down".
        outages[device.site] = sum(
            1
            for before, now in zip(["up", *states], states, strict=False)
            if (before, now) == ("up", "down")
        )
    assert seen == {
        "vlaminggem-library": {"up"},  # UniFi: not isolated
        "vlaminggem-welfare": {"up"},  # MikroTik: its PPPoE session, never down
        "zonnedorp-library": {"up"},
        "boskerke-service-centre": {"none"},  # Cisco: nothing tells without a name
        "overbrugge-neighbourhood-house": {"up", "down"},
    }
    assert set(UPLINK_OUTAGE_SITES) == {"overbrugge-neighbourhood-house"}
    # "Now and then": more than once in three days, and not all the time.
    assert outages["overbrugge-neighbourhood-house"] >= 2
    assert down_share["overbrugge-neighbourhood-house"] < 0.2
