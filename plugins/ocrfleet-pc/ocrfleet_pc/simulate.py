"""A simulated public PC for the demo fleet, publishing through the real agent path.

Visitors come while the site is open, in sessions from a few minutes (a
quick print) to a few hours; now and then a PC is switched off for a while.
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib

from ocrfleet.plugin import DeviceInfo, SimulationContext
from ocrfleet_agent import __version__ as AGENT_VERSION
from ocrfleet_agent.journal import Journal
from ocrfleet_agent.mqtt import AgentConnection, AgentIdentity, BrokerSettings
from ocrfleet_agent.payloads import Health

TICK = 60.0  # simulated seconds between health reports
GIB = 1024**3


class SimulatedPc:
    def __init__(self, device: DeviceInfo, context: SimulationContext, laptop: bool) -> None:
        self._device = device
        self._context = context
        self._laptop = laptop
        self._rng = random.Random(context.random_seed ^ zlib.crc32(str(device.key).encode()))
        self._booted = context.now() - self._rng.uniform(600, 36_000)
        self._disk_free = self._rng.uniform(40, 180) * GIB
        # In memory: the demo's PCs keep nothing across demo runs.
        self._journal = Journal(None)
        self._session_ends = 0.0
        self._outage_until = 0.0

    def _connection(self) -> AgentConnection:
        settings = BrokerSettings(
            host=self._context.mqtt_host,
            port=self._context.mqtt_port,
            client_id=f"ocrfleet-demo-{self._device.site}-{self._device.id}",
            reconnect_max_delay=10,
        )
        identity = AgentIdentity(self._context.topic_root, self._device.site, self._device.id)
        connection = AgentConnection(settings, identity)
        connection.on_ack = self._journal.acknowledge
        return connection

    async def run(self) -> None:
        connection = self._connection()
        connection.start()
        # Report at once, like a real agent does on start-up.
        await asyncio.to_thread(connection.wait_connected, 10)
        try:
            while True:
                connection = await self._tick(connection)
                await asyncio.sleep(max(0.2, TICK / self._context.speedup))
        finally:
            await asyncio.to_thread(connection.stop)

    async def _tick(self, connection: AgentConnection) -> AgentConnection:
        now = self._context.now()
        if self._outage_until:
            if now < self._outage_until:
                return connection
            self._outage_until = 0.0
            self._booted = now
            connection = self._connection()
            connection.start()
            await asyncio.to_thread(connection.wait_connected, 10)
        elif not self._laptop and self._rng.random() < 0.0015:
            # About once a day a PC is switched off for 5 to 40 minutes.
            self._end_session(connection, now)
            self._outage_until = now + self._rng.uniform(300, 2400)
            await asyncio.to_thread(connection.stop)
            return connection
        self._visitors(connection, now)
        if connection.connected:
            # What the daemon has not acknowledged goes again, as a real agent does.
            for message in self._journal.pending():
                connection.publish_session(message)
            connection.publish_health(self._health(now))
        return connection

    def _visitors(self, connection: AgentConnection, now: float) -> None:
        open_now = self._context.site_open(now)
        if self._journal.open_session is not None and (now >= self._session_ends or not open_now):
            self._end_session(connection, now)
        elif (
            self._journal.open_session is None
            and open_now
            and self._rng.random() < (0.04 if self._laptop else 0.12)
        ):
            started = self._journal.record(
                "start", f"{self._rng.getrandbits(64):016x}", time.time()
            )
            # Log-normal: most sessions 15-60 minutes, a few several hours.
            length = min(4 * 3600.0, max(180.0, self._rng.lognormvariate(7.7, 0.8)))
            self._session_ends = now + length
            connection.publish_session(started)

    def _end_session(self, connection: AgentConnection, now: float) -> None:
        session = self._journal.open_session
        if session is None:
            return
        started = session.started_at
        ended = self._journal.record("end", session.session_id, started, max(started, time.time()))
        connection.publish_session(ended)

    def _health(self, now: float) -> Health:
        busy = self._journal.open_session is not None
        cpu = self._rng.uniform(0.15, 0.7) if busy else self._rng.uniform(0.01, 0.08)
        memory = self._rng.uniform(0.45, 0.85) if busy else self._rng.uniform(0.25, 0.4)
        self._disk_free = max(5 * GIB, self._disk_free - self._rng.uniform(0, 0.02) * GIB)
        return Health(
            ts=time.time(),
            cpu_ratio=round(cpu, 3),
            memory_used_ratio=round(memory, 3),
            disk_free_bytes=int(self._disk_free),
            uptime_seconds=max(0.0, now - self._booted),
            os="Windows 11 Pro 23H2" if not self._laptop else "Windows 11 Education 23H2",
            agent_version=AGENT_VERSION,
            frozen=not self._laptop,
            eid_reader_present=True,
        )
