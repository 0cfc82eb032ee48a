"""Silences: the store, the daemon's suppressor and `ocrfleet silence`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.alerts.silences import SilenceError, SilenceStore, SilenceSuppressor
from ocrfleet.cli.main import main
from ocrfleet.clock import ManualClock
from ocrfleet.store.connections import StoreConnections

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0
PRINTER = {"site": "lib", "device": "printer-1", "kind": "printer"}
PC = {"site": "lib", "device": "pc-01", "kind": "pc"}
HALL_PC = {"site": "hall", "device": "pc-01", "kind": "pc"}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "ocrfleet.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[SilenceStore]:
    opened = SilenceStore(StoreConnections(db_path), clock=ManualClock(NOON))
    try:
        yield opened
    finally:
        opened.close()


# -- the store ------------------------------------------------------------------


def test_added_silences_are_listed_with_what_was_given(store: SilenceStore) -> None:
    first = store.add("lib/printer-1", NOON, NOON + 2 * HOUR, "printer being repaired", "an")
    second = store.add("hall", NOON + HOUR, NOON + 3 * HOUR, "roof works")
    assert second != first
    listed = store.list(NOON)
    assert [s.id for s in listed] == [first, second]
    silence = listed[0]
    assert (silence.target, silence.starts_at, silence.ends_at) == (
        "lib/printer-1",
        NOON,
        NOON + 2 * HOUR,
    )
    assert (silence.reason, silence.created_by, silence.created_at) == (
        "printer being repaired",
        "an",
        NOON,
    )
    assert [s.state(NOON) for s in listed] == ["active", "pending"]


def test_expired_silences_are_listed_only_on_request(store: SilenceStore) -> None:
    store.add("lib", NOON - 2 * HOUR, NOON - HOUR, "over")
    kept = store.add("lib", NOON - HOUR, NOON + HOUR, "still on")
    assert [s.id for s in store.list(NOON)] == [kept]
    everything = store.list(NOON, include_expired=True)
    assert [s.state(NOON) for s in everything] == ["expired", "active"]
    assert store.list(NOON + HOUR) == []


def test_removing_ends_a_silence_and_keeps_its_record(store: SilenceStore) -> None:
    silence_id = store.add("lib", NOON, NOON + HOUR, "cleaning")
    removed = store.remove(silence_id, NOON + 60)
    assert removed.id == silence_id
    assert store.list(NOON + 120) == []
    (kept,) = store.list(NOON + 120, include_expired=True)
    assert kept.removed_at == NOON + 60
    assert kept.state(NOON + 120) == "removed"


def test_removing_an_unknown_or_removed_silence_is_refused(store: SilenceStore) -> None:
    with pytest.raises(SilenceError, match="no silence #42"):
        store.remove(42, NOON)
    silence_id = store.add("lib", NOON, NOON + HOUR, "cleaning")
    store.remove(silence_id, NOON)
    with pytest.raises(SilenceError, match="already removed"):
        store.remove(silence_id, NOON)


@pytest.mark.parametrize(
    ("target", "starts", "ends", "reason", "message"),
    [
        ("lib/", NOON, NOON + HOUR, "x", "not a target"),
        ("/pc-01", NOON, NOON + HOUR, "x", "not a target"),
        ("lib/pc-01/extra", NOON, NOON + HOUR, "x", "not a target"),
        ("lib", NOON, NOON, "x", "end after it starts"),
        ("lib", NOON, NOON + HOUR, "  ", "needs a reason"),
    ],
)
def test_bad_silences_are_refused(
    store: SilenceStore, target: str, starts: float, ends: float, reason: str, message: str
) -> None:
    with pytest.raises(SilenceError, match=message):
        store.add(target, starts, ends, reason)
    assert store.list(NOON, include_expired=True) == []


# -- the suppressor -------------------------------------------------------------


def test_a_device_silence_covers_that_device_only(store: SilenceStore, db_path: Path) -> None:
    silence_id = store.add("lib/printer-1", NOON, NOON + 2 * HOUR, "printer being repaired")
    suppressor = SilenceSuppressor(StoreConnections(db_path), ManualClock(NOON))
    assert suppressor.suppressed_by(PRINTER, NOON) == (
        f"silenced #{silence_id} until 14:00 UTC: printer being repaired"
    )
    assert suppressor.suppressed_by(PC, NOON) is None
    assert suppressor.suppressed_by({"site": "lib"}, NOON) is None


def test_a_site_silence_covers_every_alert_of_the_site(store: SilenceStore, db_path: Path) -> None:
    store.add("lib", NOON, NOON + 2 * HOUR, "inventory day")
    suppressor = SilenceSuppressor(StoreConnections(db_path), ManualClock(NOON))
    assert suppressor.suppressed_by(PRINTER, NOON) is not None
    assert suppressor.suppressed_by({"site": "lib", "alertname": "seats"}, NOON) is not None
    assert suppressor.suppressed_by(HALL_PC, NOON) is None
    assert suppressor.suppressed_by({"alertname": "norm"}, NOON) is None


def test_a_silence_holds_only_between_its_start_and_end(store: SilenceStore, db_path: Path) -> None:
    store.add("lib", NOON + HOUR, NOON + 2 * HOUR, "later")
    clock = ManualClock(NOON)
    suppressor = SilenceSuppressor(StoreConnections(db_path), clock)
    assert suppressor.suppressed_by(PC, NOON) is None
    assert suppressor.suppressed_by(PC, NOON + HOUR) is not None
    assert suppressor.suppressed_by(PC, NOON + 2 * HOUR) is None


def test_the_longest_silence_says_when_notifications_resume(
    store: SilenceStore, db_path: Path
) -> None:
    store.add("lib", NOON, NOON + HOUR, "short")
    store.add("lib/pc-01", NOON, NOON + 3 * HOUR, "long")
    reason = SilenceSuppressor(StoreConnections(db_path), ManualClock(NOON)).suppressed_by(PC, NOON)
    assert reason is not None and "until 15:00 UTC: long" in reason


def test_a_silence_ending_another_day_gives_the_date(store: SilenceStore, db_path: Path) -> None:
    store.add("lib", NOON, NOON + 24 * HOUR, "closed for works")
    reason = SilenceSuppressor(StoreConnections(db_path), ManualClock(NOON)).suppressed_by(PC, NOON)
    assert reason is not None and "until 2026-03-03 12:00 UTC" in reason


def test_new_and_removed_silences_are_seen_after_the_refresh_interval(
    store: SilenceStore, db_path: Path
) -> None:
    clock = ManualClock(NOON)
    suppressor = SilenceSuppressor(StoreConnections(db_path), clock, refresh_interval=5.0)
    assert suppressor.suppressed_by(PC, clock.now()) is None
    silence_id = store.add("lib", NOON, NOON + HOUR, "cleaning")
    assert suppressor.suppressed_by(PC, clock.now()) is None  # still the cached read
    clock.advance(5.0)
    assert suppressor.suppressed_by(PC, clock.now()) is not None
    store.remove(silence_id, clock.now())
    clock.advance(5.0)
    assert suppressor.suppressed_by(PC, clock.now()) is None


def test_a_missing_store_silences_nothing_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.sqlite"
    suppressor = SilenceSuppressor(StoreConnections(path), ManualClock(NOON))
    assert suppressor.suppressed_by(PC, NOON) is None
    assert not path.exists()


def test_an_unreadable_store_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    assert (
        SilenceSuppressor(StoreConnections(path), ManualClock(NOON)).suppressed_by(PC, NOON) is None
    )


def test_a_store_without_the_table_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    sqlite3.connect(path).close()
    assert (
        SilenceSuppressor(StoreConnections(path), ManualClock(NOON)).suppressed_by(PC, NOON) is None
    )


def test_silences_already_read_survive_a_store_that_fails_for_a_while(
    store: SilenceStore, db_path: Path
) -> None:
    store.add("lib", NOON, NOON + HOUR, "cleaning")
    clock = ManualClock(NOON)
    suppressor = SilenceSuppressor(StoreConnections(db_path), clock, refresh_interval=5.0)
    assert suppressor.suppressed_by(PC, clock.now()) is not None
    moved = db_path.with_name("moved.sqlite")
    db_path.rename(moved)
    clock.advance(5.0)
    assert suppressor.suppressed_by(PC, clock.now()) is not None
    # What was kept still ends when it says.
    assert suppressor.suppressed_by(PC, NOON + HOUR) is None


# -- ocrfleet silence -------------------------------------------------------------


CONFIG = """
[municipality]
name = "Testdorp"
adult_population = 1000

[[sites]]
id = "lib"
name = "Library"
village_core = "Testdorp"
timezone = "Europe/Brussels"
devices = [{{ id = "pc-01", kind = "pc" }}, {{ id = "pc-02", kind = "pc" }}]

[[sites]]
id = "hall"
name = "Town hall"
village_core = "Testdorp"

[store]
path = "{store}"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "ocrfleet.toml"
    path.write_text(CONFIG.format(store=tmp_path / "cli.sqlite"), encoding="utf-8")
    return path


def _listed(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["silence", "-c", str(config), "list", "--json", *extra]) == 0
    listed: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return listed


def test_cli_add_list_and_remove(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "silence",
            "-c",
            str(config_file),
            "add",
            "lib/pc-01",
            "--for",
            "2h",
            "--reason",
            "screen replaced",
            "--by",
            "an",
        ]
    )
    assert code == 0
    assert "silence #1: lib/pc-01 from" in capsys.readouterr().out
    (listed,) = _listed(config_file, capsys)
    assert (listed["id"], listed["target"], listed["state"]) == (1, "lib/pc-01", "active")
    assert (listed["reason"], listed["created_by"]) == ("screen replaced", "an")
    starts = datetime.fromisoformat(listed["starts_at"])
    ends = datetime.fromisoformat(listed["ends_at"])
    assert (ends - starts).total_seconds() == 2 * HOUR

    assert main(["silence", "remove", "#1", "-c", str(config_file)]) == 0
    assert "removed silence #1" in capsys.readouterr().out
    assert _listed(config_file, capsys) == []
    (removed,) = _listed(config_file, capsys, "--all")
    assert removed["state"] == "removed"


def test_cli_start_without_offset_is_in_the_site_time_zone(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["silence", "-c", str(config_file), "add", "lib", "--for", "1h", "--reason", "works"]
    assert main([*argv, "--start", "2999-07-01T09:00"]) == 0
    (listed,) = _listed(config_file, capsys)
    assert listed["state"] == "pending"
    # Brussels is at UTC+2 in summer.
    assert listed["starts_at"] == "2999-07-01T07:00:00+00:00"


def test_cli_list_prints_a_table(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["silence", "-c", str(config_file)]
    assert main([*argv, "add", "hall", "--for", "30m", "--reason", "fire drill"]) == 0
    capsys.readouterr()
    assert main([*argv, "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["ID", "TARGET", "STATE"]
    assert row.startswith("#1") and row.endswith("fire drill")


def test_cli_expired_silences_show_only_with_all(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    past = SilenceStore(StoreConnections(tmp_path / "cli.sqlite"))
    try:
        past.add("lib", NOON - 2 * HOUR, NOON - HOUR, "long ago")
    finally:
        past.close()
    assert _listed(config_file, capsys) == []
    (expired,) = _listed(config_file, capsys, "--all")
    assert (expired["reason"], expired["state"]) == ("long ago", "expired")


def test_cli_refuses_a_silence_that_is_already_over(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["silence", "-c", str(config_file), "add", "lib", "--reason", "too late"]
    assert main([*argv, "--for", "1h", "--start", "2000-01-01T10:00Z"]) == 2
    assert "would end in the past" in capsys.readouterr().err
    assert _listed(config_file, capsys, "--all") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["add", "attic", "--for", "1h", "--reason", "x"],
            "unknown site 'attic' (sites: hall, lib)",
        ),
        (
            ["add", "lib/pc-09", "--for", "1h", "--reason", "x"],
            "site 'lib' has no device 'pc-09' (devices: pc-01, pc-02)",
        ),
        (["add", "lib/", "--for", "1h", "--reason", "x"], "is not a target"),
        (["add", "lib", "--for", "soon", "--reason", "x"], "--for: 'soon' is not a duration"),
        (["add", "lib", "--for", "0", "--reason", "x"], "longer than 0"),
        (["add", "lib", "--for", "1h", "--reason", " "], "--reason"),
        (["add", "lib", "--for", "1h", "--reason", "x", "--start", "monday"], "ISO-8601"),
        (["remove", "seven"], "'seven' is not a silence number"),
        (["remove", "7"], "there is no silence #7"),
    ],
)
def test_cli_bad_input_is_one_clear_line(
    config_file: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["silence", "-c", str(config_file), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ocrfleet silence: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert _listed(config_file, capsys, "--all") == []


def test_cli_reason_is_required(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["silence", "-c", str(config_file), "add", "lib", "--for", "1h"])
    assert exit_info.value.code == 2
    assert "--reason" in capsys.readouterr().err


def test_cli_missing_config_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.toml"
    assert main(["silence", "-c", str(missing), "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ocrfleet silence: ") and "cannot read" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_without_config_uses_the_demo_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state_dir = tmp_path / "demo-state"
    argv = ["silence", "--state-dir", str(state_dir)]
    assert main([*argv, "add", "vlaminggem-library/pc-01", "--for", "1h", "--reason", "x"]) == 0
    assert (state_dir / "demo.sqlite").is_file()
    capsys.readouterr()
    assert main([*argv, "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["target"] == "vlaminggem-library/pc-01"
