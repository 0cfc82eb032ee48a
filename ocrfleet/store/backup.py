"""Copies of the store taken while the daemon runs, their checks, and restoring one.

A backup is made with SQLite's online backup API, which copies a consistent
snapshot while other connections keep writing. It is written to a hidden
temporary file, flushed to disk and renamed into place, so a backup that
exists is always whole. Its name carries the store's name and the UTC time
it was taken (`ocrfleet-20260302T140000Z.sqlite`).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ocrfleet.store.connections import StoreConnections, StoreError, store_errors

_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True, slots=True)
class BackupFile:
    path: Path
    taken_at: datetime
    size: int


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_STAMP)


def list_backups(store: Path, directory: Path) -> list[BackupFile]:
    """The store's backups in `directory`, oldest first."""
    pattern = re.compile(rf"^{re.escape(store.stem)}-(\d{{8}}T\d{{6}}Z)\.sqlite$")
    found = []
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"{directory}: cannot list backups: {exc}") from exc
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None:
            continue
        taken_at = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
        try:
            size = entry.stat().st_size
        except OSError:
            continue  # pruned meanwhile
        found.append(BackupFile(entry, taken_at, size))
    return sorted(found, key=lambda backup: backup.taken_at)


def take_backup(
    store: StoreConnections, directory: Path, at: datetime, kept: int = 0
) -> BackupFile:
    """Copy the store into `directory` now; then keep only the newest `kept` (0: all)."""
    path = store.path
    final = directory / f"{path.stem}-{stamp(at)}.sqlite"
    tmp = directory / f".{final.name}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        with store_errors(path):
            store.backup_to(tmp)
        # A copy of a damaged store must not push a sound backup out.
        problems = check_file(StoreConnections(tmp), full=False)
        if problems:
            raise StoreError(f"store {path} is damaged ({problems[0]}); no backup taken")
        _fsync(tmp)
        os.replace(tmp, final)
        _fsync(directory)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"{final}: backup failed: {exc}") from exc
    except StoreError:
        tmp.unlink(missing_ok=True)
        raise
    if kept > 0:
        prune_backups(path, directory, kept)
    return BackupFile(final, at.astimezone(UTC).replace(microsecond=0), final.stat().st_size)


def prune_backups(store: Path, directory: Path, kept: int) -> list[Path]:
    """Delete all but the newest `kept` backups; returns the deleted ones."""
    old = [backup.path for backup in list_backups(store, directory)[:-kept]]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def check_file(file: StoreConnections, *, full: bool = True) -> list[str]:
    """The problems SQLite finds in the file (integrity_check, or the quicker
    quick_check); [] when it is sound."""
    pragma = "integrity_check" if full else "quick_check"
    try:
        db = file.connect_existing()
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = [str(row[0]) for row in db.execute(f"PRAGMA {pragma}")]
    except sqlite3.Error as exc:
        return [str(exc)]
    finally:
        db.close()
    return [] if rows == ["ok"] else rows


def restore_backup(store: Path, backup: Path, at: datetime) -> Path | None:
    """Put `backup` in the place of `store`; returns where the old file was kept.

    The old file, and its -wal (which may hold its last transactions), are
    renamed to `<name>.damaged-<utc>` and `<name>.damaged-<utc>-wal`, never
    deleted; its -shm is only an index of the -wal and goes. The caller holds
    the store's lock.
    """
    problems = check_file(StoreConnections(backup))
    if problems:
        raise StoreError(f"backup {backup} fails its integrity check: {problems[0]}; not restored")
    tmp = store.with_name(f".{store.name}.restore.tmp")
    aside = store.with_name(f"{store.name}.damaged-{stamp(at)}")
    try:
        shutil.copyfile(backup, tmp)
        _fsync(tmp)
        kept = None
        if store.exists():
            os.replace(store, aside)
            kept = aside
        for suffix in ("-wal", "-journal"):
            companion = store.with_name(store.name + suffix)
            if companion.exists():
                os.replace(companion, aside.with_name(aside.name + suffix))
        store.with_name(store.name + "-shm").unlink(missing_ok=True)
        os.replace(tmp, store)
        _fsync(store.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"{store}: restore failed: {exc}") from exc
    return kept


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
