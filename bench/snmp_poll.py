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

Run: .venv/bin/python bench/snmp_poll.py [--printers N] [--rounds N] [--agents N]
         [--concurrency N] [--scheduled] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import json
import multiprocessing
import os
import platform
import random
import shutil
import signal
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
from typing import Any, NoReturn, TypeVar

import psutil

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "snmp" / "printers"
# The recordings of working printers. special_values is left out on purpose:
# its supply descriptions are not UTF-8, which the exporter cannot put in a
# label, so it would fail those scrapes instead of timing them.
RECORDINGS = ("colour_mfp", "mono_laser", "brother_style", "jammed", "low_paper")
EXPORTER = "prometheus-snmp-exporter"
MODULE_PREFIX = "printer_"
TARGET_RATIO = 3.0
TARGET_CORES = 0.5
FLEET = 1000
FLEET_INTERVAL = 60.0
PRINTERS_PER_SITE = 50
# Long enough that a busy shared machine never turns a slow answer into a
# retry, which would add requests to one contender only; both get the same.
TIMEOUT_SECONDS = 10.0
RETRIES = 1
# Ports are taken below the kernel's ephemeral range, where no client socket
# of another program can take one between our check and snmpsim's bind.
LOWEST_PORT = 10_000
REPLY_SECONDS = 900.0
# Cores kept busy by processes other than the benchmark's, above which a
# phase counts as disturbed.
QUIET_LOAD = 0.15

T = TypeVar("T")


@dataclass(frozen=True)
class Printer:
    index: int
    port: int
    recording: str  # also its community

    @property
    def device_id(self) -> str:
        return f"printer-{self.index:04d}"

    @property
    def module(self) -> str:
        return MODULE_PREFIX + self.recording


# -- messages between the runner and the daemon process ---------------------


@dataclass(frozen=True)
class Ready:
    pid: int


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


def fleet_config(printers: Sequence[Printer], concurrency: int) -> dict[str, Any]:
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
                    "snmp": {"version": "2c", "community": p.recording},
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


def _quiet_interrupt() -> None:
    # Ctrl-C reaches the whole process group; the runner cleans up, children just go.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def daemon_contender(
    conn: Connection, printers: list[Printer], concurrency: int, profile: bool
) -> None:
    _quiet_interrupt()
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
    loaded = load_config(fleet_config(printers, concurrency), catalog.kinds)
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


class DaemonProcess:
    """The daemon contender's process and the runner's end of its pipe."""

    def __init__(
        self,
        ctx: multiprocessing.context.SpawnContext,
        printers: list[Printer],
        concurrency: int,
        profile: bool,
    ) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=daemon_contender,
            args=(child, printers, concurrency, profile),
            name="daemon",
            daemon=True,
        )
        self.process.start()
        child.close()
        try:
            ready = self.request(None, timeout=120)
            if not isinstance(ready, Ready):
                raise RuntimeError(f"daemon: unexpected greeting {ready!r}")
        except BaseException:
            self.close()  # the caller never gets an object to close
            raise
        self.ps = psutil.Process(ready.pid)

    def request(self, command: object, timeout: float = REPLY_SECONDS) -> object:
        if command is not None:
            self.conn.send(command)
        if not self.conn.poll(timeout):
            raise RuntimeError(f"the daemon process did not answer within {timeout:.0f} s")
        try:
            reply: object = self.conn.recv()
        except EOFError:
            self.process.join(5)
            raise RuntimeError(
                f"the daemon process died (exit code {self.process.exitcode})"
            ) from None
        return reply

    def ask(self, command: object, reply_type: type[T], timeout: float = REPLY_SECONDS) -> T:
        reply = self.request(command, timeout)
        if not isinstance(reply, reply_type):
            raise RuntimeError(f"daemon: unexpected reply {reply!r}")
        return reply

    def close(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


# -- the simulated printers ---------------------------------------------------


def _responder() -> str:
    beside = Path(sys.executable).parent / "snmpsim-command-responder"
    found = str(beside) if beside.exists() else shutil.which("snmpsim-command-responder")
    if found is None:
        raise SystemExit("snmpsim is not installed: run `make test` or pip install snmpsim")
    return found


def udp_ports(count: int, rng: random.Random) -> list[int]:
    """Free loopback UDP ports below the ephemeral range, from a random place of that range."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    if low - LOWEST_PORT < count * 2:
        raise RuntimeError(f"not enough ports between {LOWEST_PORT} and {low} for {count} printers")
    # A random start keeps two runs at once from reaching for the same ports.
    start = rng.randrange(LOWEST_PORT, low - count)
    ports: list[int] = []
    for port in [*range(start, low), *range(LOWEST_PORT, start)]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"found only {len(ports)} free UDP ports of {count}")


def _bound_udp_ports(process: psutil.Process) -> set[int]:
    return {c.laddr.port for c in process.net_connections(kind="udp4") if c.laddr}


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Agents:
    """snmpsim processes; each listens on its share of the ports and serves every recording."""

    def __init__(self, data_dir: Path, workdir: Path, port_groups: list[list[int]]) -> None:
        self._data_dir = data_dir
        self._workdir = workdir
        self._groups = port_groups
        self._popen: list[subprocess.Popen[bytes]] = []
        self.processes: list[psutil.Process] = []

    def start(self, timeout: float = 180.0) -> None:
        responder = _responder()
        logs = []
        for number, ports in enumerate(self._groups):
            workdir = self._workdir / f"agent-{number}"
            (workdir / "cache").mkdir(parents=True)
            log = workdir / "snmpsim.log"
            logs.append(log)
            args = [
                responder,
                f"--data-dir={self._data_dir}",
                f"--cache-dir={workdir / 'cache'}",
                # At "info" snmpsim logs every request, which only slows the agents down.
                "--log-level=error",
                f"--logging-method=file:{log}",
                # As root it would drop to 'nobody', which cannot read our temp dir.
                *(["--process-user=root", "--process-group=root"] if os.geteuid() == 0 else []),
                *(f"--agent-udpv4-endpoint=127.0.0.1:{port}" for port in ports),
            ]
            with (workdir / "stderr").open("wb") as stderr:
                self._popen.append(
                    subprocess.Popen(
                        args, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
                    )
                )
            self.processes.append(psutil.Process(self._popen[-1].pid))
        deadline = time.monotonic() + timeout
        waiting = set(range(len(self._groups)))
        while waiting:
            for number in sorted(waiting):
                if self._popen[number].poll() is not None:
                    raise RuntimeError(
                        f"snmpsim agent {number} exited with {self._popen[number].returncode}:"
                        f"\n{_tail(logs[number])}"
                        f"\n{_tail(self._workdir / f'agent-{number}' / 'stderr')}"
                    )
                if set(self._groups[number]) <= _bound_udp_ports(self.processes[number]):
                    waiting.discard(number)
            if time.monotonic() > deadline:
                raise RuntimeError(f"snmpsim agents {sorted(waiting)} did not bind their ports")
            time.sleep(0.2)

    def stop(self) -> None:
        for process in self._popen:
            if process.poll() is None:
                process.terminate()
        for process in self._popen:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._popen.clear()


# -- prometheus-snmp-exporter ---------------------------------------------------


def exporter_binary() -> str | None:
    return shutil.which(EXPORTER) or (
        f"/usr/bin/{EXPORTER}" if Path(f"/usr/bin/{EXPORTER}").exists() else None
    )


def exporter_version(binary: str) -> str:
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "?"
    first = (done.stdout or done.stderr).splitlines()
    return first[0].strip() if first else "?"


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


def exporter_config(max_repetitions: int) -> dict[str, Any]:
    """snmp.yml (JSON is YAML) in the exporter 0.21 format: auth inside each module.

    One module per recording, because the community picks the recording and
    0.21 has no per-target community. Metrics: one per column any recording
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
        "version": 2,
        "max_repetitions": max_repetitions,
        "retries": RETRIES,
        "timeout": f"{TIMEOUT_SECONDS:g}s",
        "get": list(oids.SCALARS),
        "walk": list(oids.WALKED_TABLES),
        "metrics": metrics,
    }
    return {
        MODULE_PREFIX + recording: {**module, "auth": {"community": recording}}
        for recording in RECORDINGS
    }


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Exporter:
    def __init__(self, binary: str, config: Path, workdir: Path) -> None:
        self._binary = binary
        self._config = config
        self._log = workdir / "exporter.log"
        self._popen: subprocess.Popen[bytes] | None = None
        self.port = free_tcp_port()

    def start(self, timeout: float = 30.0) -> psutil.Process:
        with self._log.open("wb") as log:
            self._popen = subprocess.Popen(
                [
                    self._binary,
                    f"--config.file={self._config}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._popen.poll() is not None:
                raise RuntimeError(f"{EXPORTER} exited:\n{_tail(self._log)}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                time.sleep(0.1)
                continue
            return psutil.Process(self._popen.pid)
        raise RuntimeError(f"{EXPORTER} did not listen:\n{_tail(self._log)}")

    def stop(self) -> None:
        if self._popen is None:
            return
        self._popen.terminate()
        try:
            self._popen.wait(10)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.wait()
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


def _cpu(processes: Sequence[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def _busy_cpu() -> float:
    """CPU seconds the whole machine spent busy, including time stolen by the hypervisor."""
    times = psutil.cpu_times()
    # guest time is already inside user time on Linux, so it is not added.
    return sum(
        getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal")
    )


class Bench:
    def __init__(
        self,
        printers: list[Printer],
        daemon: DaemonProcess,
        exporter: psutil.Process,
        driver: ScrapeDriver,
        agents: Agents,
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
        busy0, ours0, agents0 = _busy_cpu(), _cpu(self._ours), _cpu(self.agents.processes)
        cpu0 = _cpu([contender])
        t0 = time.perf_counter()
        work()
        seconds = time.perf_counter() - t0
        cpu = _cpu([contender]) - cpu0
        agents = _cpu(self.agents.processes) - agents0
        other = max(0.0, (_busy_cpu() - busy0) - (_cpu(self._ours) - ours0)) / seconds
        return seconds, cpu, agents, other

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


def run(args: argparse.Namespace, binary: str) -> Outcome:
    from ocrfleet.snmp.options import SnmpDeviceOptions

    max_repetitions = SnmpDeviceOptions.model_fields["max_repetitions"].default
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
        config.write_text(json.dumps(exporter_config(max_repetitions), indent=1) + "\n")
        printers = make_printers(udp_ports(args.printers, rng))
        groups = [[p.port for p in printers[i :: args.agents]] for i in range(args.agents)]
        agents = Agents(data, work, [g for g in groups if g])
        exporter = Exporter(binary, config, work)
        daemon: DaemonProcess | None = None
        driver: ScrapeDriver | None = None
        try:
            agents.start()
            exporter_ps = exporter.start()
            daemon = DaemonProcess(ctx, printers, args.concurrency, args.profile is not None)
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


def _code_version() -> str:
    """The commit measured, marked dirty when the daemon's code differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--", "ocrfleet", "plugins", "pyproject.toml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "?"
    return f"{commit or '?'}{'+dirty' if changes else ''}"


def _fleet_cores(cpu_seconds_per_poll: float) -> float:
    """Cores needed to poll FLEET printers every FLEET_INTERVAL seconds."""
    return cpu_seconds_per_poll * FLEET / FLEET_INTERVAL


def _median(values: Iterator[float] | list[float]) -> float:
    return statistics.median(list(values))


def summarise(
    args: argparse.Namespace, outcome: Outcome, binary: str, load_start: float, code: str
) -> dict[str, Any]:
    rounds = outcome.rounds
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
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "pysnmp": version("pysnmp"),
            "snmpsim": version("snmpsim"),
            "exporter": exporter_version(binary),
            "loadavg_1min_start": load_start,
            "loadavg_1min_end": os.getloadavg()[0],
        },
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
        "targets": {"ratio": TARGET_RATIO, "cores": TARGET_CORES},
        "checks": checks,
    }


def report(result: dict[str, Any]) -> str:
    machine = result["machine"]
    head = result["headline"]
    lines = [
        f"code {result['code']}, {result['date']}; {machine['exporter']}; pysnmp"
        f" {machine['pysnmp']}, Python {machine['python']}",
        f"{result['printers']:,} printers ({result['values_per_round']:,} values per round) on"
        f" {result['snmpsim_processes']} snmpsim processes, {result['concurrency']} at once;"
        f" {machine['cpus']} CPUs, 1-min load average {machine['loadavg_1min_start']:.2f} at"
        f" start, {machine['loadavg_1min_end']:.2f} at end",
        "",
        "| round | first | exporter µs/value | daemon µs/value | ratio | exporter / daemon wall"
        " | requests exporter / daemon | snmpsim CPU exporter / daemon | other load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rounds"]:
        e, d = r["exporter"], r["daemon"]
        busy = "" if e["quiet"] and d["quiet"] else " busy"
        lines.append(
            f"| {r['index']} | {r['order'][0]} | {e['us_per_value']:.1f} | {d['us_per_value']:.1f}"
            f" | {r['ratio']:.2f} | {e['seconds']:.1f} / {d['seconds']:.1f} s"
            f" | {e['requests']:,} / {d['requests']:,}"
            f" | {e['agents_cpu_seconds']:.1f} / {d['agents_cpu_seconds']:.1f} s"
            f" | {e['other_load']:.2f} / {d['other_load']:.2f}{busy} |"
        )
    fleet = f"{FLEET:,} printers every {FLEET_INTERVAL:.0f} s"
    lines += [
        "",
        "| | exporter | daemon | daemon / exporter | target |",
        "|---|---:|---:|---:|---|",
        f"| CPU per value (median of rounds) | {head['exporter_us_per_value']:.1f} µs"
        f" | {head['daemon_us_per_value']:.1f} µs | **{head['ratio']:.2f}x**"
        f" | ≤ {TARGET_RATIO:g}x |",
        f"| CPU per printer poll | {head['exporter_ms_per_poll']:.2f} ms"
        f" | {head['daemon_ms_per_poll']:.2f} ms | {head['ratio']:.2f}x | |",
        f"| cores for {fleet} | {head['exporter_fleet_cores']:.3f}"
        f" | **{head['daemon_fleet_cores']:.3f}** | | ≤ {TARGET_CORES:g} |",
    ]
    scheduled = result["scheduled"]
    if scheduled is not None:
        lines.append(
            f"| the same, measured: the daemon's scheduler, {scheduled['polls']:,} polls in"
            f" {scheduled['seconds']:.0f} s | | **{scheduled['cores']:.3f}** | |"
            f" ≤ {TARGET_CORES:g} |"
        )
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
        f"The ratio {head['ratio']:.2f} {'meets' if head['ratio'] <= TARGET_RATIO else 'MISSES'}"
        f" the ≤ {TARGET_RATIO:g}x target; {head['daemon_fleet_cores']:.3f} cores"
        f" {'meets' if head['daemon_fleet_cores'] <= TARGET_CORES else 'MISSES'} the"
        f" ≤ {TARGET_CORES:g} core target.",
    ]
    for problem in result["warm_up_problems"]:
        lines.append(f"warm-up problem: {problem}")
    for check, ok in result["checks"].items():
        lines.append(f"{'ok  ' if ok else 'FAIL'} {check}")
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
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="write the results here (default: bench/results/snmp_poll-<time>.json)",
    )
    parser.add_argument("--no-json", action="store_true", help="write no JSON file")
    args = parser.parse_args(argv)
    for name in ("printers", "agents", "rounds", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def _terminate(signum: int, frame: object) -> NoReturn:
    # SystemExit unwinds through the finally blocks that stop the agents and the exporter.
    raise SystemExit(128 + signum)


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
    signal.signal(signal.SIGTERM, _terminate)
    load_start = os.getloadavg()[0]
    # Read before the run: the tree may change while it runs.
    code = _code_version()
    print(
        f"{args.rounds} rounds of {args.printers:,} printer polls per contender, code {code};"
        f" load average {load_start:.2f}",
        flush=True,
    )
    result = summarise(args, run(args, binary), binary, load_start, code)
    print()
    print(report(result))
    if not args.no_json:
        path = args.json or (
            ROOT / "bench" / "results" / f"snmp_poll-{time.strftime('%Y%m%d-%H%M%S')}.json"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nresults written to {path}")
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
