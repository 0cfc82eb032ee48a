"""The daemon's care of its store: the start-up check, the lock, the daily backup."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ocrfleet.config.models import StoreConfig
from ocrfleet.store.backup import check_file, list_backups, take_backup
from ocrfleet.store.connections import StoreConnections, StoreError
from ocrfleet.store.health import StoreHealth, StoreOperation, damaged_message
from ocrfleet.store.lock import StoreLock

log = logging.getLogger(__name__)

# A backup is taken when the newest one is at least this old, so a daemon
# restarted often still makes one a day and no more.
BACKUP_EVERY = timedelta(hours=24)


class StoreKeeper:
    def __init__(
        self, config: StoreConfig, health: StoreHealth, connections: StoreConnections
    ) -> None:
        self.config = config
        self.health = health
        self.connections = connections
        self.lock = StoreLock(config.path)

    def check_at_start(self) -> None:
        """Refuse a damaged store; warn when a store that had backups is gone.

        Runs before anything opens the store, so neither a fresh empty file
        nor a raw sqlite3 traceback hides what happened.
        """
        path = self.config.path
        try:
            empty = not path.exists() or path.stat().st_size == 0
        except OSError as exc:
            raise StoreError(f"{path}: {exc}") from exc
        if empty:
            self._warn_if_lost(path)
            return
        problems = check_file(self.connections, full=False)
        if problems:
            more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
            raise StoreError(damaged_message(path, problems[0] + more))

    def _warn_if_lost(self, path: Path) -> None:
        try:
            backups = list_backups(path, self.config.backups)
        except StoreError:
            return
        if backups:
            log.warning(
                "store %s is %s, but backups of it exist (newest: %s); starting with an "
                "empty store. If its data was lost, stop the daemon and run "
                "'ocrfleet store restore latest -c CONFIG'",
                path,
                "empty" if path.exists() else "missing",
                backups[-1].path,
            )

    def backup_if_due(self, now: float) -> None:
        """Take the daily backup if it is due; a failure is logged and counted."""
        kept = self.config.backups_kept
        if kept == 0:
            return
        at = datetime.fromtimestamp(now, UTC)
        directory = self.config.backups
        try:
            backups = list_backups(self.config.path, directory)
            if backups and at - backups[-1].taken_at < BACKUP_EVERY:
                return
            backup = take_backup(self.connections, directory, at, kept)
        except (StoreError, OSError) as exc:
            self.health.count(StoreOperation.BACKUP)
            log.error("store backup failed: %s", exc)
            return
        log.info("store backed up to %s (%d bytes)", backup.path, backup.size)
