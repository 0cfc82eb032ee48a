"""Where the journal lives, and whether restore software will wipe it.

Public PCs are often restored at every reboot: Deep Freeze on Windows brings
the system drive back to its frozen image; overlayroot or fsprotect on Linux
mount / as an overlay whose changes live in RAM. A journal there survives an
agent crash but not a reboot, and a reboot is exactly when events are still
waiting for the daemon. A Deep Freeze thawspace (a persistent virtual drive,
say T:) or a persistent mount outside the overlay keeps it (docs/agent.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path, PureWindowsPath
from typing import Protocol

# File systems whose contents are gone after a reboot: RAM, or an overlay
# whose upper layer is in RAM (overlayroot's default, fsprotect's aufs).
VOLATILE_FILESYSTEMS = frozenset({"overlay", "overlayfs", "tmpfs", "aufs", "ramfs"})


class Mount(Protocol):
    @property
    def mountpoint(self) -> str: ...

    @property
    def fstype(self) -> str: ...


def default_journal_path() -> Path:
    if sys.platform == "win32":
        base = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        return Path(base) / "ocrfleet-agent" / "journal.json"
    return Path("/var/lib/ocrfleet-agent/journal.json")


def _partitions() -> list[Mount]:
    import psutil

    return list(psutil.disk_partitions(all=True))


def mount_of(path: Path, mounts: Iterable[Mount]) -> Mount | None:
    """The mount holding `path`: the one with the longest mountpoint that contains it."""
    target = path.resolve()
    best: Mount | None = None
    for mount in mounts:
        point = Path(mount.mountpoint)
        if target.is_relative_to(point) and (
            best is None or len(point.parts) > len(Path(best.mountpoint).parts)
        ):
            best = mount
    return best


def journal_warning(
    path: Path,
    *,
    platform: str = sys.platform,
    mounts: Callable[[], Iterable[Mount]] = _partitions,
    frozen: Callable[[], bool | None] | None = None,
    system_drive: str | None = None,
) -> str | None:
    """What the agent cannot guarantee with its journal at `path`, or None."""
    if platform == "win32":
        return _windows_warning(path, frozen, system_drive)
    if platform.startswith("linux"):
        mount = mount_of(path, mounts())
        if mount is not None and mount.fstype.lower() in VOLATILE_FILESYSTEMS:
            return (
                f"the journal {path} is on {mount.fstype} ({mount.mountpoint}), which a "
                "reboot empties: session events the daemon has not acknowledged yet are "
                "lost at a reboot. Put it on a persistent mount (docs/agent.md)."
            )
    return None


def _windows_warning(
    path: Path, frozen: Callable[[], bool | None] | None, system_drive: str | None
) -> str | None:
    if frozen is None:
        from ocrfleet_agent.probes import deep_freeze_state

        frozen = deep_freeze_state
    if sys.platform == "win32":
        path = path.resolve()
    drive = PureWindowsPath(str(path)).drive.upper()
    system = (system_drive or os.environ.get("SYSTEMDRIVE", "C:")).upper()
    if drive != system or frozen() is not True:
        return None
    return (
        f"Deep Freeze is frozen and the journal {path} is on the system drive {system}, "
        "which it restores at every reboot: session events the daemon has not "
        "acknowledged yet are lost at a reboot. Put the journal on a thawspace, "
        r"e.g. --journal T:\ocrfleet-agent\journal.json (docs/agent.md)."
    )


def journal_location_problem(path: Path) -> str | None:
    """Why the journal cannot be kept at `path`, found without writing anything."""
    if path.is_dir():
        return f"the journal {path} is a folder; give a file name"
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            return f"the journal {path} cannot be read and written by this user"
        return None
    # The agent creates the missing folders: the nearest existing one must allow it.
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"cannot create the journal {path}: {folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot create the journal {path}: {folder} is not writable by this user"
    return None


def journal_summary(path: Path) -> str:
    """What the journal at `path` holds, read without changing it (the agent may be running)."""
    import json

    from ocrfleet_agent.journal import FORMAT

    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return "no journal yet (the agent writes it at its first start)"
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    except ValueError:
        return "damaged (not JSON): the agent keeps it aside and starts a new stream"
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return f"not a format {FORMAT} journal: the agent keeps it aside and starts a new stream"
    pending = data.get("pending")
    count = len(pending) if isinstance(pending, list) else 0
    session = "a session open" if data.get("open") else "no session open"
    return (
        f"{count} event{'s' if count != 1 else ''} not yet acknowledged by the daemon, "
        f"{session}, stream {data.get('stream')}"
    )
