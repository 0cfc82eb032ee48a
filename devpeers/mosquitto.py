"""A real Mosquitto broker on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import getpass
import signal
import socket
import subprocess
import time
from pathlib import Path

from devpeers.process import installed_program, log_tail, spawn_logged, stop_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mosquitto_binary() -> str:
    return installed_program("mosquitto", "mosquitto")


class Mosquitto:
    """Start, stop and restart a broker that keeps its port and its persistence file."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        extra_config: str = "",
        preamble: str = "",
        persistence: bool = True,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self._extra = extra_config
        self._preamble = preamble
        self._persistence = persistence
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "mosquitto.log"

    def _write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            self._preamble + f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"persistence {'true' if self._persistence else 'false'}\n"
            f"persistence_location {self.workdir}/\n"
            # Bounded, so sessions left behind cannot grow the broker forever.
            "max_queued_messages 100000\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            f"log_dest file {self.log_path}\n"
            # Run as root, Mosquitto drops to user "mosquitto", which cannot
            # write the persistence file into our private temp dir.
            f"user {getpass.getuser()}\n" + self._extra
        )
        return conf

    def start(self) -> None:
        conf = self._write_config()
        # What it says before its log file is open (a bad config) goes here.
        output = self.workdir / "mosquitto.out"
        self._process = spawn_logged([mosquitto_binary(), "-c", str(conf)], output)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {log_tail(output)}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._process is None:
            return
        stop_process(self._process, sig=sig)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
