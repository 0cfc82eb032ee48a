"""Damage, backups, restores and the lock, through the real CLI and a real daemon."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ocrfleet.alerts.store import AlertStore
from ocrfleet.config.models import StoreConfig
from ocrfleet.devices import DeviceKey
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.store.backup import check_file, list_backups, take_backup
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import Store, StoreError
from ocrfleet.store.health import StoreHealth
from ocrfleet.store.keeper import StoreKeeper
from ocrfleet.store.writer import Backoff, StoreWriter
from tests.support.daemon import RunningApp, site_config
from tests.support.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
PC = DeviceKey("lib", "pc-01")
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

CONFIG = """\
[municipality]
name = "Testdorp"
adult_population = 5000

[[sites]]
id = "lib"
name = "Library"
village_core = "Testdorp"

[[sites.devices]]
id = "pc-01"
kind = "pc"

[mqtt]
host = "127.0.0.1"
port = {port}

[http]
listen = "127.0.0.1"
port = 0

[store]
path = "{store}"
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def ocrfleet(*args: str) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "ocrfleet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def write_config(tmp_path: Path, store: Path, port: int = 1883) -> Path:
    path = tmp_path / "ocrfleet.toml"
    path.write_text(CONFIG.format(port=port, store=store), encoding="utf-8")
    return path


def make_store(path: Path, sessions: int = 3) -> None:
    store = Store(StoreConnections(path))
    try:
        for n in range(sessions):
            store.record_session_events(
                [(PC, SessionEvent(SessionEventType.START, f"s{n}", 1000.0 + n))]
            )
    finally:
        store.close()  # the last connection: the WAL is checkpointed into the file


def session_ids(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT session_id FROM sessions ORDER BY 1")]
    finally:
        db.close()


def damage_table(path: Path, table: str) -> None:
    """Overwrite the root page of `table` with garbage."""
    db = sqlite3.connect(path)
    try:
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
    finally:
        db.close()
    with path.open("r+b") as raw:
        raw.seek((root - 1) * page_size)
        raw.write(b"\xa5" * page_size)


def assert_one_line_damage(result: Result, store: Path) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if "damaged" in line]
    assert len(lines) == 1, result.stderr
    assert f"store {store} is damaged" in lines[0]
    assert "'ocrfleet store check' / 'ocrfleet store restore'" in lines[0]


# -- damage at start ----------------------------------------------------------------


def test_store_that_is_not_a_database_stops_the_daemon_in_one_line(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    store.write_bytes(b"not a database, just text long enough to look like one " * 200)
    result = ocrfleet("run", "-c", str(write_config(tmp_path, store)))
    assert_one_line_damage(result, store)


def test_damaged_alerts_table_stops_the_daemon_in_one_line(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    damage_table(store, "alerts")
    result = ocrfleet("run", "-c", str(write_config(tmp_path, store)))
    assert_one_line_damage(result, store)


def test_damaged_alerts_table_is_a_store_error_past_the_start_check(tmp_path: Path) -> None:
    # Damage appearing after the daemon's check reaches AlertStore.load.
    store = tmp_path / "s.sqlite"
    make_store(store)
    damage_table(store, "alerts")
    alerts = AlertStore(StoreConnections(store))
    try:
        with pytest.raises(StoreError, match=f"store {store} is damaged"):
            alerts.load()
    finally:
        alerts.close()


def test_damage_found_while_running_is_logged_once_and_unhealthy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    health = StoreHealth(store)
    writer = StoreWriter(
        StoreConnections(store),
        lambda *_: None,
        health=health,
        backoff=Backoff(initial=0.01, maximum=0.01),
    )
    writer.start()
    try:
        damage_table(store, "sessions")
        for n in range(3):
            writer.submit_seen({PC: ("pc", 2000.0 + n)})
            writer.submit_task(lambda s: s.usage_summary())
        done = []
        writer.submit_task(lambda s: done.append(1))
        while not done:  # the writer runs items in order: the damaged ones came first
            writer.submit_seen({}, wait=True)
    finally:
        writer.stop()
    assert health.damaged and health.problem is not None
    assert f"store {store} is damaged" in health.problem
    damaged = [r for r in caplog.records if "is damaged" in r.getMessage()]
    assert len(damaged) == 1 and damaged[0].levelno == logging.ERROR


def test_stop_ends_in_time_while_writes_fail(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    acked: list[int] = []
    writer = StoreWriter(
        StoreConnections(store), lambda *_: None, backoff=Backoff(initial=30.0, maximum=30.0)
    )
    writer.start()
    damage_table(store, "sessions")
    writer.submit_session(
        PC, SessionEvent(SessionEventType.START, "x", 3000.0), lambda: acked.append(1), 1.0
    )
    while writer.health.problem is None:
        writer.submit_seen({}, wait=True)
    writer.stop(timeout=5.0)  # would wait 30 s for the next attempt if not woken
    assert not writer.alive
    assert acked == [], "a batch never written is never acknowledged"


# -- backups ------------------------------------------------------------------------


def test_backups_are_whole_named_by_time_and_pruned(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    directory = tmp_path / "backups"
    for day in range(4):
        take_backup(StoreConnections(store), directory, T0 + timedelta(days=day), kept=3)
    backups = list_backups(store, directory)
    assert [b.path.name for b in backups] == [
        "s-20260303T140000Z.sqlite",
        "s-20260304T140000Z.sqlite",
        "s-20260305T140000Z.sqlite",
    ]
    assert all(check_file(StoreConnections(b.path)) == [] for b in backups)
    assert session_ids(backups[-1].path) == ["s0", "s1", "s2"]
    assert sorted(p.name for p in directory.iterdir()) == [b.path.name for b in backups]


def test_daily_backup_is_taken_once_a_day(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    config = StoreConfig(path=store, backups_kept=2)
    keeper = StoreKeeper(config, StoreHealth(store), StoreConnections(store))
    keeper.backup_if_due(T0.timestamp())
    keeper.backup_if_due((T0 + timedelta(hours=23)).timestamp())  # not due yet
    assert len(list_backups(store, config.backups)) == 1
    keeper.backup_if_due((T0 + timedelta(hours=24)).timestamp())
    keeper.backup_if_due((T0 + timedelta(hours=48)).timestamp())
    assert [b.taken_at for b in list_backups(store, config.backups)] == [
        T0 + timedelta(hours=24),
        T0 + timedelta(hours=48),
    ]


def test_failed_backup_is_counted_not_fatal(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    blocker = tmp_path / "file"
    blocker.write_text("a file where the backup directory should be")
    health = StoreHealth(store)
    config = StoreConfig(path=store, backup_dir=blocker / "backups")
    keeper = StoreKeeper(config, health, StoreConnections(store))
    keeper.backup_if_due(T0.timestamp())
    assert [n for op, n in health.errors().items() if op.value == "backup"] == [1]
    assert health.problem is None, "a failed backup does not make the store unhealthy"


def test_backup_list_check_restore_through_the_cli(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store, sessions=2)
    config = write_config(tmp_path, store)

    taken = ocrfleet("store", "backup", "-c", str(config))
    assert taken.returncode == 0, taken.stderr
    listed = ocrfleet("store", "list", "-c", str(config))
    assert listed.returncode == 0 and " ok " in listed.stdout, listed
    assert ocrfleet("store", "check", "-c", str(config)).stdout.strip().endswith(": ok")

    damage_table(store, "sessions")
    check = ocrfleet("store", "check", "-c", str(config))
    assert check.returncode == 1 and "problems found" in check.stdout, check

    restored = ocrfleet("store", "restore", "latest", "-c", str(config))
    assert restored.returncode == 0, restored.stderr
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("s.sqlite.damaged-")]
    assert len(aside) == 1, "the damaged file is kept, never deleted"
    assert f"kept as {aside[0]}" in restored.stdout
    assert session_ids(store) == ["s0", "s1"]
    assert ocrfleet("store", "check", "-c", str(config)).returncode == 0


def test_damaged_backup_is_not_restored(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    backup = take_backup(StoreConnections(store), tmp_path / "backups", T0)
    damage_table(backup.path, "sessions")
    before = store.read_bytes()
    result = ocrfleet(
        "store", "restore", str(backup.path), "-c", str(write_config(tmp_path, store))
    )
    assert result.returncode == 1 and "fails its integrity check" in result.stderr
    assert store.read_bytes() == before


# -- the lock, and a store gone missing --------------------------------------------------


def test_restore_and_a_second_daemon_are_refused_while_a_daemon_runs(
    broker: Mosquitto, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    take_backup(StoreConnections(store), tmp_path / "backups", T0)
    config = write_config(tmp_path, store, broker.port)
    with RunningApp(site_config(broker.port, store)):
        restore = ocrfleet("store", "restore", "latest", "-c", str(config))
        assert restore.returncode == 1
        assert f"is in use by process {os.getpid()}" in restore.stderr
        assert "stop the daemon first" in restore.stderr
        second = ocrfleet("run", "-c", str(config))
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert f"store {store} is in use by process {os.getpid()}" in second.stderr
        # Backups and checks are fine beside a running daemon.
        assert ocrfleet("store", "backup", "-c", str(config)).returncode == 0
    assert not [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    after = ocrfleet("store", "restore", "latest", "-c", str(config))
    assert after.returncode == 0, after.stderr


def test_empty_store_with_backups_is_a_warning(
    broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "s.sqlite"
    make_store(store)
    newest = take_backup(StoreConnections(store), tmp_path / "backups", T0)
    store.write_bytes(b"")
    with caplog.at_level(logging.WARNING), RunningApp(site_config(broker.port, store)):
        pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    lost = [w for w in warnings if f"store {store} is empty" in w]
    assert len(lost) == 1, warnings
    assert str(newest.path) in lost[0] and "ocrfleet store restore latest" in lost[0]
