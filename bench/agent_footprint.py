"""The PC agent's footprint: installed size, RSS and CPU time, on a fresh venv.

1. A new venv in a temp dir; `pip install` of this checkout's `agent/` (with
   its two dependencies, paho-mqtt and psutil, from the package index).
2. Installed size: everything under that venv's site-packages, less what
   every venv brings (pip, setuptools, _distutils_hack, pkg_resources), and
   the whole venv for comparison.
3. `ocrfleet-agent run` at its defaults (60 s health interval, `logged-in`
   sessions) against a real Mosquitto on 127.0.0.1, for `--minutes` (10).
   RSS is read at the end; CPU time is the process's user + system time,
   scaled to an hour, both over the whole run and after start-up (imports
   and the first connect are paid once per boot, not per hour).

A subscriber counts the health reports, so a figure from an agent that never
reported is not printed as a success.

Run: .venv/bin/python bench/agent_footprint.py [--minutes 10] [--sessions input] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import paho.mqtt.client as paho
import psutil
from harness import ROOT
from harness.processes import stop_program
from harness.signals import exit_on_sigterm
from paho.mqtt.enums import CallbackAPIVersion

from devpeers.mosquitto import Mosquitto

MB = 1_000_000
TARGET_INSTALLED_MB = 20.0
TARGET_RSS_MB = 30.0
TARGET_CPU_PER_HOUR = 1.0
# What `python -m venv` puts into every venv, whatever is installed after.
VENV_BASELINE = ("pip", "setuptools", "_distutils_hack", "pkg_resources", "distutils-precedence")
# Start-up is over once the first health report has arrived and this much
# more has passed: the first reconnect and re-send have run by then.
SETTLE_SECONDS = 10.0


@dataclass(frozen=True)
class Sizes:
    agent_and_deps: int
    site_packages: int
    venv_total: int
    packages: dict[str, int]


@dataclass(frozen=True)
class RunFigures:
    seconds: float
    rss: int
    uss: int
    cpu_total: float
    cpu_steady: float
    steady_seconds: float
    health_reports: int
    exit_code: int | None


def tree_size(path: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            file = Path(folder) / name
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages")) or sorted(
        venv.glob("Lib/site-packages")
    )
    if not found:
        raise RuntimeError(f"no site-packages in {venv}")
    return found[0]


def build_venv(venv: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bindir / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    # A regular (not editable) install, what a PC gets from a wheel, built from
    # a copy: setuptools would leave build/ and egg-info behind in the checkout.
    source = venv.parent / "agent-src"
    shutil.copytree(
        ROOT / "agent", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    subprocess.run([*pip, "install", str(source)], check=True)
    return bindir / "ocrfleet-agent"


def measure_sizes(venv: Path) -> Sizes:
    site = site_packages(venv)
    packages: dict[str, int] = {}
    for entry in site.iterdir():
        size = tree_size(entry) if entry.is_dir() else entry.stat().st_size
        packages[entry.name] = size
    baseline = sum(
        size
        for name, size in packages.items()
        if name.split("-")[0].split(".")[0] in VENV_BASELINE or name.startswith(VENV_BASELINE)
    )
    total_site = sum(packages.values())
    return Sizes(total_site - baseline, total_site, tree_size(venv), packages)


class HealthCounter:
    def __init__(self, host: str, port: int, topic: str) -> None:
        self.count = 0
        self.first = threading.Event()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id="footprint-counter")
        self._client.on_connect = lambda c, *_: c.subscribe(topic, qos=0)
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.loop_start()

    def _on_message(self, *_: object) -> None:
        self.count += 1
        self.first.set()

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def cpu_seconds(process: psutil.Process) -> float:
    """User + system time, with that of finished children (loginctl for --sessions input)."""
    times = process.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


def run_agent(agent: Path, workdir: Path, minutes: float, sessions: str) -> RunFigures:
    broker = Mosquitto(workdir / "broker")
    broker.start()
    counter = HealthCounter(broker.host, broker.port, "bench/footprint/+/health")
    command = [
        str(agent),
        "--log-level",
        "WARNING",
        "run",
        "--site",
        "footprint",
        "--device",
        "pc01",
        "--topic-root",
        "bench",
        "--broker",
        broker.host,
        "--port",
        str(broker.port),
        "--journal",
        str(workdir / "journal.json"),
        "--sessions",
        sessions,
    ]
    started = time.monotonic()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    try:
        process = psutil.Process(child.pid)
        if not counter.first.wait(60):
            raise RuntimeError("the agent sent no health report within 60 s")
        settle_until = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < settle_until and child.poll() is None:
            time.sleep(0.5)
        steady_from, cpu_from = time.monotonic(), cpu_seconds(process)
        end = started + minutes * 60
        while time.monotonic() < end and child.poll() is None:
            time.sleep(min(5.0, max(0.0, end - time.monotonic())))
        if child.poll() is not None:
            raise RuntimeError(f"the agent exited early with {child.returncode}")
        now = time.monotonic()
        rss = int(process.memory_info().rss)
        # USS: the pages only this process holds; RSS also counts shared libraries.
        uss = int(process.memory_full_info().uss)
        cpu_total = cpu_seconds(process)
        figures = RunFigures(
            seconds=now - started,
            rss=rss,
            uss=uss,
            cpu_total=cpu_total,
            cpu_steady=cpu_total - cpu_from,
            steady_seconds=now - steady_from,
            health_reports=counter.count,
            exit_code=None,
        )
    finally:
        # SIGTERM, as systemd or Windows' service stop would; its exit code is reported.
        stop_program(child, timeout=30)
        counter.close()
        broker.stop()
    return replace(figures, exit_code=child.returncode)


def verdict(value: float, target: float) -> str:
    return "yes" if value <= target else "**no**"


def report(sizes: Sizes, run: RunFigures, minutes: float) -> str:
    per_hour_total = run.cpu_total / run.seconds * 3600
    per_hour_steady = run.cpu_steady / run.steady_seconds * 3600
    rows = [
        (
            "Installed: agent + paho-mqtt + psutil",
            sizes.agent_and_deps / MB,
            "MB",
            TARGET_INSTALLED_MB,
        ),
        (
            "Installed: whole site-packages (with pip, setuptools)",
            sizes.site_packages / MB,
            "MB",
            None,
        ),
        ("Installed: whole venv", sizes.venv_total / MB, "MB", None),
        (f"RSS after {minutes:g} min", run.rss / MB, "MB", TARGET_RSS_MB),
        (f"USS after {minutes:g} min (memory only this process holds)", run.uss / MB, "MB", None),
        ("CPU per hour, after start-up", per_hour_steady, "s", TARGET_CPU_PER_HOUR),
        (f"CPU per hour, whole {minutes:g} min incl. start-up", per_hour_total, "s", None),
    ]
    lines = ["| Measure | Value | Target | Met |", "|---|---:|---:|---|"]
    for name, value, unit, target in rows:
        target_text = f"≤ {target:g} {unit}" if target is not None else ""
        met = verdict(value, target) if target is not None else ""
        lines.append(f"| {name} | {value:.2f} {unit} | {target_text} | {met} |")
    biggest = sorted(sizes.packages.items(), key=lambda item: -item[1])[:6]
    lines += [
        "",
        f"Run: {run.seconds:.0f} s, {run.health_reports} health reports received, "
        f"CPU {run.cpu_total:.2f} s in all ({run.cpu_steady:.2f} s after start-up), "
        f"exit code {run.exit_code} after SIGTERM.",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"psutil {psutil.__version__}.",
        "Largest entries in site-packages: "
        + ", ".join(f"{name} {size / MB:.1f} MB" for name, size in biggest)
        + ".",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the agent runs")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (venv, logs)")
    parser.add_argument(
        "--sessions",
        default="logged-in",
        choices=("logged-in", "input", "external"),
        help="the agent's session source (default: logged-in, the agent's default)",
    )
    args = parser.parse_args(argv)
    exit_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="ocrfleet-agent-footprint-"))
    try:
        agent = build_venv(workdir / "venv")
        sizes = measure_sizes(workdir / "venv")
        figures = run_agent(agent, workdir, args.minutes, args.sessions)
        print(f"`ocrfleet-agent run --sessions {args.sessions}`, default 60 s interval\n")
        print(report(sizes, figures, args.minutes))
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
