"""snmpsim agents on loopback serving .snmprec recordings, for tests, demo checks and benchmarks."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from devpeers.mosquitto import free_port
from devpeers.process import installed_program, log_tail, spawn_logged, stop_process

# Below the kernel's ephemeral range no client socket of another program can
# take a port between our check and snmpsim's bind.
LOWEST_PORT = 10_000


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def udp_ports(count: int, rng: random.Random) -> list[int]:
    """`count` free loopback UDP ports below the ephemeral range, from a random place of it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    if low - LOWEST_PORT < count * 2:
        raise RuntimeError(f"not enough ports between {LOWEST_PORT} and {low} for {count} agents")
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


def snmpsim_responder() -> str:
    """snmpsim's agent program, from the venv (`make test` installs it) or PATH."""
    return installed_program("snmpsim-command-responder", "snmpsim", install="pip install")


@dataclass(frozen=True)
class AgentProcess:
    """How to start one snmpsim process: its command line, the ports it serves, its workdir."""

    args: list[str]
    ports: list[int]
    workdir: Path

    @property
    def log_path(self) -> Path:
        """snmpsim's own log (--logging-method)."""
        return self.workdir / "snmpsim.log"

    @property
    def output_path(self) -> Path:
        """What the process writes to stdout and stderr, e.g. a traceback at start-up."""
        return self.workdir / "output.log"


def agent_process(
    data_dir: Path,
    workdir: Path,
    ports: Sequence[int],
    *extra: str,
    program: Sequence[str] = (),
    log_level: str = "",
) -> AgentProcess:
    """An snmpsim process serving the recordings in `data_dir` on every port in `ports`.

    `extra`: further options (e.g. --v3-user); `program`: the command that runs
    snmpsim's responder, by default its installed program.
    """
    cache = workdir / "cache"
    log = workdir / "snmpsim.log"
    args = [
        *(program or [snmpsim_responder()]),
        f"--data-dir={data_dir}",
        f"--cache-dir={cache}",
        *([f"--log-level={log_level}"] if log_level else []),
        f"--logging-method=file:{log}",
        # As root it would drop to 'nobody', which cannot read our temp dirs.
        *(["--process-user=root", "--process-group=root"] if os.geteuid() == 0 else []),
        *extra,
        *(f"--agent-udpv4-endpoint=127.0.0.1:{port}" for port in ports),
    ]
    return AgentProcess(args, list(ports), workdir)


def _bound_udp_ports(process: psutil.Process) -> set[int]:
    return {c.laddr.port for c in process.net_connections(kind="udp4") if c.laddr}


class SnmpAgents:
    """snmpsim processes started side by side; ready once each has bound all its ports.

    A bound port is ready: a request sent before snmpsim's loop runs waits in
    the socket's buffer. Its log's "listening" line comes per endpoint, so
    with many ports it says nothing about the rest.
    """

    def __init__(self, processes: Sequence[AgentProcess]) -> None:
        self._specs = list(processes)
        self._popen: list[subprocess.Popen[bytes]] = []
        self.processes: list[psutil.Process] = []

    def start(self, timeout: float = 180.0) -> None:
        self.processes = []
        for spec in self._specs:
            (spec.workdir / "cache").mkdir(parents=True, exist_ok=True)
            self._popen.append(spawn_logged(spec.args, spec.output_path))
            self.processes.append(psutil.Process(self._popen[-1].pid))
        deadline = time.monotonic() + timeout
        waiting = set(range(len(self._specs)))
        try:
            while waiting:
                for number in sorted(waiting):
                    spec, popen = self._specs[number], self._popen[number]
                    if popen.poll() is not None:
                        raise RuntimeError(
                            f"snmpsim {spec.workdir.name} exited with {popen.returncode}:"
                            f"\n{log_tail(spec.log_path)}\n{log_tail(spec.output_path)}"
                        )
                    if set(spec.ports) <= _bound_udp_ports(self.processes[number]):
                        waiting.discard(number)
                if waiting and time.monotonic() > deadline:
                    names = [self._specs[number].workdir.name for number in sorted(waiting)]
                    raise RuntimeError(f"snmpsim {names} did not bind their ports in {timeout} s")
                if waiting:
                    time.sleep(0.1)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        # All told first, so they stop side by side.
        for popen in self._popen:
            if popen.poll() is None:
                popen.terminate()
        for popen in self._popen:
            stop_process(popen)
        self._popen.clear()


class SnmpSimulator:
    """One snmpsim process; each `<community>.snmprec` in data_dir is an agent.

    v3: pass v3_user etc.; snmpsim then also answers SNMPv3 for that user,
    with the recording chosen by context name = community (file stem).
    """

    def __init__(
        self,
        data_dir: Path,
        workdir: Path,
        port: int | None = None,
        v3_user: str | None = None,
        v3_auth_key: str | None = None,
        v3_auth_proto: str = "SHA256",
        v3_priv_key: str | None = None,
        v3_priv_proto: str = "AES",
    ) -> None:
        self.data_dir = data_dir
        self.workdir = workdir
        self.port = port or free_udp_port()
        self._v3 = (v3_user, v3_auth_key, v3_auth_proto, v3_priv_key, v3_priv_proto)
        self._agents: SnmpAgents | None = None
        self.log_path = workdir / "snmpsim.log"

    def _v3_args(self) -> list[str]:
        user, auth_key, auth_proto, priv_key, priv_proto = self._v3
        if not user:
            return []
        args = [f"--v3-user={user}"]
        if auth_key:
            args += [f"--v3-auth-key={auth_key}", f"--v3-auth-proto={auth_proto}"]
        if priv_key:
            args += [f"--v3-priv-key={priv_key}", f"--v3-priv-proto={priv_proto}"]
        return args

    def start(self, timeout: float = 20.0) -> None:
        spec = agent_process(self.data_dir, self.workdir, [self.port], *self._v3_args())
        self._agents = SnmpAgents([spec])
        self._agents.start(timeout)

    def __enter__(self) -> SnmpSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._agents is None:
            return
        self._agents.stop()
        self._agents = None


__all__ = [
    "LOWEST_PORT",
    "AgentProcess",
    "SnmpAgents",
    "SnmpSimulator",
    "agent_process",
    "free_port",
    "free_udp_port",
    "snmpsim_responder",
    "udp_ports",
]
