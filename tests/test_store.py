"""The embedded SQLite store: schema migrations, session de-duplication, last-seen times."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrfleet.devices import DeviceKey
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import SessionOutcome, Store, StoreError
from ocrfleet.store.migrations import MIGRATIONS

PC1 = DeviceKey("lib", "pc-01")
PC2 = DeviceKey("lib", "pc-02")
HALL = DeviceKey("hall", "pc-01")


def start(session_id: str, at: float) -> SessionEvent:
    return SessionEvent(SessionEventType.START, session_id, at)


def end(session_id: str, started: float, ended: float) -> SessionEvent:
    return SessionEvent(SessionEventType.END, session_id, started, ended)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(StoreConnections(tmp_path / "ocrfleet.sqlite"))
    try:
        yield opened
    finally:
        opened.close()


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# -- schema ---------------------------------------------------------------------


def test_wal_mode(store: Store) -> None:
    other = raw(store.path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()


def test_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "ocrfleet" / "db.sqlite"
    opened = Store(StoreConnections(path))
    opened.close()
    assert path.is_file()


def test_migrations_set_user_version(store: Store) -> None:
    assert store.schema_version() == len(MIGRATIONS)
    assert store.integrity_ok()
    other = raw(store.path)
    try:
        assert other.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {
            row[0] for row in other.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    finally:
        other.close()
    assert {"devices", "sessions"} <= tables


def test_reopening_does_not_rerun_migrations(tmp_path: Path) -> None:
    path = tmp_path / "ocrfleet.sqlite"
    first = Store(StoreConnections(path))
    first.record_session_events([(PC1, start("a", 100.0))])
    first.record_seen({PC1: ("pc", 100.0)})
    first.close()
    # Re-running migration 1 would fail with "table devices already exists",
    # or (were it idempotent) the rows would be gone.
    second = Store(StoreConnections(path))
    try:
        assert second.schema_version() == len(MIGRATIONS)
        assert second.session_count() == 1
        assert [r.key for r in second.seen_devices()] == [PC1]
    finally:
        second.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ocrfleet.sqlite"
    Store(StoreConnections(path)).close()
    newer = len(MIGRATIONS) + 1
    other = raw(path)
    other.execute(f"PRAGMA user_version = {newer}")
    other.close()
    with pytest.raises(StoreError, match=rf"schema version {newer} is newer"):
        Store(StoreConnections(path))
    other = raw(path)
    try:
        assert other.execute("PRAGMA user_version").fetchone()[0] == newer, "left untouched"
    finally:
        other.close()


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "ocrfleet.sqlite"
    path.write_bytes(b"this is not a SQLite file, just some text long enough " * 20)
    with pytest.raises(StoreError, match=str(path)):
        Store(StoreConnections(path))


def test_unusable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory is needed")
    with pytest.raises(StoreError):
        Store(StoreConnections(blocker / "ocrfleet.sqlite"))


# -- sessions -------------------------------------------------------------------


def test_start_then_end(store: Store) -> None:
    outcomes = store.record_session_events([(PC1, start("s1", 100.0))])
    assert outcomes == [SessionOutcome.STARTED]
    outcomes = store.record_session_events([(PC1, end("s1", 100.0, 160.0))])
    assert outcomes == [SessionOutcome.ENDED]
    assert store.session_count() == 1
    assert SessionOutcome.STARTED.is_new_session
    assert not SessionOutcome.ENDED.is_new_session


def test_duplicates_change_nothing(store: Store) -> None:
    events = [
        (PC1, start("s1", 100.0)),
        (PC1, start("s1", 100.0)),
        (PC1, end("s1", 100.0, 160.0)),
        (PC1, end("s1", 100.0, 160.0)),
        (PC1, start("s1", 100.0)),  # a late redelivery of the start
    ]
    assert store.record_session_events(events) == [
        SessionOutcome.STARTED,
        SessionOutcome.DUPLICATE,
        SessionOutcome.ENDED,
        SessionOutcome.DUPLICATE,
        SessionOutcome.DUPLICATE,
    ]
    assert store.session_count() == 1
    assert not SessionOutcome.DUPLICATE.is_new_session


def test_end_without_start_is_whole(store: Store) -> None:
    assert store.record_session_events([(PC1, end("s9", 100.0, 400.0))]) == [SessionOutcome.WHOLE]
    assert SessionOutcome.WHOLE.is_new_session
    # Its start arriving afterwards, and the end again, are redeliveries.
    assert store.record_session_events(
        [(PC1, start("s9", 100.0)), (PC1, end("s9", 100.0, 400.0))]
    ) == [SessionOutcome.DUPLICATE, SessionOutcome.DUPLICATE]
    summary = store.usage_summary()
    assert summary[PC1].sessions_total == 1
    assert summary[PC1].open_session is None


def test_same_session_id_on_two_devices_is_two_sessions(store: Store) -> None:
    assert store.record_session_events([(PC1, start("x", 1.0)), (PC2, start("x", 2.0))]) == [
        SessionOutcome.STARTED,
        SessionOutcome.STARTED,
    ]
    assert store.record_session_events([(PC2, end("x", 2.0, 3.0))]) == [SessionOutcome.ENDED]
    summary = store.usage_summary()
    assert summary[PC1].open_session == start("x", 1.0)
    assert summary[PC2].open_session is None


def test_usage_summary(store: Store) -> None:
    store.record_session_events(
        [
            (PC1, start("a", 100.0)),
            (PC1, end("a", 100.0, 200.0)),
            (PC1, start("b", 300.0)),
            (PC2, end("c", 50.0, 60.0)),
            (HALL, start("d", 400.0)),
        ]
    )
    summary = store.usage_summary()
    assert set(summary) == {PC1, PC2, HALL}
    assert summary[PC1].sessions_total == 2
    assert summary[PC1].open_session == start("b", 300.0)
    assert summary[PC2].sessions_total == 1
    assert summary[PC2].open_session is None
    assert summary[HALL].sessions_total == 1
    assert summary[HALL].open_session == start("d", 400.0)


def test_usage_summary_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ocrfleet.sqlite"
    first = Store(StoreConnections(path))
    first.record_session_events([(PC1, start("a", 100.0)), (PC2, end("b", 10.0, 20.0))])
    first.close()
    second = Store(StoreConnections(path))
    try:
        summary = second.usage_summary()
    finally:
        second.close()
    assert summary[PC1].open_session == start("a", 100.0)
    assert summary[PC1].sessions_total == 1
    assert summary[PC2].sessions_total == 1


def test_empty_store_has_no_usage(store: Store) -> None:
    assert store.usage_summary() == {}
    assert store.session_count() == 0
    assert store.seen_devices() == []


def test_failed_batch_is_rolled_back(store: Store) -> None:
    class Boom(Exception):
        pass

    def events() -> Iterator[tuple[DeviceKey, SessionEvent]]:
        yield PC1, start("a", 100.0)
        raise Boom

    with pytest.raises(Boom):
        store.record_session_events(events())
    assert store.session_count() == 0
    # The connection is usable again afterwards.
    assert store.record_session_events([(PC1, start("a", 100.0))]) == [SessionOutcome.STARTED]


# -- last seen ------------------------------------------------------------------


def test_record_seen_keeps_first_seen_and_max_last_seen(store: Store) -> None:
    store.record_seen({PC1: ("pc", 1000.0), HALL: ("laptop", 500.0)})
    store.record_seen({PC1: ("pc", 2000.0)})
    store.record_seen({PC1: ("pc", 1500.0)})  # an older time never moves last_seen back
    records = {r.key: r for r in store.seen_devices()}
    assert set(records) == {PC1, HALL}
    assert records[PC1].first_seen == 1000.0
    assert records[PC1].last_seen == 2000.0
    assert records[PC1].kind == "pc"
    assert records[HALL].first_seen == 500.0
    assert records[HALL].last_seen == 500.0
    assert records[HALL].kind == "laptop"


def test_record_seen_updates_kind(store: Store) -> None:
    store.record_seen({PC1: ("pc", 1000.0)})
    store.record_seen({PC1: ("laptop", 1100.0)})
    (record,) = store.seen_devices()
    assert record.kind == "laptop"
    assert record.first_seen == 1000.0
    assert record.last_seen == 1100.0


def test_record_seen_nothing_is_a_no_op(store: Store) -> None:
    store.record_seen({})
    assert store.seen_devices() == []


def test_two_connections_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ocrfleet.sqlite"
    writer = Store(StoreConnections(path))
    reader = Store(StoreConnections(path))
    try:
        writer.record_session_events([(PC1, start("a", 1.0))])
        writer.record_seen({PC1: ("pc", 1.0)})
        assert reader.session_count() == 1
        assert [r.key for r in reader.seen_devices()] == [PC1]
    finally:
        writer.close()
        reader.close()
