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
from pathlib import Path

from ocrfleet.snmp.setter import SnmpWriter

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
