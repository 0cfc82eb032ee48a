"""SNMP agents for the demo: one snmpsim process serving every demo device.

Each device is a community (its recording's file name). Simulators change
values over time with SNMP SET on `writecache` entries, so the daemon polls
a living device through the real SNMP path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def community_of(site: str, device: str) -> str:
    return f"{site}--{device}"


def _responder() -> str:
    beside = Path(sys.executable).parent / "snmpsim-command-responder"
    found = str(beside) if beside.exists() else shutil.which("snmpsim-command-responder")
    if found is None:
        raise RuntimeError("snmpsim is not installed; the demo's printers and hotspots need it")
    return found


@contextlib.asynccontextmanager
async def snmp_agents(
    recordings: Mapping[str, str], state_dir: Path, port: int
) -> AsyncIterator[None]:
    """Serve `recordings` (community -> .snmprec text) on 127.0.0.1:port."""
    data = state_dir / "snmpsim" / "data"
    cache = state_dir / "snmpsim" / "cache"
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    data.mkdir(parents=True)
    cache.mkdir(parents=True)
    for community, text in recordings.items():
        (data / f"{community}.snmprec").write_text(text)
    log_file = state_dir / "snmpsim" / "snmpsim.log"
    args = [
        _responder(),
        f"--data-dir={data}",
        f"--cache-dir={cache}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        f"--logging-method=file:{log_file}",
    ]
    if os.geteuid() == 0:
        # snmpsim drops root for 'nobody', which cannot read a root-owned state dir.
        args += ["--process-user=root", "--process-group=root"]
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        await _wait_answering(port, next(iter(recordings)), process)
        log.info("demo SNMP agents: snmpsim on 127.0.0.1:%d (%d devices)", port, len(recordings))
        yield
    finally:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 5)
        except subprocess.TimeoutExpired:
            process.kill()


async def _wait_answering(port: int, community: str, process: subprocess.Popen[bytes]) -> None:
    writer = SnmpWriter(port, community)
    for _ in range(100):
        if process.poll() is not None:
            raise RuntimeError("snmpsim exited at start-up; see snmpsim.log in the demo state dir")
        if await writer.answers():
            return
    raise RuntimeError("snmpsim did not start answering")


@dataclass(frozen=True)
class Value:
    """A typed SNMP value to SET: kind is int, gauge, counter, ticks or octets."""

    kind: str
    value: int | bytes

    def encode(self) -> object:
        from pysnmp.hlapi.v3arch.asyncio import Counter32, Gauge32, Integer, OctetString, TimeTicks

        if self.kind == "octets":
            return OctetString(self.value)
        number = int(self.value)
        return {"int": Integer, "gauge": Gauge32, "counter": Counter32, "ticks": TimeTicks}[
            self.kind
        ](number)


class SnmpWriter:
    """SETs values on one demo device's writecache entries."""

    def __init__(self, port: int, community: str) -> None:
        # pysnmp is imported here, not at the top: only a demo with SNMP
        # devices needs it.
        from pysnmp.hlapi.v3arch.asyncio import CommunityData, SnmpEngine

        self._port = port
        self._auth = CommunityData(community, mpModel=1)
        self._engine = SnmpEngine()
        self._target: Any = None

    @classmethod
    async def open(cls, port: int, community: str) -> SnmpWriter:
        """A writer whose pysnmp engine is ready, built off the event loop.

        pysnmp builds a MIB view and compiler per engine on the first request
        (most of a second); on the event loop that would stall the daemon.
        """
        return await asyncio.to_thread(cls._prepared, port, community)

    @classmethod
    def _prepared(cls, port: int, community: str) -> SnmpWriter:
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType
        from pysnmp.hlapi.varbinds import CommandGeneratorVarBinds

        writer = cls(port, community)
        probe = ObjectType(ObjectIdentity("1.3.6.1.2.1.1.3.0"))
        CommandGeneratorVarBinds().make_varbinds(writer._engine.cache, (probe,))
        return writer

    async def _transport(self) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget

        if self._target is None:
            self._target = await UdpTransportTarget.create(
                ("127.0.0.1", self._port), timeout=1, retries=2
            )
        return self._target

    async def set(self, values: Mapping[str, Value]) -> bool:
        from pysnmp.hlapi.v3arch.asyncio import ContextData, ObjectIdentity, ObjectType, set_cmd

        indication, status, _, _ = await set_cmd(
            self._engine,
            self._auth,
            await self._transport(),
            ContextData(),
            *(ObjectType(ObjectIdentity(oid), v.encode()) for oid, v in values.items()),
            lookupMib=False,
        )
        if indication or status:
            log.warning("demo SNMP SET failed: %s", indication or status.prettyPrint())
            return False
        return True

    async def answers(self) -> bool:
        from pysnmp.hlapi.v3arch.asyncio import (
            ContextData,
            ObjectIdentity,
            ObjectType,
            UdpTransportTarget,
            get_cmd,
        )

        target = await UdpTransportTarget.create(("127.0.0.1", self._port), timeout=0.2, retries=0)
        indication, _, _, _ = await get_cmd(
            self._engine,
            self._auth,
            target,
            ContextData(),
            ObjectType(ObjectIdentity("1.3.6.1.2.1.1.1.0")),
            lookupMib=False,
        )
        return not indication

    def close(self) -> None:
        self._engine.close_dispatcher()
