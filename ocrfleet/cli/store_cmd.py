"""`ocrfleet store`: check the SQLite store, back it up, list and restore backups.

`check`, `backup` and `list` work beside a running daemon. `restore`
refuses while a daemon holds the store's lock: stop it first. Without -c
the commands act on the demo fleet's store, as `ocrfleet silence` does.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from ocrfleet.cli.common import add_fleet_options, load_catalog
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config_file
from ocrfleet.config.models import StoreConfig
from ocrfleet.demo.runner import default_state_dir, demo_store_path
from ocrfleet.store.backup import check_file, list_backups, restore_backup, take_backup
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import StoreError
from ocrfleet.store.lock import StoreInUse, StoreLock

NAME = "store"
HELP = "check the SQLite store, back it up, list and restore backups"


class _Refused(Exception):
    """A one-line reason to stop, for stderr."""


def configure(parser: argparse.ArgumentParser) -> None:
    add_fleet_options(parser, top_level=True)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="run SQLite's integrity check on the store",
        description="Run PRAGMA integrity_check on the store; print ok (exit 0) or the "
        "problems found (exit 1).",
    )
    add_fleet_options(check, top_level=False)
    backup = actions.add_parser(
        "backup",
        help="take a backup now",
        description="Copy the store into the backup directory now (safe while the daemon "
        "runs), keeping the newest store.backups_kept.",
    )
    add_fleet_options(backup, top_level=False)
    listing = actions.add_parser(
        "list",
        help="show the backups",
        description="Show the backups, oldest first, with their time, size and whether "
        "each passes a quick check.",
    )
    add_fleet_options(listing, top_level=False)
    restore = actions.add_parser(
        "restore",
        help="put a backup in the store's place (the daemon must be stopped)",
        description="Check a backup's integrity, keep the current store aside as "
        "<name>.damaged-<utc> and copy the backup into its place. Refused while a "
        "daemon holds the store.",
    )
    add_fleet_options(restore, top_level=False)
    restore.add_argument(
        "backup", metavar="BACKUP", help="'latest', a file name from `list`, or a path"
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = _store_config(args)
        if args.action == "check":
            return _check(config)
        if args.action == "backup":
            _backup(config)
        elif args.action == "list":
            _list(config)
        else:
            _restore(config, args.backup)
    except (_Refused, StoreError) as exc:
        print(f"ocrfleet store: {exc}", file=sys.stderr)
        return 1
    return 0


def _store_config(args: argparse.Namespace) -> StoreConfig:
    path: Path | None = args.config
    if path is None:
        state_dir: Path = args.state_dir or default_state_dir()
        return StoreConfig(path=demo_store_path(state_dir))
    catalog = load_catalog()
    try:
        # Only [store] is used: no secret is read.
        loaded = load_config_file(
            path, catalog.kinds, catalog.rules, catalog.channel_types, read_secrets=False
        )
    except ConfigError as exc:
        raise _Refused(f"{path}: configuration is not valid (see `ocrfleet check-config`)") from exc
    return loaded.config.store


def _check(config: StoreConfig) -> int:
    if not config.path.exists():
        raise _Refused(f"{config.path}: no such file")
    problems = check_file(StoreConnections(config.path))
    if not problems:
        print(f"{config.path}: ok")
        return 0
    print(f"{config.path}: problems found:")
    for problem in problems:
        print(f"  {problem}")
    return 1


def _backup(config: StoreConfig) -> None:
    if not config.path.exists():
        raise _Refused(f"{config.path}: no such file")
    backup = take_backup(
        StoreConnections(config.path), config.backups, datetime.now(UTC), config.backups_kept
    )
    print(f"{backup.path} ({backup.size} bytes)")


def _list(config: StoreConfig) -> None:
    backups = list_backups(config.path, config.backups)
    if not backups:
        print(f"no backups of {config.path} in {config.backups}")
        return
    for backup in backups:
        problems = check_file(StoreConnections(backup.path), full=False)
        verdict = "ok" if not problems else f"DAMAGED: {problems[0]}"
        taken = backup.taken_at.strftime("%Y-%m-%d %H:%M:%SZ")
        print(f"{taken}  {backup.size:>12,} bytes  {verdict}  {backup.path}")


def _restore(config: StoreConfig, which: str) -> None:
    backup = _find_backup(config, which)
    lock = StoreLock(config.path)
    try:
        lock.acquire()
    except StoreInUse as exc:
        raise _Refused(f"not restored: {exc}; stop the daemon first") from None
    try:
        aside = restore_backup(config.path, backup, datetime.now(UTC))
    finally:
        lock.release()
    print(f"restored {backup} to {config.path}")
    if aside is not None:
        print(f"the previous store is kept as {aside}")


def _find_backup(config: StoreConfig, which: str) -> Path:
    if which == "latest":
        backups = list_backups(config.path, config.backups)
        if not backups:
            raise _Refused(f"no backups of {config.path} in {config.backups}")
        return backups[-1].path
    given = Path(which)
    for candidate in (given, config.backups / given):
        if candidate.is_file():
            return candidate
    raise _Refused(f"{which}: no such backup (see `ocrfleet store list`)")
