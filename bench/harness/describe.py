"""What was measured, and on what: the commit, the machine, programs' versions."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from typing import Any

from harness import ROOT

# What the daemon runs: a change elsewhere (docs, tests, bench/) does not make a run "dirty".
DAEMON_PATHS = ("ocrfleet", "plugins", "pyproject.toml")


def code_version(paths: Sequence[str] = DAEMON_PATHS) -> str:
    """The commit measured, `+dirty` when `paths` differ from it. Read it before the run."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--", *paths],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "?"
    return f"{commit or '?'}{'+dirty' if changes else ''}"


def code_state() -> tuple[str, list[str]]:
    """The commit measured, `+dirty` when any tracked file differs from it, and which."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        return "?", []
    changed = [line[3:] for line in status if line.strip()]
    return f"{commit or '?'}{'+dirty' if changed else ''}", changed


def program_version(command: Sequence[str]) -> str:
    """The first line a program prints for `command` (e.g. `X --version`), "?" if none."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "?"
    first = (done.stdout or done.stderr).splitlines()
    return first[0].strip() if first else "?"


def machine(load_start: float, **versions: str) -> dict[str, Any]:
    """The results' "machine": CPUs, platform, Python, `versions`, 1-min load at start and now."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **versions,
        "loadavg_1min_start": load_start,
        "loadavg_1min_end": os.getloadavg()[0],
    }


def load_average() -> float:
    """The 1-minute load average, as printed at a run's start and end."""
    return os.getloadavg()[0]
