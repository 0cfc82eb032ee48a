"""SNMP polling CPU: the daemon's printer poll path against prometheus-snmp-exporter.

Both contenders fetch the same OIDs from the same simulated printers in the
same run, and each one's process CPU time (user + system, all threads) is
divided by the values it fetched:

* daemon: ocrfleet's own poll path in a process of its own: the printers come
  from a config through `load_config` (so they are `PrinterOptions`), and
  every poll goes `SnmpPoller.poll` -> `SnmpService` / `CommunityClient`
  (SNMPv2c on ocrfleet's own BER codec, one shared UDP socket) ->
  `PrinterKind.poll` (one GET of the scalars, then a GETBULK walk of each
  table) -> `parse_reading` -> `FleetState`, with the daemon's bound of
  concurrent polls.
* exporter: Debian's prometheus-snmp-exporter (0.21), with a module written
  here that GETs the same scalars and walks the same tables with the same
  max-repetitions, and a metric for every column the recordings hold, so every
  value fetched becomes a sample. The runner scrapes
  `/snmp?target=127.0.0.1:PORT&module=...` once per printer, as many at once
  as the daemon polls; only the exporter's process is timed, not the runner.

The printers are snmpsim agents: every printer has its own UDP port, and a
few snmpsim processes share the ports between them. Each port serves every
recording, chosen by community, so the exporter needs one module per
recording (0.21 keeps the community inside the module), not one per printer.

Each round, every printer is polled once by each contender, one contender
after the other (order alternating by round); the headline figures are
medians over the rounds. A warm-up round comes first: the daemon creates its
per-device clients there, as it does once per device in production.

With --v3, both speak SNMPv3 authPriv instead (--auth SHA256 --priv AES by
default): the agents get one USM user, the daemon's printers and the
exporter's modules the same user and keys, and the context name picks the
recording, as the community does in v2c.

Run: .venv/bin/python bench/snmp_poll.py [--printers N] [--rounds N] [--agents N]
         [--concurrency N] [--scheduled] [--profile FILE] [--v3 [--auth P] [--priv P]]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import json
import multiprocessing
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil
from harness import ROOT
from harness.describe import code_version, machine, program_version
from harness.load import QUIET_LOAD, OtherLoad, cpu_seconds
from harness.processes import Contender, Ready, quiet_interrupt, stop_program, tail
from harness.results import add_json_options, write_results
from harness.signals import exit_on_sigterm, run_script
from harness.tables import check_lines, table

from devpeers.mosquitto import free_port
from devpeers.process import installed_program, spawn_logged
from devpeers.snmpsim import SnmpAgents, agent_process, udp_ports

FIXTURES = ROOT / "tests" / "fixtures" / "snmp" / "printers"
# The recordings of working printers. special_values is left out on purpose:
# its supply descriptions are not UTF-8, which the exporter cannot put in a
# label, so it would fail those scrapes instead of timing them.
RECORDINGS = ("colour_mfp", "mono_laser", "brother_style", "jammed", "low_paper")
EXPORTER = "prometheus-snmp-exporter"
MODULE_PREFIX = "printer_"
TARGET_RATIO = 3.0
# SNMPv3 authPriv: the daemon may use no more CPU per value than the exporter.
TARGET_RATIO_V3 = 1.0
TARGET_CORES = 0.5
FLEET = 1000
FLEET_INTERVAL = 60.0
PRINTERS_PER_SITE = 50
# Long enough that a busy shared machine never turns a slow answer into a
# retry, which would add requests to one contender only; both get the same.
TIMEOUT_SECONDS = 10.0
RETRIES = 1
REPLY_SECONDS = 900.0

V3_USER = "ocrfleet-bench"
V3_AUTH_KEY = "bench-auth-key-0123"
V3_PRIV_KEY = "bench-priv-key-4567"
# What the daemon, snmpsim and the exporter 0.21 all accept under the same
# name. AES is AES-128 (RFC 3826); the longer AES keys are localised in two
# incompatible ways, so they are left out.
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "AES")


@dataclass(frozen=True)
class Security:
    """How both contenders talk to the agents: v2c (community) or v3 authPriv."""

    version: str  # "2c" or "3"
    auth_protocol: str = ""
    priv_protocol: str = ""

    @property
    def target_ratio(self) -> float:
        return TARGET_RATIO_V3 if self.version == "3" else TARGET_RATIO

    @property
    def label(self) -> str:
        if self.version == "3":
            return f"SNMPv3 authPriv {self.auth_protocol}+{self.priv_protocol}"
        return "SNMPv2c"

    def daemon_credentials(self, recording: str) -> dict[str, str]:
        if self.version != "3":
            return {"version": "2c", "community": recording}
        return {
            "version": "3",
            "user": V3_USER,
            "auth_protocol": self.auth_protocol,
            "auth_key": V3_AUTH_KEY,
            "priv_protocol": self.priv_protocol,
            "priv_key": V3_PRIV_KEY,
            "context": recording,
        }

    def exporter_auth(self, recording: str) -> dict[str, Any]:
        """A module's `version` and `auth` in the exporter 0.21 format."""
        if self.version != "3":
            return {"version": 2, "auth": {"community": recording}}
        return {
            "version": 3,
            "auth": {
                "username": V3_USER,
                "security_level": "authPriv",
                "password": V3_AUTH_KEY,
                "auth_protocol": self.auth_protocol,
                "priv_protocol": self.priv_protocol,
                "priv_password": V3_PRIV_KEY,
                "context_name": recording,
            },
        }

    def agent_args(self) -> list[str]:
        if self.version != "3":
            return []
        return [
            f"--v3-user={V3_USER}",
            f"--v3-auth-key={V3_AUTH_KEY}",
            f"--v3-auth-proto={self.auth_protocol}",
            f"--v3-priv-key={V3_PRIV_KEY}",
            f"--v3-priv-proto={self.priv_protocol}",
        ]


@dataclass(frozen=True)
class Printer:
    index: int
    port: int
    recording: str  # also its community, or its context name in v3

    @property
    def device_id(self) -> str:
        return f"printer-{self.index:04d}"

    @property
    def module(self) -> str:
        return MODULE_PREFIX + self.recording


# -- messages between the runner and the daemon process ---------------------


@dataclass(frozen=True)
class PollCommand:
    timed: bool  # a round's, not the warm-up's: only those are profiled


@dataclass(frozen=True)
class CountCommand:
    pass


@dataclass(frozen=True)
class RenderCommand:
    pass


@dataclass(frozen=True)
class ScheduleCommand:
    seconds: float


@dataclass(frozen=True)
class StopCommand:
    pass


@dataclass(frozen=True)
class PollDone:
    polls: int
    errors: dict[str, int]
    requests: int
    fresh_readings: int  # devices whose reading was recorded during this round
    seconds: float


@dataclass(frozen=True)
class Counted:
    values: dict[str, int]  # per recording


@dataclass(frozen=True)
class Rendered:
    cpu_seconds: float
    body_bytes: int
    samples: int


@dataclass(frozen=True)
class Scheduled:
    interval: float
    seconds: float  # the interval, or longer if its polls outlasted it
    cpu_seconds: float
    polls: int
    errors: int


@dataclass(frozen=True)
class Stopped:
    profile: bytes | None = None


# -- the daemon contender (its own spawned process) -------------------------


def fleet_config(
    printers: Sequence[Printer], concurrency: int, security: Security
) -> dict[str, Any]:
    sites = []
    for first in range(0, len(printers), PRINTERS_PER_SITE):
        number = first // PRINTERS_PER_SITE
        devices = [
            {
                "id": p.device_id,
                "kind": "printer",
                "options": {
                    "host": "127.0.0.1",
                    "port": p.port,
                    "snmp": security.daemon_credentials(p.recording),
                    "timeout": TIMEOUT_SECONDS,
                    "retries": RETRIES,
                    "poll_interval": FLEET_INTERVAL,
                },
            }
            for p in printers[first : first + PRINTERS_PER_SITE]
        ]
        sites.append(
            {
                "id": f"site-{number:03d}",
                "name": f"Computer room {number}",
                "village_core": "Benchdorp",
                "devices": devices,
            }
        )
    return {
        "municipality": {"name": "Benchdorp", "adult_population": 100_000},
        "sites": sites,
        "snmp": {"max_concurrent_polls": concurrency},
    }


def daemon_contender(
    conn: Connection,
    printers: list[Printer],
    concurrency: int,
    profile: bool,
    security: Security,
) -> None:
    quiet_interrupt()
    # Imported here: the runner itself never loads pysnmp.
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from prometheus_client import CollectorRegistry, generate_latest

    from ocrfleet.clock import SystemClock
    from ocrfleet.config.loader import load_config
    from ocrfleet.metrics.fleet import FleetCollector
    from ocrfleet.pluginhost.catalog import PluginCatalog
    from ocrfleet.pluginhost.manager import build_plugin_manager
    from ocrfleet.poller import Poller, Sources
    from ocrfleet.state import FleetState
    from ocrfleet_printer import oids

    catalog = PluginCatalog.from_manager(build_plugin_manager([]))
    loaded = load_config(fleet_config(printers, concurrency, security), catalog.kinds)
    clock = SystemClock()
    # Wired as App wires them (ocrfleet/app.py), without MQTT, store or HTTP.
    state = FleetState(
        loaded.devices,
        {d.key: catalog.kinds[d.kind].heartbeat_timeout(d.options) for d in loaded.devices},
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sources = Sources(catalog.source_types, loaded.config.max_concurrent_polls)
    poller = Poller(state, catalog.kinds, sources, clock, lambda k: catalog.kind_owner.get(k, "?"))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        FleetCollector(
            lambda: state, catalog.kinds, lambda k: catalog.kind_owner.get(k, "?"), clock
        )
    )
    keys = [d.key for d in loaded.devices]
    recording_of = {d.key: p.recording for d, p in zip(loaded.devices, printers, strict=True)}
    profiler = cProfile.Profile() if profile else None

    def requests() -> int:
        return sum(getattr(client, "requests", 0) for _, client in poller._clients.values())

    def poll_all(timed: bool) -> PollDone:
        polls0 = poller.stats.polls.get(("snmp", "printer"), 0)
        errors0 = dict(poller.stats.errors)
        requests0 = requests()
        started = clock.now()

        async def everyone() -> None:
            await asyncio.gather(*(poller.poll(key) for key in keys))

        t0 = time.perf_counter()
        if profiler is not None and timed:
            profiler.enable()
        loop.run_until_complete(everyone())
        if profiler is not None and timed:
            profiler.disable()
        seconds = time.perf_counter() - t0
        errors = {
            f"{kind}:{reason}": n - errors0.get((source, kind, reason), 0)
            for (source, kind, reason), n in poller.stats.errors.items()
            if n != errors0.get((source, kind, reason), 0)
        }
        fresh = 0
        for key in keys:
            view = state.view(key)
            if view is not None and view.reading_at is not None and view.reading_at >= started:
                fresh += 1
        return PollDone(
            polls=poller.stats.polls.get(("snmp", "printer"), 0) - polls0,
            errors=errors,
            requests=requests() - requests0,
            fresh_readings=fresh,
            seconds=seconds,
        )

    def count() -> Counted:
        """Values one poll fetches, per recording, through a client the poller made."""

        async def values(key: Any) -> int:
            client: Any = poller._clients[key][1]
            found = dict(await client.get(oids.SCALARS))
            found.update(await client.walk_all(oids.WALKED_TABLES))
            return sum(1 for v in found.values() if v is not None)

        counts: dict[str, int] = {}
        for key in keys:
            recording = recording_of[key]
            if recording not in counts:
                counts[recording] = loop.run_until_complete(values(key))
        return Counted(counts)

    def render() -> Rendered:
        cpu0 = time.process_time()
        body = generate_latest(registry)
        cpu = time.process_time() - cpu0
        samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        return Rendered(cpu, len(body), samples)

    def scheduled(seconds: float) -> Scheduled:
        """The daemon's own scheduler polling every printer for one interval (`seconds`).

        Timed from just before the jobs are added, so every device's first
        poll starts inside the interval (offsets are under 10 s), until the
        interval is over and the last of those polls has ended: when the
        agents are slow, the burst of first polls can outlast the interval.
        The scheduler is paused at the interval's end, before any second poll.
        """
        errors0 = sum(poller.stats.errors.values())
        scheduler = AsyncIOScheduler(timezone="UTC", event_loop=loop)
        running = 0
        finished = 0
        poll = poller.poll

        async def counted(key: Any) -> None:
            # Counts polls in flight, so that the scheduler is only shut down
            # once none is: its shutdown cancels running jobs.
            nonlocal running, finished
            running += 1
            try:
                await poll(key)
            finally:
                running -= 1
                finished += 1

        # schedule() hands the jobs `self.poll`: the instance attribute wins.
        poller.poll = counted  # type: ignore[method-assign]

        async def run() -> tuple[float, float, int]:
            scheduler.start()
            cpu0, t0 = time.process_time(), time.perf_counter()
            poller.schedule(scheduler, state.devices)
            await asyncio.sleep(seconds - (time.perf_counter() - t0))
            scheduler.pause()
            while running:
                await asyncio.sleep(0.05)
            cpu = time.process_time() - cpu0
            window = time.perf_counter() - t0
            scheduler.shutdown(wait=False)
            return window, cpu, finished

        try:
            window, cpu, polls = loop.run_until_complete(run())
        finally:
            del poller.poll
        return Scheduled(
            interval=seconds,
            seconds=window,
            cpu_seconds=cpu,
            polls=polls,
            errors=sum(poller.stats.errors.values()) - errors0,
        )

    conn.send(Ready(os.getpid()))
    try:
        while True:
            command = conn.recv()
            if isinstance(command, PollCommand):
                conn.send(poll_all(command.timed))
            elif isinstance(command, CountCommand):
                conn.send(count())
            elif isinstance(command, RenderCommand):
                conn.send(render())
            elif isinstance(command, ScheduleCommand):
                conn.send(scheduled(command.seconds))
            elif isinstance(command, StopCommand):
                dump = None
                if profiler is not None:
                    with tempfile.NamedTemporaryFile(suffix=".prof") as out:
                        profiler.dump_stats(out.name)
                        dump = Path(out.name).read_bytes()
                conn.send(Stopped(dump))
                return
            else:
                raise TypeError(f"unknown command {command!r}")
    finally:
        loop.run_until_complete(sources.close())
        # pysnmp leaves its dispatcher's timer task behind; cancelled here, it
        # does not print "Task was destroyed but it is pending" at exit.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()


def start_daemon(
    ctx: multiprocessing.context.SpawnContext,
    printers: list[Printer],
    concurrency: int,
    profile: bool,
    security: Security,
) -> Contender:
    """The daemon contender's process, once it has made its poller."""
    return Contender(
        "daemon",
        ctx,
        daemon_contender,
        (printers, concurrency, profile, security),
        start_seconds=120,
        reply_seconds=REPLY_SECONDS,
    )


# -- the simulated printers ---------------------------------------------------


def snmp_agents(
    data_dir: Path, workdir: Path, port_groups: list[list[int]], security: Security
) -> SnmpAgents:
    """snmpsim processes; each listens on its share of the ports and serves every recording."""
    return SnmpAgents(
        [
            agent_process(
                data_dir,
                workdir / f"agent-{number}",
                ports,
                *security.agent_args(),
                # At "info" snmpsim logs every request, which only slows the agents down.
                log_level="error",
            )
            for number, ports in enumerate(port_groups)
        ]
    )


# -- prometheus-snmp-exporter ---------------------------------------------------


def exporter_binary() -> str | None:
    try:
        return installed_program(EXPORTER, EXPORTER)
    except RuntimeError:
        return None


def _read_recording(name: str) -> list[tuple[str, str]]:
    """(oid, snmprec type tag) of every line of a recording."""
    rows = []
    for line in (FIXTURES / f"{name}.snmprec").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            oid, tag, _ = line.split("|", 2)
            rows.append((oid, tag))
    return rows


# snmprec type tags (BER tags of the SNMP types) -> the exporter's metric types.
_EXPORTER_TYPES = {
    "2": "gauge",  # INTEGER
    "4": "DisplayString",  # OCTET STRING, printable
    "4x": "OctetString",  # OCTET STRING written in hex: hrPrinterDetectedErrorState's bits
    "6": "DisplayString",  # OBJECT IDENTIFIER, rendered as its dotted text
    "64": "InetAddressIPv4",
    "65": "counter",  # Counter32
    "66": "gauge",  # Gauge32
    "67": "gauge",  # TimeTicks
    "70": "counter",  # Counter64
}


def _camel(constant: str) -> str:
    head, *rest = constant.lower().split("_")
    return head + "".join(word.capitalize() for word in rest)


def exporter_config(max_repetitions: int, security: Security) -> dict[str, Any]:
    """snmp.yml (JSON is YAML) in the exporter 0.21 format: auth inside each module.

    One module per recording, because the community (the context name in v3)
    picks the recording and 0.21 has no per-target auth. Metrics: one per column any recording
    has under the walked tables, named after the MIB where oids.py names it,
    typed from the recording, so that every value fetched becomes a sample.
    """
    from ocrfleet_printer import oids

    names = {
        value: _camel(name)
        for name, value in vars(oids).items()
        if name.isupper() and isinstance(value, str) and value.startswith("1.")
    }
    columns: dict[str, str] = {}
    for recording in RECORDINGS:
        for oid, tag in _read_recording(recording):
            if oid in oids.SCALARS:
                column = oid.removesuffix(".0")
            elif any(oid.startswith(root + ".") for root in oids.WALKED_TABLES):
                # Printer-MIB rows are indexed by hrDeviceIndex and their own
                # index; HOST-RESOURCES rows by hrDeviceIndex alone.
                depth = 2 if oid.startswith("1.3.6.1.2.1.43.") else 1
                column = oid.rsplit(".", depth)[0]
            else:
                continue
            kind = _EXPORTER_TYPES[tag]
            if columns.setdefault(column, kind) != kind:
                raise RuntimeError(f"recordings disagree on the type of {column}")
    metrics: list[dict[str, Any]] = []
    for column, kind in sorted(columns.items()):
        root = next((r for r in oids.WALKED_TABLES if (column + ".").startswith(r + ".")), None)
        if root is None:
            name = names.get(column + ".0", "oid_" + column.replace(".", "_"))
            metrics.append({"name": name, "oid": column, "type": kind, "help": f"OID {column}"})
            continue
        table = names[root].removesuffix("Entry")
        name = names.get(column, f"{table}Column{column.rsplit('.', 1)[1]}")
        indexes = [{"labelname": "hrDeviceIndex", "type": "gauge"}]
        if column.startswith("1.3.6.1.2.1.43."):
            indexes.append({"labelname": f"{table}Index", "type": "gauge"})
        metrics.append(
            {"name": name, "oid": column, "type": kind, "help": f"OID {column}", "indexes": indexes}
        )
    module = {
        "max_repetitions": max_repetitions,
        "retries": RETRIES,
        "timeout": f"{TIMEOUT_SECONDS:g}s",
        "get": list(oids.SCALARS),
        "walk": list(oids.WALKED_TABLES),
        "metrics": metrics,
    }
    return {
        MODULE_PREFIX + recording: {**module, **security.exporter_auth(recording)}
        for recording in RECORDINGS
    }


class Exporter:
    def __init__(self, binary: str, config: Path, workdir: Path) -> None:
        self._binary = binary
        self._config = config
        self._log = workdir / "exporter.log"
        self._popen: subprocess.Popen[bytes] | None = None
        self.port = free_port()

    def start(self, timeout: float = 30.0) -> psutil.Process:
        args = [
            self._binary,
            f"--config.file={self._config}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        self._popen = spawn_logged(args, self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._popen.poll() is not None:
                raise RuntimeError(f"{EXPORTER} exited:\n{tail(self._log)}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                time.sleep(0.1)
                continue
            return psutil.Process(self._popen.pid)
        raise RuntimeError(f"{EXPORTER} did not listen:\n{tail(self._log)}")

    def stop(self) -> None:
        if self._popen is None:
            return
        stop_program(self._popen)
        self._popen = None


@dataclass(frozen=True)
class Scrape:
    status: int
    samples: int  # samples of the module's metrics, i.e. values fetched and converted
    pdus: int  # snmp_scrape_pdus_returned
    packets: int  # snmp_scrape_packets_sent
    retried: int  # snmp_scrape_packets_retried


def parse_scrape(status: int, body: bytes) -> Scrape:
    samples = 0
    scrape_stats: dict[str, float] = {}
    for line in body.decode("utf-8", errors="replace").splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name.startswith("snmp_scrape_"):
            scrape_stats[name] = float(line.rsplit(" ", 1)[1])
        else:
            samples += 1
    return Scrape(
        status=status,
        samples=samples,
        pdus=int(scrape_stats.get("snmp_scrape_pdus_returned", -1)),
        packets=int(scrape_stats.get("snmp_scrape_packets_sent", -1)),
        retried=int(scrape_stats.get("snmp_scrape_packets_retried", -1)),
    )


class ScrapeDriver:
    """Plays Prometheus: one scrape per printer, `concurrency` at once, keep-alive connections."""

    def __init__(self, port: int, concurrency: int) -> None:
        self._port = port
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="scrape")

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=REPLY_SECONDS)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def scrape(self, printer: Printer) -> Scrape:
        conn = self._connection()
        conn.request("GET", f"/snmp?target=127.0.0.1:{printer.port}&module={printer.module}")
        response = conn.getresponse()
        return parse_scrape(response.status, response.read())

    def scrape_all(self, printers: Sequence[Printer]) -> list[Scrape]:
        return list(self._pool.map(self.scrape, printers))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for conn in self._connections:
            conn.close()


# -- the runner ---------------------------------------------------------------


@dataclass
class Phase:
    """One contender fetching every printer once."""

    contender: str
    seconds: float  # wall time, first request to last answer
    cpu_seconds: float  # the contender's process (all threads), from /proc
    values: int
    polls: int
    requests: int
    agents_cpu_seconds: float  # the snmpsim processes over the same time
    other_load: float  # cores kept busy by other programs meanwhile
    problems: list[str] = field(default_factory=list)

    @property
    def us_per_value(self) -> float:
        return self.cpu_seconds / self.values * 1e6

    @property
    def ms_per_poll(self) -> float:
        return self.cpu_seconds / self.polls * 1e3

    @property
    def quiet(self) -> bool:
        return self.other_load < QUIET_LOAD


@dataclass
class Round:
    index: int
    order: list[str]
    daemon: Phase
    exporter: Phase

    @property
    def ratio(self) -> float:
        return self.daemon.us_per_value / self.exporter.us_per_value


class Bench:
    def __init__(
        self,
        printers: list[Printer],
        daemon: Contender,
        exporter: psutil.Process,
        driver: ScrapeDriver,
        agents: SnmpAgents,
    ) -> None:
        self.printers = printers
        self.daemon = daemon
        self.exporter = exporter
        self.driver = driver
        self.agents = agents
        self.values_per_recording: dict[str, int] = {}
        self._ours = [psutil.Process(), daemon.ps, exporter, *agents.processes]

    def _timed(
        self, contender: psutil.Process, work: Callable[[], None]
    ) -> tuple[float, float, float, float]:
        """(wall, contender CPU, agents' CPU, other load) around work()."""
        with OtherLoad(self._ours) as load:
            agents0, cpu0 = cpu_seconds(self.agents.processes), cpu_seconds([contender])
            work()
            cpu = cpu_seconds([contender]) - cpu0
            agents = cpu_seconds(self.agents.processes) - agents0
        return load.seconds, cpu, agents, load.cores

    def expected_values(self) -> int:
        # Unknown before the warm-up's count: 0 then.
        return sum(self.values_per_recording.get(p.recording, 0) for p in self.printers)

    def daemon_phase(self, timed: bool = True) -> Phase:
        done: list[PollDone] = []
        seconds, cpu, agents, other = self._timed(
            self.daemon.ps, lambda: done.append(self.daemon.ask(PollCommand(timed), PollDone))
        )
        result = done[0]
        n = len(self.printers)
        problems = []
        if result.polls != n:
            problems.append(f"daemon polled {result.polls} printers of {n}")
        if result.errors:
            problems.append(f"daemon poll errors: {result.errors}")
        if result.fresh_readings != n:
            problems.append(f"daemon recorded a new reading for {result.fresh_readings} of {n}")
        return Phase(
            contender="daemon",
            seconds=seconds,
            cpu_seconds=cpu,
            values=self.expected_values(),
            polls=result.polls,
            requests=result.requests,
            agents_cpu_seconds=agents,
            other_load=other,
            problems=problems,
        )

    def exporter_phase(self, printers: Sequence[Printer] | None = None) -> Phase:
        printers = self.printers if printers is None else printers
        scrapes: list[list[Scrape]] = []
        seconds, cpu, agents, other = self._timed(
            self.exporter, lambda: scrapes.append(self.driver.scrape_all(printers))
        )
        problems = []
        for printer, scrape in zip(printers, scrapes[0], strict=True):
            expected = self.values_per_recording.get(printer.recording)
            if scrape.status != 200 or scrape.retried != 0 or scrape.samples != expected:
                problems.append(
                    f"{printer.device_id} ({printer.recording}): HTTP {scrape.status},"
                    f" {scrape.samples} samples (expected {expected}), {scrape.retried} retries"
                )
        return Phase(
            contender="exporter",
            seconds=seconds,
            cpu_seconds=cpu,
            values=sum(s.samples for s in scrapes[0]),
            polls=len(scrapes[0]),
            requests=sum(s.packets for s in scrapes[0]),
            agents_cpu_seconds=agents,
            other_load=other,
            problems=problems[:5]
            + ([f"... {len(problems) - 5} more"] if len(problems) > 5 else []),
        )

    def warm_up(self) -> list[str]:
        """Untimed: the daemon polls every printer once and makes its clients there.

        The exporter keeps nothing per target, so a scrape of one printer per
        recording is enough to check its module before the timed rounds.
        """
        problems = self.daemon_phase(timed=False).problems
        self.values_per_recording = self.daemon.ask(CountCommand(), Counted).values
        firsts = {p.recording: p for p in reversed(self.printers)}
        problems += self.exporter_phase(list(firsts.values())).problems
        return problems

    def play_round(self, index: int) -> Round:
        # Alternate who goes first, in case going first or second matters.
        order = ["exporter", "daemon"] if index % 2 == 0 else ["daemon", "exporter"]
        phases = {
            name: self.daemon_phase() if name == "daemon" else self.exporter_phase()
            for name in order
        }
        return Round(index + 1, order, phases["daemon"], phases["exporter"])


@dataclass
class Outcome:
    printers: int
    agents: int
    concurrency: int
    values_per_recording: dict[str, int]
    recordings: dict[str, int]  # printers per recording
    warm_up_problems: list[str]
    rounds: list[Round]
    render_cpu_seconds: list[float]
    render_samples: int
    render_bytes: int
    scheduled: Scheduled | None
    daemon_rss: int
    exporter_rss: int
    profile_path: str | None


def make_printers(ports: list[int]) -> list[Printer]:
    return [
        Printer(index, port, RECORDINGS[index % len(RECORDINGS)])
        for index, port in enumerate(ports)
    ]


def security_of(args: argparse.Namespace) -> Security:
    if not args.v3:
        return Security("2c")
    return Security("3", args.auth, args.priv)


def run(args: argparse.Namespace, binary: str) -> Outcome:
    from ocrfleet.snmp.options import SnmpDeviceOptions

    max_repetitions = SnmpDeviceOptions.model_fields["max_repetitions"].default
    security = security_of(args)
    ctx = multiprocessing.get_context("spawn")
    rng = random.Random()
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="ocrfleet-bench-snmp-") as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        for recording in RECORDINGS:
            shutil.copy(FIXTURES / f"{recording}.snmprec", data / f"{recording}.snmprec")
        config = work / "snmp.yml"
        config.write_text(json.dumps(exporter_config(max_repetitions, security), indent=1) + "\n")
        printers = make_printers(udp_ports(args.printers, rng))
        groups = [[p.port for p in printers[i :: args.agents]] for i in range(args.agents)]
        agents = snmp_agents(data, work, [g for g in groups if g], security)
        exporter = Exporter(binary, config, work)
        daemon: Contender | None = None
        driver: ScrapeDriver | None = None
        try:
            agents.start()
            exporter_ps = exporter.start()
            daemon = start_daemon(
                ctx, printers, args.concurrency, args.profile is not None, security
            )
            driver = ScrapeDriver(exporter.port, args.concurrency)
            bench = Bench(printers, daemon, exporter_ps, driver, agents)
            print(
                f"{len(printers):,} printers on {len(agents.processes)} snmpsim processes;"
                " warm-up round",
                flush=True,
            )
            warm_up_problems = bench.warm_up()
            for problem in warm_up_problems:
                print(f"warm-up: {problem}", flush=True)
            for index in range(args.rounds):
                done = bench.play_round(index)
                rounds.append(done)
                print(
                    f"round {done.index}/{args.rounds}:"
                    f" exporter {done.exporter.us_per_value:.1f} µs/value"
                    f" ({done.exporter.seconds:.1f} s),"
                    f" daemon {done.daemon.us_per_value:.1f} µs/value"
                    f" ({done.daemon.seconds:.1f} s), ratio {done.ratio:.2f}",
                    flush=True,
                )
                for phase in (done.exporter, done.daemon):
                    for problem in phase.problems:
                        print(f"  {phase.contender}: {problem}", flush=True)
            renders = [daemon.ask(RenderCommand(), Rendered) for _ in range(3)]
            scheduled = None
            if args.scheduled:
                print(f"scheduled: the daemon's own scheduler, {FLEET_INTERVAL:.0f} s", flush=True)
                scheduled = daemon.ask(
                    ScheduleCommand(FLEET_INTERVAL), Scheduled, timeout=FLEET_INTERVAL * 3
                )
            daemon_rss, exporter_rss = daemon.ps.memory_info().rss, exporter_ps.memory_info().rss
            stopped = daemon.ask(StopCommand(), Stopped, timeout=60)
            daemon.process.join(30)
            if args.profile is not None and stopped.profile is not None:
                args.profile.write_bytes(stopped.profile)
        finally:
            if driver is not None:
                driver.close()
            if daemon is not None:
                daemon.close()
            exporter.stop()
            agents.stop()
    return Outcome(
        printers=len(printers),
        agents=len(agents.processes),
        concurrency=args.concurrency,
        values_per_recording=bench.values_per_recording,
        recordings={r: sum(1 for p in printers if p.recording == r) for r in RECORDINGS},
        warm_up_problems=warm_up_problems,
        rounds=rounds,
        render_cpu_seconds=[r.cpu_seconds for r in renders],
        render_samples=renders[0].samples,
        render_bytes=renders[0].body_bytes,
        scheduled=scheduled,
        daemon_rss=daemon_rss,
        exporter_rss=exporter_rss,
        profile_path=str(args.profile) if args.profile is not None else None,
    )


# -- results ----------------------------------------------------------------


def _fleet_cores(cpu_seconds_per_poll: float) -> float:
    """Cores needed to poll FLEET printers every FLEET_INTERVAL seconds."""
    return cpu_seconds_per_poll * FLEET / FLEET_INTERVAL


def _median(values: Iterator[float] | list[float]) -> float:
    return statistics.median(list(values))


def summarise(
    args: argparse.Namespace, outcome: Outcome, binary: str, load_start: float, code: str
) -> dict[str, Any]:
    rounds = outcome.rounds
    security = security_of(args)
    daemon_us = _median(r.daemon.us_per_value for r in rounds)
    exporter_us = _median(r.exporter.us_per_value for r in rounds)
    daemon_poll = _median(r.daemon.cpu_seconds / r.daemon.polls for r in rounds)
    exporter_poll = _median(r.exporter.cpu_seconds / r.exporter.polls for r in rounds)
    quiet = [r for r in rounds if r.daemon.quiet and r.exporter.quiet]
    checks = {
        "warm-up without problems": not outcome.warm_up_problems,
        "every round without problems": not any(
            r.daemon.problems or r.exporter.problems for r in rounds
        ),
        "both fetched the same values": all(r.daemon.values == r.exporter.values for r in rounds),
    }
    scheduled = None
    if outcome.scheduled is not None:
        s = outcome.scheduled
        scheduled = {
            **asdict(s),
            # One interval's polls and idle time, spread over the interval.
            "cores": s.cpu_seconds / s.interval * FLEET / outcome.printers,
        }
        checks["scheduled: every printer polled once, no errors"] = (
            s.polls == outcome.printers and not s.errors
        )
    headline = {
        "exporter_us_per_value": exporter_us,
        "daemon_us_per_value": daemon_us,
        "ratio": daemon_us / exporter_us,
        "median_round_ratio": _median(r.ratio for r in rounds),
        "exporter_ms_per_poll": exporter_poll * 1e3,
        "daemon_ms_per_poll": daemon_poll * 1e3,
        "exporter_fleet_cores": _fleet_cores(exporter_poll),
        "daemon_fleet_cores": _fleet_cores(daemon_poll),
        "daemon_render_ms": _median(outcome.render_cpu_seconds) * 1e3,
    }
    if quiet:
        headline["quiet_ratio"] = _median(r.daemon.us_per_value for r in quiet) / _median(
            r.exporter.us_per_value for r in quiet
        )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code,
        "machine": machine(
            load_start,
            pysnmp=version("pysnmp"),
            snmpsim=version("snmpsim"),
            exporter=program_version([binary, "--version"]),
        ),
        "snmp": asdict(security) | {"label": security.label},
        "printers": outcome.printers,
        "snmpsim_processes": outcome.agents,
        "concurrency": outcome.concurrency,
        "printers_per_recording": outcome.recordings,
        "values_per_recording": outcome.values_per_recording,
        "values_per_round": rounds[0].daemon.values if rounds else 0,
        "warm_up_problems": outcome.warm_up_problems,
        "rounds": [
            {
                "index": r.index,
                "order": r.order,
                "ratio": r.ratio,
                **{
                    name: {**asdict(p), "us_per_value": p.us_per_value, "quiet": p.quiet}
                    for name, p in (("daemon", r.daemon), ("exporter", r.exporter))
                },
            }
            for r in rounds
        ],
        "headline": headline,
        "quiet_rounds": len(quiet),
        "daemon_render": {
            "cpu_seconds": outcome.render_cpu_seconds,
            "samples": outcome.render_samples,
            "bytes": outcome.render_bytes,
        },
        "scheduled": scheduled,
        "rss": {"daemon": outcome.daemon_rss, "exporter": outcome.exporter_rss},
        "profile": outcome.profile_path,
        "targets": {"ratio": security.target_ratio, "cores": TARGET_CORES},
        "checks": checks,
    }


def report(result: dict[str, Any]) -> str:
    machine = result["machine"]
    head = result["headline"]
    target_ratio = result["targets"]["ratio"]
    lines = [
        f"code {result['code']}, {result['date']}; {result['snmp']['label']};"
        f" {machine['exporter']}; pysnmp {machine['pysnmp']}, Python {machine['python']}",
        f"{result['printers']:,} printers ({result['values_per_round']:,} values per round) on"
        f" {result['snmpsim_processes']} snmpsim processes, {result['concurrency']} at once;"
        f" {machine['cpus']} CPUs, 1-min load average {machine['loadavg_1min_start']:.2f} at"
        f" start, {machine['loadavg_1min_end']:.2f} at end",
        "",
    ]
    rounds = []
    for r in result["rounds"]:
        e, d = r["exporter"], r["daemon"]
        busy = "" if e["quiet"] and d["quiet"] else " busy"
        rounds.append(
            (
                r["index"],
                r["order"][0],
                f"{e['us_per_value']:.1f}",
                f"{d['us_per_value']:.1f}",
                f"{r['ratio']:.2f}",
                f"{e['seconds']:.1f} / {d['seconds']:.1f} s",
                f"{e['requests']:,} / {d['requests']:,}",
                f"{e['agents_cpu_seconds']:.1f} / {d['agents_cpu_seconds']:.1f} s",
                f"{e['other_load']:.2f} / {d['other_load']:.2f}{busy}",
            )
        )
    lines += table(
        (
            "round",
            "first",
            "exporter µs/value",
            "daemon µs/value",
            "ratio",
            "exporter / daemon wall",
            "requests exporter / daemon",
            "snmpsim CPU exporter / daemon",
            "other load",
        ),
        "rlrrrrrrr",
        rounds,
    )
    fleet = f"{FLEET:,} printers every {FLEET_INTERVAL:.0f} s"
    summary = [
        (
            "CPU per value (median of rounds)",
            f"{head['exporter_us_per_value']:.1f} µs",
            f"{head['daemon_us_per_value']:.1f} µs",
            f"**{head['ratio']:.2f}x**",
            f"≤ {target_ratio:g}x",
        ),
        (
            "CPU per printer poll",
            f"{head['exporter_ms_per_poll']:.2f} ms",
            f"{head['daemon_ms_per_poll']:.2f} ms",
            f"{head['ratio']:.2f}x",
            "",
        ),
        (
            f"cores for {fleet}",
            f"{head['exporter_fleet_cores']:.3f}",
            f"**{head['daemon_fleet_cores']:.3f}**",
            "",
            f"≤ {TARGET_CORES:g}",
        ),
    ]
    scheduled = result["scheduled"]
    if scheduled is not None:
        summary.append(
            (
                f"the same, measured: the daemon's scheduler, {scheduled['polls']:,} polls in"
                f" {scheduled['seconds']:.0f} s",
                "",
                f"**{scheduled['cores']:.3f}**",
                "",
                f"≤ {TARGET_CORES:g}",
            )
        )
    lines += [
        "",
        *table(("", "exporter", "daemon", "daemon / exporter", "target"), "lrrrl", summary),
    ]
    render = result["daemon_render"]
    lines += [
        "",
        f"Median of per-round ratios {head['median_round_ratio']:.2f}"
        + (
            f"; over the {result['quiet_rounds']} quiet rounds {head['quiet_ratio']:.2f}."
            if "quiet_ratio" in head
            else "; no round was quiet."
        ),
        f"Values per printer poll by recording: {result['values_per_recording']}.",
        f"The daemon's /metrics for these printers ({render['samples']:,} samples,"
        f" {render['bytes'] / 1024:.0f} KiB) costs {head['daemon_render_ms']:.0f} ms CPU per"
        " scrape (not in the figures above: the exporter's include its exposition).",
        f"RSS at the end: daemon {result['rss']['daemon'] / 2**20:.0f} MiB, exporter"
        f" {result['rss']['exporter'] / 2**20:.0f} MiB.",
        f"Other load: cores kept busy by other processes during a phase; quiet under {QUIET_LOAD}.",
        f"The ratio {head['ratio']:.2f} {'meets' if head['ratio'] <= target_ratio else 'MISSES'}"
        f" the ≤ {target_ratio:g}x target; {head['daemon_fleet_cores']:.3f} cores"
        f" {'meets' if head['daemon_fleet_cores'] <= TARGET_CORES else 'MISSES'} the"
        f" ≤ {TARGET_CORES:g} core target.",
    ]
    for problem in result["warm_up_problems"]:
        lines.append(f"warm-up problem: {problem}")
    lines += check_lines(result["checks"])
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--printers", type=int, default=500, help="printers (default 500)")
    parser.add_argument(
        "--agents", type=int, default=4, help="snmpsim processes sharing them (default 4)"
    )
    parser.add_argument("--rounds", type=int, default=4, help="rounds per contender (default 4)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=64,
        help="polls (and scrapes) at once; 64 is the daemon's default max_concurrent_polls",
    )
    parser.add_argument(
        "--scheduled",
        action="store_true",
        help=f"also run the daemon's own scheduler for {FLEET_INTERVAL:.0f} s and time it",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="cProfile the daemon's timed polls into this file (pstats format)",
    )
    add_json_options(parser, "snmp_poll")
    parser.add_argument(
        "--v3",
        action="store_true",
        help=f"SNMPv3 authPriv on both sides instead of v2c (target ratio ≤ {TARGET_RATIO_V3:g}x)",
    )
    parser.add_argument(
        "--auth",
        choices=AUTH_PROTOCOLS,
        default="SHA256",
        help="--v3 authentication protocol (default SHA256)",
    )
    parser.add_argument(
        "--priv", choices=PRIV_PROTOCOLS, default="AES", help="--v3 privacy protocol (default AES)"
    )
    args = parser.parse_args(argv)
    for name in ("printers", "agents", "rounds", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if not args.v3 and (args.auth, args.priv) != ("SHA256", "AES"):
        parser.error("--auth and --priv go with --v3")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    binary = exporter_binary()
    if binary is None:
        print(
            f"{EXPORTER} is not installed. It is Debian's package of the same name:\n"
            f"    sudo apt-get update && sudo apt-get install -y {EXPORTER}\n"
            "(the package's own service is not needed: the benchmark starts the exporter itself"
            " on a free loopback port with its own config).",
            file=sys.stderr,
        )
        return 2
    exit_on_sigterm()
    load_start = os.getloadavg()[0]
    # Read before the run: the tree may change while it runs.
    code = code_version()
    print(
        f"{args.rounds} rounds of {args.printers:,} printer polls per contender"
        f" ({security_of(args).label}), code {code};"
        f" load average {load_start:.2f}",
        flush=True,
    )
    result = summarise(args, run(args, binary), binary, load_start, code)
    print()
    print(report(result))
    write_results(args, "snmp_poll", result)
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    run_script(main)
