"""snmpsim agents on loopback serving .snmprec recordings, for tests, demo checks and benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.mosquitto import free_port


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _responder() -> list[str]:
    found = Path(sys.executable).parent / "snmpsim-command-responder"
    if found.exists():
        return [str(found)]
    which = shutil.which("snmpsim-command-responder")
    if which is None:
        raise RuntimeError("snmpsim is not installed (make test installs it)")
    return [which]


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
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "snmpsim.log"

    def start(self, timeout: float = 20.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cache = self.workdir / "cache"
        cache.mkdir(exist_ok=True)
        args = [
            *_responder(),
            f"--data-dir={self.data_dir}",
            f"--cache-dir={cache}",
            f"--agent-udpv4-endpoint=127.0.0.1:{self.port}",
            # As root it would drop to 'nobody', which cannot read our temp dirs.
            *(["--process-user=root", "--process-group=root"] if os.geteuid() == 0 else []),
            f"--logging-method=file:{self.log_path}",
        ]
        user, auth_key, auth_proto, priv_key, priv_proto = self._v3
        if user:
            args += [f"--v3-user={user}"]
            if auth_key:
                args += [f"--v3-auth-key={auth_key}", f"--v3-auth-proto={auth_proto}"]
            if priv_key:
                args += [f"--v3-priv-key={priv_key}", f"--v3-priv-proto={priv_proto}"]
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                errors = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"snmpsim exited: {errors}\n{self._log()}")
            if "Listening at" in self._log() or "listening" in self._log().lower():
                time.sleep(0.2)
                return
            time.sleep(0.1)
        raise RuntimeError(f"snmpsim did not start: {self._log()}")

    def _log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> SnmpSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


__all__ = ["SnmpSimulator", "free_port", "free_udp_port"]
