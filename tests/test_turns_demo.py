"""The demo shows fair turns: a site with a session limit fills up, and visitors pass it."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

from ocrfleet.config.loader import load_config
from ocrfleet.demo.fleet import demo_config
from ocrfleet.kinds import SimulationContext
from ocrfleet_agent.mqtt import AgentConnection
from ocrfleet_agent.payloads import SessionMessage
from ocrfleet_pc.simulate import SimulatedPc
from tests.support.daemon import catalog

# A Monday at 10:00 in Brussels: every weekday site is open.
MONDAY_TEN = datetime(2027, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Brussels")).timestamp()
MINUTE = 60.0


class Sessions:
    """Stands in for the agent's connection: notes when, on the demo's clock, sessions
    start and end (at speed-up 1 the demo's clock is the daemon's)."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.open: dict[str, float] = {}
        self.lengths: list[float] = []

    def publish_session(self, message: SessionMessage) -> None:
        if message.event == "start":
            # A visitor seated before the demo started began that long ago.
            self.open[message.session_id] = self.clock[0] - (self.clock[1] - message.started_at)
        else:
            self.lengths.append(self.clock[0] - self.open.pop(message.session_id))


def test_a_demo_site_with_a_limit_fills_up_and_sessions_pass_it() -> None:
    plugins = catalog()
    data = demo_config(1883, 0, Path("unused.sqlite"), kinds=plugins.kinds)
    loaded = load_config(data, plugins.kinds)
    limited = [site for site in loaded.config.sites if site.session_limit is not None]
    assert limited, "no demo site has a session limit"
    site = limited[0]
    seats = [d for d in loaded.devices if d.site == site.id]
    assert seats and all(d.kind == "pc" for d in seats)
    limit = site.session_limit
    assert limit is not None
    # [the demo's clock, the real time the simulator reads for a session's start]
    clock = [MONDAY_TEN, time.time()]
    pcs = []
    for number, device in enumerate(seats):
        assert device.schedule is not None
        context = SimulationContext(
            mqtt_host="127.0.0.1",
            mqtt_port=1883,
            topic_root="ocrfleet",
            speedup=1.0,
            random_seed=number,
            now=lambda: clock[0],
            site_open=device.schedule.is_open,
        )
        sessions = Sessions(clock)
        pcs.append((SimulatedPc(device, context, laptop=False), sessions))
    full_and_over = 0
    for minute in range(7 * 60):  # 10:00 to 17:00
        clock[0] = MONDAY_TEN + minute * MINUTE
        clock[1] = time.time()
        for pc, sessions in pcs:
            pc._visitors(cast(AgentConnection, sessions), clock[0])
        started = [s for _, sessions in pcs for s in sessions.open.values()]
        if len(started) == len(pcs) and any(clock[0] - s >= limit for s in started):
            full_and_over += 1
    # Not a rarity: the front desk of the demo is told within the demo's first hours.
    assert full_and_over >= 30, full_and_over
