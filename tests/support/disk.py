"""Real disk faults for the store's tests: a small tmpfs to fill, a read-only view."""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` at `path` (root only: CI runs as root; skipped elsewhere)."""
    path.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield path
    finally:
        # Lazy: a daemon thread that outlived its test may still hold a file.
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the file system is full; returns it (delete it to free the space)."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    # Smaller writes take the last partial chunk too.
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 512)
    return filler


@contextlib.contextmanager
def read_only_view(directory: Path) -> Iterator[None]:
    """Make `directory` read-only for every file opened from now on.

    A read-only remount of the whole tmpfs is refused while the daemon holds
    files open for writing ("mount point is busy"), so a read-only bind mount
    of the directory goes over it: connections opened from now on (the store
    writer opens a fresh one after each failure) can only read.
    """
    done = _mount("--bind", "-o", "ro", str(directory), str(directory))
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount read-only: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True)
