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
from ocrfleet_agent.payloads import Health, InternetReport

TICK = 60.0  # simulated seconds between health reports
GIB = 1024**3
INTERNET_INTERVAL = 300.0  # simulated seconds between internet checks, the agent's default


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
        # Whether the demo has just started: a room open then has visitors seated
        # already. Their own generator leaves the visitors' sequence as it was.
        self._first_tick = True
        self._earlier_rng = random.Random(
            context.random_seed ^ zlib.crc32(f"{device.key}/earlier".encode())
        )
        # Its own generator: the internet check leaves the visitors' sequence as it was.
        self._internet_rng = random.Random(
            context.random_seed ^ zlib.crc32(f"{device.key}/internet".encode())
        )
        # A site's line has its own speed: 40 to 220 ms for a page, shared by its PCs.
        self._site_latency = 40.0 + zlib.crc32(device.site.encode()) % 180
        self._internet: InternetReport | None = None
        self._next_internet = 0.0

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
        if self._first_tick:
            self._first_tick = False
            if open_now and not self._laptop and self._earlier_rng.random() < 0.8:
                self._seated_before_start(connection, now)
                return
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

    def _seated_before_start(self, connection: AgentConnection, now: float) -> None:
        """A visitor who sat down before the demo started, up to an hour and a half ago.

        So a room full at start soon shows sessions past its time limit, if it has one.
        """
        rng = self._earlier_rng
        length = min(4 * 3600.0, max(1800.0, rng.lognormvariate(8.2, 0.5)))
        already = rng.uniform(0.3, 0.9) * min(length, 5400.0)
        started_at = time.time() - already / self._context.speedup
        started = self._journal.record("start", f"{rng.getrandbits(64):016x}", started_at)
        self._session_ends = now + length - already
        connection.publish_session(started)

    def _end_session(self, connection: AgentConnection, now: float) -> None:
        session = self._journal.open_session
        if session is None:
            return
        started = session.started_at
        ended = self._journal.record("end", session.session_id, started, max(started, time.time()))
        connection.publish_session(ended)

    def _check_internet(self, now: float) -> InternetReport | None:
        if now < self._next_internet:
            return self._internet
        self._next_internet = now + INTERNET_INTERVAL
        rng = self._internet_rng
        dns_ms = round(rng.uniform(2.0, 25.0), 1)
        if rng.random() < 0.003:  # now and then a check times out, as on any line
            self._internet = InternetReport(
                ok=False,
                checked_at=time.time(),
                dns_ms=dns_ms,
                error="timeout",
                detail="waiting for the answer: timed out",
            )
        else:
            latency = self._site_latency * rng.lognormvariate(0.0, 0.25) + dns_ms
            self._internet = InternetReport(
                ok=True,
                checked_at=time.time(),
                latency_ms=round(latency, 1),
                dns_ms=dns_ms,
                status=200,
            )
        return self._internet

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
            internet=self._check_internet(now),
        )
