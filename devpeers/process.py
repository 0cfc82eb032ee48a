"""Programs run as child processes: found, started logging to a file, stopped, their logs read.

The one implementation for every peer (Mosquitto, snmpsim, Prometheus,
VictoriaMetrics, the region's daemons) and for bench/harness.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# Debian puts daemons such as mosquitto in sbin, which a non-root PATH may lack.
_SYSTEM_BIN = (Path("/usr/bin"), Path("/usr/sbin"))


def installed_program(name: str, package: str, install: str = "apt-get install") -> str:
    """The path of program `name`, or an error saying how to install `package`.

    Looks beside the running Python first (a venv's console scripts, e.g.
    snmpsim's), then on PATH, then in /usr/bin and /usr/sbin.
    """
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is not None:
        return found
    for directory in _SYSTEM_BIN:
        if (directory / name).exists():
            return str(directory / name)
    raise RuntimeError(f"{name} is not installed ({install} {package})")


def spawn_logged(
    args: Sequence[str],
    log_path: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `args` with stdout and stderr into `log_path`; its own session, so a
    Ctrl-C meant for the caller does not stop it before the caller's cleanup does."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            list(args),
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process(
    process: subprocess.Popen[bytes], timeout: float = 15.0, sig: int = signal.SIGTERM
) -> int:
    """Send `sig` (SIGTERM) if still running, SIGKILL after `timeout`; its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log, for an error message; "" when it cannot be read."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
