"""SNMP client libraries' CPU per value: ocrfleet's own client, gufo-snmp and pysnmp.

The question it answers: for SNMPv3 authPriv, should ocrfleet keep its own
codec (with a USM of its own) or adopt gufo-snmp? So every contender does the
printer kind's SNMP work, library level only (no parsing, no state), against
the same simulated printers in the same run:

* ocrfleet: clients obtained as the daemon obtains them, from
  `SnmpService.client(options)` (ocrfleet/snmp/service.py): v1/v2c is
  `CommunityClient` on ocrfleet's own BER codec and one shared UDP socket;
  v3 is whatever the service wires for v3 (the report names the class).
* gufo: gufo-snmp's asyncio `SnmpSession`, one per printer (each has its own
  connected socket; the library has no shared one), v3 engine discovery done
  once per session before timing.
* pysnmp: pysnmp's v3arch asyncio API used the cheap way (one engine,
  transport targets and request objects built once and reused, MIB lookup
  off), for reference.

Each printer poll is one GET of the 4 scalars (oids.SCALARS) and a GETBULK
walk of each of the 9 tables (oids.WALKED_TABLES), one walk at a time, as
`PrinterKind.poll` does. All contenders choose the same max-repetitions per
walk: the value count the walk found last time plus one, capped at 25 (what
`SnmpClient` does), so they send the same requests, except that gufo's walk
skips endOfMibView instead of stopping on it, which costs it one more request
at the end of the MIB view; the report shows the request counts. Polls run
`--concurrency` at once (the daemon's bound).

CPU: each contender runs in a spawned process of its own (imports, threads,
event loop and native code attributed to it) and reports its own process
CPU time (user + system, all threads) around each round; that divided by
the values fetched is its CPU per value. psutil's reading of the same
process from outside (10 ms ticks) is kept in the JSON as a cross-check.
Each round, every contender polls every printer once, one contender after
the other, in an order rotating by round. Two untimed
rounds come first: the first creates the clients (and does v3 engine
discovery) and learns the table sizes, the second counts requests. After
every round each contender hands back a digest of what it fetched per
printer (computed after its CPU was read); every contender must have
fetched the same values. Headline: medians over the rounds.

The printers are snmpsim agents started as devpeers/snmpsim.py starts
them, serving tests/fixtures/snmp/printers/: one snmpsim process per
recording, listening on the ports of the printers that have it. v2c picks
the recording by community, as usual. gufo-snmp cannot send an SNMPv3
context name, and snmpsim serves nothing on the empty one, so the agents are
started through a few lines (SNMPSIM_LAUNCHER) that make a process's one
recording its default context too; every v3 contender uses the empty
context, so the agents do the same work for all. v3: user `bench`,
SHA-256 + AES-128; `--check-protocols` also gives snmpsim one user per
auth/priv pair ocrfleet accepts and does one GET with each client.

Built on bench/harness (processes, signals, load, describe, tables,
results); the agents are devpeers.snmpsim's SnmpAgents, each run through
the launcher.

Install gufo-snmp first (not a runtime dependency):
    .venv/bin/pip install -e '.[bench]'
Run: .venv/bin/python bench/snmp_clients.py [--printers N] [--rounds N]
         [--versions 2c,3] [--contenders ocrfleet,gufo,pysnmp]
         [--check-protocols] [--ocrfleet-tree DIR] [--json PATH | --no-json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from harness import ROOT
from harness.describe import code_version, load_average, machine
from harness.load import QUIET_LOAD, OtherLoad, cpu_seconds
from harness.processes import Contender as ContenderProcess
from harness.processes import Ready, quiet_interrupt
from harness.results import add_json_options, write_results
from harness.signals import exit_on_sigterm, run_script
from harness.tables import check_lines, table

from devpeers.snmpsim import SnmpAgents, agent_process, snmpsim_responder, udp_ports

FIXTURES = ROOT / "tests" / "fixtures" / "snmp" / "printers"
RECORDINGS = ("colour_mfp", "mono_laser", "brother_style", "jammed", "low_paper")
CONTENDERS = ("ocrfleet", "gufo", "pysnmp")
VERSIONS = ("2c", "3")
# snmpsim with its one recording as the default (empty) SNMPv3 context too:
# gufo-snmp cannot send a context name, and snmpsim serves nothing on the
# empty one. snmpsim drops the default context and then registers each
# recording's; this registers the recording's instrumentation as "" as well.
SNMPSIM_LAUNCHER = """
import sys
from pysnmp.entity.rfc3413.context import SnmpContext
from snmpsim.commands.responder import main

register = SnmpContext.register_context_name

def register_as_default_too(self, name, instrum=None):
    register(self, name, instrum)
    if instrum is not None and name != "index":  # "index": snmpsim's list of recordings
        self.context_names[b""] = instrum

SnmpContext.register_context_name = register_as_default_too
sys.exit(main())
"""
MAX_REPETITIONS = 25  # SnmpDeviceOptions' default
# Long enough that a busy shared machine never turns a slow answer into a
# retry, which would add requests to one contender only.
TIMEOUT_SECONDS = 10.0
RETRIES = 1
START_SECONDS = 300.0  # v3 clients for every printer, engine discovery included
V3_USER = "bench"
V3_AUTH = "SHA256"
V3_PRIV = "AES"
AUTH_KEY = "bench-auth-key"
PRIV_KEY = "bench-priv-key"
# (auth, priv) pairs ocrfleet/snmp/options.py accepts, one snmpsim user each
# for --check-protocols.
PROTOCOL_PAIRS = (
    ("MD5", "DES"),
    ("SHA", "AES"),
    ("SHA", "3DES"),
    ("SHA224", "AES"),
    ("SHA256", "AES192"),
    ("SHA384", "AES256"),
    ("SHA512", "AES256"),
    ("MD5", "AES256"),
)


@dataclass(frozen=True)
class Printer:
    index: int
    port: int
    recording: str  # also its community; v3 reaches it with the empty context

    @property
    def community(self) -> str:
        return self.recording


@dataclass(frozen=True)
class V3User:
    name: str
    auth: str
    priv: str


def protocol_user(auth: str, priv: str) -> V3User:
    return V3User(f"{auth}-{priv}".lower(), auth, priv)


# -- messages between the runner and a contender process --------------------


@dataclass(frozen=True)
class DescribeCommand:
    pass


@dataclass(frozen=True)
class PollCommand:
    count_requests: bool


@dataclass(frozen=True)
class DigestCommand:
    pass


@dataclass(frozen=True)
class CheckCommand:
    users: tuple[V3User, ...]


@dataclass(frozen=True)
class StopCommand:
    pass


@dataclass(frozen=True)
class PollDone:
    seconds: float
    cpu_seconds: float  # the whole process's, all threads (CLOCK_PROCESS_CPUTIME_ID)
    errors: dict[str, int]
    requests: int | None


@dataclass(frozen=True)
class Digest:
    values: int
    per_printer: dict[int, str]


@dataclass(frozen=True)
class Checked:
    results: dict[str, str]  # user -> "ok" or the error


@dataclass(frozen=True)
class Described:
    library: str  # what the contender runs on, with versions


@dataclass(frozen=True)
class Failed:
    """Sent instead of Ready when the contender cannot set up; the runner shows it."""

    error: str


# -- what every contender does ----------------------------------------------

Values = dict[str, object]


class Walker:
    """The repetitions rule SnmpClient uses, for the contenders that lack it."""

    def __init__(self) -> None:
        self.sizes: dict[tuple[int, str], int] = {}

    def repetitions(self, printer: int, root: str) -> int:
        known = self.sizes.get((printer, root))
        return MAX_REPETITIONS if known is None else min(MAX_REPETITIONS, known + 1)


class Contender:
    """One library's clients for every printer, and a poll of one printer."""

    library = "?"

    async def setup(self, printers: Sequence[Printer], version: str) -> None:
        raise NotImplementedError

    async def poll(self, printer: Printer) -> Values:
        raise NotImplementedError

    def requests(self) -> int | None:
        return None

    def count_requests(self, on: bool) -> None:
        """Start or stop counting requests; only untimed rounds count if it costs."""

    async def check(self, port: int, community: str, user: V3User) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _v3_credentials(user: V3User) -> dict[str, str]:
    return {
        "version": "3",
        "user": user.name,
        "auth_protocol": user.auth,
        "auth_key": AUTH_KEY,
        "priv_protocol": user.priv,
        "priv_key": PRIV_KEY,
    }


class OcrfleetContender(Contender):
    def __init__(self) -> None:
        from ocrfleet.snmp.service import SnmpService

        self.service = SnmpService()
        self.clients: dict[int, Any] = {}

    def _options(self, port: int, credentials: dict[str, str]) -> Any:
        from ocrfleet.snmp.options import SnmpDeviceOptions

        return SnmpDeviceOptions.model_validate(
            {
                "host": "127.0.0.1",
                "port": port,
                "snmp": credentials,
                "timeout": TIMEOUT_SECONDS,
                "retries": RETRIES,
                "max_repetitions": MAX_REPETITIONS,
            }
        )

    async def setup(self, printers: Sequence[Printer], version: str) -> None:
        if version == "3":
            # As the daemon does before its first v3 poll (pysnmp's start-up
            # cost); a v3 client without that start-up has no such method.
            warm_up = getattr(self.service, "warm_up_v3", None)
            if warm_up is not None:
                warm_up()
        for p in printers:
            credentials = (
                {"version": "2c", "community": p.community}
                if version == "2c"
                else _v3_credentials(V3User(V3_USER, V3_AUTH, V3_PRIV))
            )
            self.clients[p.index] = await self.service.client(self._options(p.port, credentials))
        import ocrfleet

        client_type = type(next(iter(self.clients.values())))
        self.library = f"{client_type.__module__}.{client_type.__name__}"
        if not Path(ocrfleet.__file__).is_relative_to(ROOT):
            self.library += f" from {Path(ocrfleet.__file__).parent.parent}"
        # Whether the client stands on pysnmp (v3 did, before ocrfleet's own USM).
        if "pysnmp" in sys.modules:
            self.library += f" (pysnmp {version_of('pysnmp')} loaded)"

    async def poll(self, printer: Printer) -> Values:
        from ocrfleet_printer import oids

        client = self.clients[printer.index]
        values: Values = dict(await client.get(oids.SCALARS))
        values.update(await client.walk_all(oids.WALKED_TABLES))
        return values

    def requests(self) -> int | None:
        return sum(int(c.requests) for c in self.clients.values())

    async def check(self, port: int, community: str, user: V3User) -> None:
        from ocrfleet_printer import oids

        client = await self.service.client(self._options(port, _v3_credentials(user)))
        found = await client.get([oids.SYS_DESCR])
        if not isinstance(found.get(oids.SYS_DESCR), bytes):
            raise RuntimeError(f"no sysDescr: {found!r}")

    def close(self) -> None:
        self.service.close()


class GufoContender(Contender):
    def __init__(self) -> None:
        import gufo.snmp

        self.library = f"gufo-snmp {gufo.snmp.__version__}"
        self.sessions: dict[int, Any] = {}
        self.walker = Walker()
        self.counted: int | None = None  # None: not counting
        self.last_count: int | None = None

    def _user(self, user: V3User) -> Any:
        import gufo.snmp as g

        auth = {
            "MD5": g.Md5Key,
            "SHA": g.Sha1Key,
            "SHA224": g.Sha224Key,
            "SHA256": g.Sha256Key,
            "SHA384": g.Sha384Key,
            "SHA512": g.Sha512Key,
        }
        priv = {"DES": g.DesKey, "AES": g.Aes128Key, "AES192": g.Aes192Key, "AES256": g.Aes256Key}
        if user.priv not in priv:
            raise RuntimeError(f"gufo-snmp has no {user.priv}")
        return g.User(
            user.name,
            auth_key=auth[user.auth](AUTH_KEY.encode()),
            priv_key=priv[user.priv](PRIV_KEY.encode()),
            # What pysnmp's (and so snmpsim's and ocrfleet's) AES192/AES256
            # do when the auth key is too short: Reeder's, not Blumenthal's.
            key_expansion=g.KeyExpansion.Cisco,
        )

    async def _session(self, port: int, community: str, user: V3User | None) -> Any:
        from gufo.snmp import SnmpVersion
        from gufo.snmp.aio import SnmpSession

        session = SnmpSession(
            "127.0.0.1",
            port,
            community=community,
            user=self._user(user) if user is not None else None,
            version=SnmpVersion.v2c if user is None else SnmpVersion.v3,
            timeout=TIMEOUT_SECONDS,
            max_repetitions=MAX_REPETITIONS,
        )
        # v3: engine ID discovery, then engine boots and time.
        await session.refresh()
        return session

    async def setup(self, printers: Sequence[Printer], version: str) -> None:
        user = None if version == "2c" else V3User(V3_USER, V3_AUTH, V3_PRIV)
        for p in printers:
            self.sessions[p.index] = await self._session(p.port, p.community, user)

    async def poll(self, printer: Printer) -> Values:
        from ocrfleet_printer import oids

        session = self.sessions[printer.index]
        values: Values = dict(await session.get_many(oids.SCALARS))
        sizes = self.walker.sizes
        for root in oids.WALKED_TABLES:
            found = 0
            reps = self.walker.repetitions(printer.index, root)
            async for oid, value in session.getbulk(root, reps):
                values[oid] = value
                found += 1
            sizes[printer.index, root] = found
        return values

    def count_requests(self, on: bool) -> None:
        # gufo counts nothing itself; a counting wrapper costs a coroutine
        # per request, so it is only there in the untimed counting round.
        if on == (self.counted is not None):
            return
        for session in self.sessions.values():
            if on:
                original = session._send

                async def counted(sender: Any, original: Any = original) -> None:
                    assert self.counted is not None
                    self.counted += 1
                    await original(sender)

                session._send = counted
            else:
                del session._send
        if on:
            self.counted = 0
        else:
            self.last_count, self.counted = self.counted, None

    def requests(self) -> int | None:
        return self.counted if self.counted is not None else self.last_count

    async def check(self, port: int, community: str, user: V3User) -> None:
        from ocrfleet_printer import oids

        session = await self._session(port, community, user)
        value = await session.get(oids.SYS_DESCR)
        if not isinstance(value, bytes):
            raise RuntimeError(f"no sysDescr: {value!r}")


class PysnmpContender(Contender):
    def __init__(self) -> None:
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

        self.library = f"pysnmp {version_of('pysnmp')} (v3arch asyncio, lookupMib=False)"
        self.engine = SnmpEngine()
        self.targets: dict[int, tuple[Any, Any]] = {}
        self.objects: dict[str, Any] = {}
        self.walker = Walker()
        self.sent = 0

    def _object(self, oid: str) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType

        found = self.objects.get(oid)
        if found is None:
            found = self.objects[oid] = ObjectType(ObjectIdentity(oid))
        return found

    def _auth(self, community: str, user: V3User | None) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import CommunityData, UsmUserData
        from pysnmp.hlapi.v3arch.asyncio import auth as usm

        if user is None:
            return CommunityData(community, mpModel=1)
        auth = {"SHA256": usm.USM_AUTH_HMAC192_SHA256}
        priv = {"AES": usm.USM_PRIV_CFB128_AES}
        return UsmUserData(
            user.name,
            authKey=AUTH_KEY,
            privKey=PRIV_KEY,
            authProtocol=auth[user.auth],
            privProtocol=priv[user.priv],
        )

    async def _target(self, port: int) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget

        return await UdpTransportTarget.create(
            ("127.0.0.1", port), timeout=TIMEOUT_SECONDS, retries=RETRIES
        )

    async def setup(self, printers: Sequence[Printer], version: str) -> None:
        user = None if version == "2c" else V3User(V3_USER, V3_AUTH, V3_PRIV)
        for p in printers:
            self.targets[p.index] = (self._auth(p.community, user), await self._target(p.port))

    async def poll(self, printer: Printer) -> Values:
        from pysnmp.hlapi.v3arch.asyncio import ContextData, bulk_cmd, get_cmd
        from pysnmp.proto.rfc1905 import EndOfMibView

        from ocrfleet_printer import oids

        auth, target = self.targets[printer.index]
        context = ContextData()
        self.sent += 1
        indication, status, _, binds = await get_cmd(
            self.engine,
            auth,
            target,
            context,
            *(self._object(oid) for oid in oids.SCALARS),
            lookupMib=False,
        )
        if indication or status:
            raise RuntimeError(f"GET: {indication or status}")
        values: Values = {str(name): _pysnmp_value(value) for name, value in binds}
        for root in oids.WALKED_TABLES:
            prefix = root + "."
            current = root
            found = 0
            reps = self.walker.repetitions(printer.index, root)
            while True:
                self.sent += 1
                indication, status, _, binds = await bulk_cmd(
                    self.engine,
                    auth,
                    target,
                    context,
                    0,
                    reps,
                    self._object(current),
                    lookupMib=False,
                )
                if indication or status:
                    raise RuntimeError(f"GETBULK: {indication or status}")
                progressed = False
                for name, value in binds:
                    oid = str(name)
                    if isinstance(value, EndOfMibView) or not oid.startswith(prefix):
                        break
                    values[oid] = _pysnmp_value(value)
                    found += 1
                    current = oid
                    progressed = True
                else:
                    if progressed:
                        continue
                break
            self.walker.sizes[printer.index, root] = found
        return values

    def requests(self) -> int | None:
        return self.sent

    async def check(self, port: int, community: str, user: V3User) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.engine.close_dispatcher()


def _pysnmp_value(value: Any) -> object:
    from pysnmp.proto.rfc1905 import NoSuchInstance, NoSuchObject

    if isinstance(value, (NoSuchObject, NoSuchInstance)):
        return None
    kind = type(value).__name__
    if kind == "IpAddress":
        return ".".join(str(b) for b in value.asOctets())
    if hasattr(value, "asOctets"):
        return bytes(value.asOctets())
    if kind in ("ObjectIdentifier", "ObjectName"):
        return str(value)
    return int(value)


def version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _digest(values: Values) -> str:
    # None is ocrfleet's "absent"; gufo leaves absent OIDs out of get_many.
    present = sorted((oid, repr(v)) for oid, v in values.items() if v is not None)
    return hashlib.sha256(repr(present).encode()).hexdigest()[:16]


def contender_main(
    conn: Connection,
    name: str,
    version_: str,
    printers: list[Printer],
    concurrency: int,
    ocrfleet_tree: str | None,
) -> None:
    quiet_interrupt()
    if ocrfleet_tree is not None:
        # Ahead of the editable install's finder, which comes after sys.path's.
        sys.path.insert(0, ocrfleet_tree)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    contender: Contender
    try:
        contender = {
            "ocrfleet": OcrfleetContender,
            "gufo": GufoContender,
            "pysnmp": PysnmpContender,
        }[name]()
        loop.run_until_complete(contender.setup(printers, version_))
    except Exception as exc:  # reported, not raised: the runner says which contender
        conn.send(Failed(f"{type(exc).__name__}: {exc}"))
        return
    conn.send(Ready(os.getpid()))
    last: dict[int, Values] = {}
    gate = asyncio.Semaphore(concurrency)

    async def poll_one(p: Printer, errors: dict[str, int]) -> None:
        async with gate:
            try:
                last[p.index] = await contender.poll(p)
            except Exception as exc:  # counted per type, as the poller does
                key = type(exc).__name__
                errors[key] = errors.get(key, 0) + 1

    async def poll_all() -> dict[str, int]:
        errors: dict[str, int] = {}
        await asyncio.gather(*(poll_one(p, errors) for p in printers))
        return errors

    async def check(users: tuple[V3User, ...]) -> dict[str, str]:
        results = {}
        for user in users:
            try:
                await asyncio.wait_for(
                    contender.check(printers[0].port, printers[0].community, user),
                    TIMEOUT_SECONDS * 3,
                )
                results[user.name] = "ok"
            except Exception as exc:  # the check's answer is the error itself
                results[user.name] = f"{type(exc).__name__}: {exc}"[:160]
        return results

    try:
        while True:
            command = conn.recv()
            if isinstance(command, PollCommand):
                last.clear()
                contender.count_requests(command.count_requests)
                before = contender.requests()
                t0, cpu0 = time.perf_counter(), time.process_time()
                errors = loop.run_until_complete(poll_all())
                cpu = time.process_time() - cpu0
                seconds = time.perf_counter() - t0
                after = contender.requests()
                requests = None if before is None or after is None else after - before
                if command.count_requests:
                    contender.count_requests(False)
                conn.send(PollDone(seconds, cpu, errors, requests))
            elif isinstance(command, DigestCommand):
                conn.send(
                    Digest(
                        sum(sum(1 for v in vs.values() if v is not None) for vs in last.values()),
                        {index: _digest(vs) for index, vs in last.items()},
                    )
                )
            elif isinstance(command, DescribeCommand):
                conn.send(Described(contender.library))
            elif isinstance(command, CheckCommand):
                conn.send(Checked(loop.run_until_complete(check(command.users))))
            elif isinstance(command, StopCommand):
                conn.send(None)
                return
            else:
                raise TypeError(f"unknown command {command!r}")
    finally:
        contender.close()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()


# -- the simulated printers ---------------------------------------------------


def v3_users(check_protocols: bool) -> list[V3User]:
    users = [V3User(V3_USER, V3_AUTH, V3_PRIV)]
    if check_protocols:
        users += [protocol_user(auth, priv) for auth, priv in PROTOCOL_PAIRS]
    return users


def snmp_agents(workdir: Path, groups: dict[str, list[int]], users: list[V3User]) -> SnmpAgents:
    """One snmpsim process per recording, each serving it on its printers' ports."""
    snmpsim_responder()  # fails early, with advice, without snmpsim
    user_args = []
    for user in users:
        user_args += [
            f"--v3-user={user.name}",
            f"--v3-auth-key={AUTH_KEY}",
            f"--v3-auth-proto={user.auth}",
            f"--v3-priv-key={PRIV_KEY}",
            f"--v3-priv-proto={user.priv}",
        ]
    processes = []
    for recording, ports in groups.items():
        data = workdir / recording / "data"
        data.mkdir(parents=True)
        shutil.copy(FIXTURES / f"{recording}.snmprec", data)
        launcher = [sys.executable, "-c", SNMPSIM_LAUNCHER]
        processes.append(
            agent_process(
                data,
                workdir / recording,
                ports,
                *user_args,
                program=launcher,
                log_level="error",  # at "info" it logs every request
            )
        )
    return SnmpAgents(processes)


# -- the run ------------------------------------------------------------------


@dataclass
class Phase:
    round: int
    contender: str
    cpu_seconds: float
    psutil_cpu_seconds: float  # the same process, read from outside around the command
    seconds: float
    values: int
    errors: dict[str, int]
    agents_cpu_seconds: float
    other_load: float  # cores busy with other programs meanwhile

    @property
    def quiet(self) -> bool:
        return self.other_load < QUIET_LOAD

    @property
    def us_per_value(self) -> float:
        return self.cpu_seconds / self.values * 1e6 if self.values else float("nan")


@dataclass
class VersionResult:
    version: str
    libraries: dict[str, str]
    requests: dict[str, int | None]
    warm_up_errors: dict[str, dict[str, int]]
    phases: list[Phase]
    mismatches: list[str]
    load_start: float
    load_end: float
    checks: dict[str, dict[str, str]]


def run_version(
    ctx: multiprocessing.context.SpawnContext,
    args: argparse.Namespace,
    printers: list[Printer],
    version_: str,
    agents: SnmpAgents,
) -> VersionResult:
    load_start = load_average()
    processes: dict[str, ContenderProcess] = {}
    libraries: dict[str, str] = {}
    try:
        for name in args.contenders:
            print(f"v{version_}: starting {name}", flush=True)
            tree = args.ocrfleet_tree if name == "ocrfleet" else None
            processes[name] = ContenderProcess(
                f"{name} v{version_}",
                ctx,
                contender_main,
                (name, version_, printers, args.concurrency, tree),
                start_seconds=START_SECONDS,
            )
            libraries[name] = processes[name].ask(DescribeCommand(), Described).library
        warm_up_errors: dict[str, dict[str, int]] = {}
        requests: dict[str, int | None] = {}
        for count in (False, True):
            for name, proc in processes.items():
                done = proc.ask(PollCommand(count_requests=count), PollDone)
                if done.errors:
                    warm_up_errors.setdefault(name, {}).update(done.errors)
                if count:
                    requests[name] = done.requests
        phases: list[Phase] = []
        mismatches: list[str] = []
        names = list(processes)
        for index in range(args.rounds):
            shift = index % len(names)
            order = names[shift:] + names[:shift]
            digests: dict[str, Digest] = {}
            line = []
            for name in order:
                proc = processes[name]
                cpu0, agents0 = cpu_seconds([proc.ps]), cpu_seconds(agents.processes)
                with OtherLoad([proc.ps, *agents.processes]) as load:
                    done = proc.ask(PollCommand(count_requests=False), PollDone)
                agents_cpu = cpu_seconds(agents.processes) - agents0
                # The process's own clock has nanoseconds; psutil's (ticks of
                # 10 ms) is kept as a cross-check.
                cpu, outside = done.cpu_seconds, cpu_seconds([proc.ps]) - cpu0
                digest = proc.ask(DigestCommand(), Digest)
                digests[name] = digest
                phase = Phase(
                    index + 1,
                    name,
                    cpu,
                    outside,
                    done.seconds,
                    digest.values,
                    done.errors,
                    agents_cpu,
                    load.cores,
                )
                phases.append(phase)
                line.append(f"{name} {phase.us_per_value:.1f} µs/value ({done.seconds:.1f} s)")
            reference = digests[names[0]]
            for name, digest in digests.items():
                if digest.per_printer != reference.per_printer:
                    differing = sorted(
                        i
                        for i in reference.per_printer.keys() | digest.per_printer.keys()
                        if reference.per_printer.get(i) != digest.per_printer.get(i)
                    )
                    mismatches.append(
                        f"round {index + 1}: {name} differs from {names[0]} on"
                        f" {len(differing)} printers, e.g. {differing[:3]}"
                    )
            print(f"v{version_} round {index + 1}/{args.rounds}: " + ", ".join(line), flush=True)
        checks: dict[str, dict[str, str]] = {}
        if args.check_protocols and version_ == "3":
            users = tuple(protocol_user(a, p) for a, p in PROTOCOL_PAIRS)
            for name in ("ocrfleet", "gufo"):
                if name in processes:
                    checks[name] = processes[name].ask(CheckCommand(users), Checked).results
        return VersionResult(
            version=version_,
            libraries=libraries,
            requests=requests,
            warm_up_errors=warm_up_errors,
            phases=phases,
            mismatches=mismatches,
            load_start=load_start,
            load_end=load_average(),
            checks=checks,
        )
    finally:
        for proc in processes.values():
            proc.close()


def summarise(result: VersionResult) -> dict[str, Any]:
    names = list(result.libraries)
    medians = {
        name: statistics.median(p.us_per_value for p in result.phases if p.contender == name)
        for name in names
    }
    rounds = sorted({p.round for p in result.phases})
    by = {(p.round, p.contender): p for p in result.phases}
    round_ratios = {
        name: statistics.median(
            by[r, name].us_per_value / by[r, "ocrfleet"].us_per_value for r in rounds
        )
        for name in names
        if "ocrfleet" in names
    }
    return {"us_per_value": medians, "median_round_ratio_to_ocrfleet": round_ratios}


def report(result: VersionResult, summary: dict[str, Any]) -> str:
    names = list(result.libraries)
    lines = [
        f"SNMP v{result.version}; 1-min load average {result.load_start:.2f} at start,"
        f" {result.load_end:.2f} at end",
        "",
        *table(
            ["contender", "library", "requests per round"],
            "llr",
            [[name, result.libraries[name], result.requests.get(name) or "?"] for name in names],
        ),
        "",
    ]
    rows = []
    for r in sorted({p.round for p in result.phases}):
        phases = [p for n in names for p in result.phases if p.round == r and p.contender == n]
        rows.append(
            [
                r,
                *(
                    f"{p.us_per_value:.1f} ({p.seconds:.1f} s)"
                    + ("" if p.quiet else f", busy {p.other_load:.2f}")
                    for p in phases
                ),
                " / ".join(f"{p.agents_cpu_seconds:.1f}" for p in phases) + " s",
            ]
        )
    lines += table(
        ["round", *(f"{n} µs/value (wall)" for n in names), "snmpsim CPU"],
        "r" * (len(names) + 2),
        rows,
    )
    base = summary["us_per_value"].get("ocrfleet")
    lines += [
        "",
        f"Values per round: {next((p.values for p in result.phases), 0):,}."
        f" busy N: other programs kept N cores busy meanwhile (quiet under {QUIET_LOAD}).",
        "",
        *table(
            [
                "contender",
                "CPU per value (median of rounds)",
                "ratio to ocrfleet",
                "median of per-round ratios",
            ],
            "lrrr",
            [
                [
                    name,
                    f"{summary['us_per_value'][name]:.1f} µs",
                    f"{summary['us_per_value'][name] / base:.2f}x" if base else "-",
                    f"{summary['median_round_ratio_to_ocrfleet'][name]:.2f}x" if base else "-",
                ]
                for name in names
            ],
        ),
    ]
    for name, errors in result.warm_up_errors.items():
        lines.append(f"warm-up errors, {name}: {errors}")
    for p in result.phases:
        if p.errors:
            lines.append(f"round {p.round} errors, {p.contender}: {p.errors}")
    lines += check_lines(
        {
            "every contender fetched the same values in every round": not result.mismatches,
            "no errors": not result.warm_up_errors and not any(p.errors for p in result.phases),
        }
    )
    lines += result.mismatches
    for name, checks in result.checks.items():
        lines += ["", f"v3 protocol check, {name}:"]
        lines += [f"  {user}: {outcome}" for user, outcome in checks.items()]
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--printers", type=int, default=100, help="printers (default 100)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument(
        "--concurrency", type=int, default=64, help="polls at once (the daemon's default, 64)"
    )
    parser.add_argument("--versions", default="2c,3", help="SNMP versions (default 2c,3)")
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help="default ocrfleet,gufo,pysnmp"
    )
    parser.add_argument(
        "--check-protocols",
        action="store_true",
        help="v3: also try one GET per auth/priv pair ocrfleet accepts, with ocrfleet and gufo",
    )
    parser.add_argument(
        "--ocrfleet-tree",
        default=None,
        help="import ocrfleet from this directory instead of the working tree (e.g. a"
        " `git archive HEAD ocrfleet` copy, when the working tree is mid-change)",
    )
    add_json_options(parser, "snmp_clients")
    args = parser.parse_args(argv)
    args.versions = [v for v in args.versions.split(",") if v]
    args.contenders = [c for c in args.contenders.split(",") if c]
    for v in args.versions:
        if v not in VERSIONS:
            parser.error(f"--versions: {v!r} is not one of {', '.join(VERSIONS)}")
    for c in args.contenders:
        if c not in CONTENDERS:
            parser.error(f"--contenders: {c!r} is not one of {', '.join(CONTENDERS)}")
    if "ocrfleet" in args.contenders:
        # The anchor comes first: ratios are to it.
        args.contenders.remove("ocrfleet")
        args.contenders.insert(0, "ocrfleet")
    for name in ("printers", "rounds", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if "gufo" in args.contenders and version_of("gufo-snmp") == "not installed":
        print(
            "gufo-snmp is not installed; it is in the `bench` extra:\n"
            "    .venv/bin/pip install -e '.[bench]'",
            file=sys.stderr,
        )
        return 2
    exit_on_sigterm()
    load_start = load_average()
    code = code_version()  # read before the run: the tree may change while it runs
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(
        f"{started}: code {code}, {args.printers} printers on {len(RECORDINGS)} snmpsim"
        f" processes, {args.rounds} rounds; load average {load_start:.2f}",
        flush=True,
    )
    ports = udp_ports(args.printers, random.Random())
    groups: dict[str, list[int]] = {}
    printers = []
    for index, port in enumerate(ports):
        recording = RECORDINGS[index % len(RECORDINGS)]
        printers.append(Printer(index, port, recording))
        groups.setdefault(recording, []).append(port)
    ctx = multiprocessing.get_context("spawn")
    results: list[tuple[VersionResult, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="snmp-clients-") as tmp:
        agents = snmp_agents(Path(tmp), groups, v3_users(args.check_protocols))
        try:
            agents.start()
            for version_ in args.versions:
                result = run_version(ctx, args, printers, version_, agents)
                results.append((result, summarise(result)))
        finally:
            agents.stop()
    ended = datetime.now(UTC).isoformat(timespec="seconds")
    host = machine(
        load_start,
        snmpsim=version_of("snmpsim"),
        pysnmp=version_of("pysnmp"),
        gufo_snmp=version_of("gufo-snmp"),
    )
    print()
    print(
        f"code {code}, {started} to {ended}; Python {host['python']}, {host['cpus']} CPUs,"
        f" 1-min load average {load_start:.2f} at start, {host['loadavg_1min_end']:.2f} at end;"
        f" snmpsim {host['snmpsim']}; {args.printers} printers, {args.concurrency} at once"
    )
    for result, summary in results:
        print()
        print(report(result, summary))
    write_results(
        args,
        "snmp_clients",
        {
            "started": started,
            "ended": ended,
            "code": code,
            "machine": host,
            "printers": args.printers,
            "agents": len(RECORDINGS),
            "concurrency": args.concurrency,
            "ocrfleet_tree": args.ocrfleet_tree,
            "versions": [
                {
                    **asdict(r),
                    "phases": [
                        {**asdict(p), "us_per_value": p.us_per_value, "quiet": p.quiet}
                        for p in r.phases
                    ],
                    "summary": s,
                }
                for r, s in results
            ],
        },
    )
    failed = any(
        r.mismatches or r.warm_up_errors or any(p.errors for p in r.phases) for r, _ in results
    )
    return 1 if failed else 0


if __name__ == "__main__":
    run_script(main)
