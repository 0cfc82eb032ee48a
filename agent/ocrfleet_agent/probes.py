"""What the agent measures on the PC it runs on (psutil, plus OS-specific checks)."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from ocrfleet_agent import __version__
from ocrfleet_agent.payloads import Health, InternetReport

log = logging.getLogger(__name__)

AGENT_VERSION = __version__

# Deep Freeze's command-line control: `DFC get /ISFROZEN` exits with 1 when
# the machine is frozen and 0 when thawed.
_DEEP_FREEZE_CANDIDATES = (
    r"C:\Windows\SysWOW64\DFC.exe",
    r"C:\Windows\System32\DFC.exe",
)


_OVERLAY_CONFIGS = ("/etc/overlayroot.conf", "/etc/overlayroot.local.conf", "/etc/fsprotect")


def system_disk() -> str:
    if sys.platform == "win32":
        return os.environ.get("SYSTEMDRIVE", "C:") + "\\"
    return "/"


def os_description() -> str:
    if sys.platform == "win32":
        version = platform.version()
        release = platform.release()
        # Python before 3.12 calls Windows 11 "10"; build 22000 is where 11 begins.
        build = version.split(".")[-1]
        if release == "10" and build.isdigit() and int(build) >= 22000:
            release = "11"
        return f"Windows {release} ({version})"
    try:
        release = platform.freedesktop_os_release()
        return release.get("PRETTY_NAME", f"{platform.system()} {platform.release()}")
    except OSError:
        return f"{platform.system()} {platform.release()}"


def deep_freeze_state() -> bool | None:
    for candidate in _DEEP_FREEZE_CANDIDATES:
        if Path(candidate).exists():
            try:
                result = subprocess.run(
                    [candidate, "get", "/ISFROZEN"], capture_output=True, timeout=10
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                log.warning("Deep Freeze query failed: %s", exc)
                return None
            return {1: True, 0: False}.get(result.returncode)
    return None


def overlay_root_state() -> bool | None:
    """Linux restore setups (overlayroot, fsprotect) mount / as an overlay.

    Without such a setup installed there is nothing to be frozen: unknown,
    as on a Windows PC without Deep Freeze.
    """
    for partition in psutil.disk_partitions(all=True):
        if partition.mountpoint == "/" and partition.fstype in ("overlay", "overlayfs", "aufs"):
            return True
    if any(Path(p).exists() for p in _OVERLAY_CONFIGS):
        return False  # installed, but / is not protected: thawed
    return None


def frozen_state() -> bool | None:
    if sys.platform == "win32":
        return deep_freeze_state()
    if sys.platform.startswith("linux"):
        return overlay_root_state()
    return None


def eid_reader_present() -> bool | None:
    """Whether a PC/SC smart-card reader is attached; None without pyscard."""
    try:
        from smartcard.System import readers
    except ImportError:
        return None
    try:
        return len(readers()) > 0
    except Exception:
        # No PC/SC service running: nothing can be said.
        return None


def logged_in_count() -> int:
    """How many interactive sessions are open. Names are read by psutil but never kept."""
    return len(psutil.users())


class HealthProbe:
    def __init__(
        self,
        disk: str | None = None,
        internet: Callable[[], InternetReport | None] | None = None,
    ) -> None:
        self._disk = disk or system_disk()
        # The last internet check (InternetChecker.latest): read, never waited for.
        self._internet = internet
        psutil.cpu_percent(interval=None)  # primes the counter; the first call returns 0

    def read(self) -> Health:
        memory = psutil.virtual_memory()
        try:
            disk_free = shutil.disk_usage(self._disk).free
        except OSError:
            disk_free = 0
        return Health(
            ts=time.time(),
            cpu_ratio=min(1.0, psutil.cpu_percent(interval=None) / 100.0),
            memory_used_ratio=min(1.0, memory.percent / 100.0),
            disk_free_bytes=disk_free,
            uptime_seconds=max(0.0, time.time() - psutil.boot_time()),
            os=os_description()[:200],
            agent_version=AGENT_VERSION,
            frozen=frozen_state(),
            eid_reader_present=eid_reader_present(),
            internet=self._internet() if self._internet is not None else None,
        )


__all__ = ["AGENT_VERSION", "HealthProbe", "logged_in_count"]
