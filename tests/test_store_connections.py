"""One owner of the store's connections: it hands them out, and closes every one at the end."""

from __future__ import annotations

import ast
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ocrfleet.store.connections import StoreConnections, StoreError
from ocrfleet.store.migrations import MIGRATIONS
from tests.support.daemon import RunningApp, site_config
from tests.support.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parent.parent
OWNER = ROOT / "ocrfleet" / "store" / "connections.py"


def open_files(store: Path) -> list[str]:
    """This process's file descriptors on the store file, its -wal or its -shm."""
    names = {str(store.resolve()) + suffix for suffix in ("", "-wal", "-shm")}
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the descriptor listdir itself used, closed meanwhile
        if target in names:
            found.append(target)
    return found


def on_other_thread(use: Callable[[], sqlite3.Connection]) -> sqlite3.Connection:
    got: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: got.append(use()))
    thread.start()
    thread.join()
    return got[0]


def test_close_closes_every_connection_handed_out(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = StoreConnections(path)
    handed_out = [
        store.connect(),
        store.connect(any_thread=True, timeout=5.0),
        store.connect_existing(timeout=1.0),
        # Made for another thread, which has ended without closing it.
        on_other_thread(store.connect),
    ]
    assert store.open_connections == 4
    assert open_files(path) != []
    store.close()
    assert store.open_connections == 0
    assert open_files(path) == []
    for db in handed_out[:3]:  # the ones this thread may use
        with pytest.raises(sqlite3.ProgrammingError, match="closed database"):
            db.execute("SELECT 1")


def test_a_connection_closed_by_its_user_is_forgotten(tmp_path: Path) -> None:
    store = StoreConnections(tmp_path / "s.sqlite")
    kept = store.connect(any_thread=True)
    for _ in range(3):  # a reader that connects afresh each time
        store.connect_existing().close()
    assert store.open_connections == 1
    kept.close()
    assert store.open_connections == 0
    store.close()


def test_nothing_is_handed_out_after_close(tmp_path: Path) -> None:
    store = StoreConnections(tmp_path / "s.sqlite")
    store.connect()
    store.close()
    with pytest.raises(StoreError, match="its connections were closed"):
        store.connect()
    with pytest.raises(StoreError):
        store.connect_existing()


def test_the_first_connection_brings_the_schema_up_to_date(tmp_path: Path) -> None:
    store = StoreConnections(tmp_path / "new" / "s.sqlite")
    db = store.connect()
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_a_connection_for_one_thread_refuses_the_others(tmp_path: Path) -> None:
    store = StoreConnections(tmp_path / "s.sqlite")
    mine = store.connect()
    shared = store.connect(any_thread=True)
    errors: list[BaseException] = []

    def use() -> None:
        shared.execute("SELECT 1")
        try:
            mine.execute("SELECT 1")
        except sqlite3.ProgrammingError as exc:
            errors.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert [str(e).split(".")[0] for e in errors] == [
        "SQLite objects created in a thread can only be used in that same thread"
    ]
    store.close()


def test_connect_existing_never_makes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "missing.sqlite"
    store = StoreConnections(path)
    with pytest.raises(sqlite3.OperationalError, match="unable to open database file"):
        store.connect_existing()
    assert not path.exists()
    store.close()


def test_no_connection_to_the_store_outlives_the_daemon(broker: Mosquitto, tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    daemon = RunningApp(site_config(broker.port, path))
    with daemon:
        # The writer, the history, alerting's tables: each has its own.
        assert daemon.app.store.open_connections >= 3
        assert open_files(path) != []
    assert open_files(path) == []
    assert daemon.app.store.open_connections == 0


def _connects(tree: ast.AST) -> list[int]:
    """Lines that call sqlite3.connect, however sqlite3 or connect was imported."""
    modules = {"sqlite3"}
    functions = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "sqlite3"}
        elif isinstance(node, ast.ImportFrom) and node.module == "sqlite3":
            functions |= {a.asname or a.name for a in node.names if a.name == "connect"}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "connect"
            and isinstance(func.value, ast.Name)
            and func.value.id in modules
        ) or (isinstance(func, ast.Name) and func.id in functions):
            lines.append(node.lineno)
    return lines


def test_only_the_owner_connects_to_sqlite() -> None:
    sources = [*(ROOT / "ocrfleet").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]
    elsewhere = []
    for source in sources:
        if source == OWNER:
            continue
        for line in _connects(ast.parse(source.read_text(encoding="utf-8"))):
            elsewhere.append(f"{source.relative_to(ROOT)}:{line}")
    assert elsewhere == [], "open the store through ocrfleet.store.connections.StoreConnections"
    assert _connects(ast.parse(OWNER.read_text(encoding="utf-8"))) != []


def test_the_check_finds_a_connect_however_it_is_imported() -> None:
    samples = [
        "import sqlite3\nsqlite3.connect('x')",
        "import sqlite3 as lite\nlite.connect('x')",
        "from sqlite3 import connect\nconnect('x')",
        "from sqlite3 import connect as open_db\nopen_db('x')",
    ]
    assert [_connects(ast.parse(sample)) for sample in samples] == [[2], [2], [2], [2]]
