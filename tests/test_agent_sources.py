"""Session sources: the input-activity state machine, logind parsing, journal locations.

The OS is replaced by scripted `IdleReading`s on a scripted clock; the
logind parser runs on recorded `loginctl` output; the journal-location check
runs on injected mounts and on a real tmpfs mount when the test may mount.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocrfleet_agent.idle import (
    IdleReading,
    LogindIdleReader,
    idle_ms_from_ticks,
    lock_from_session_flags,
    parse_properties,
    reading_from_logind,
    session_ids,
)
from ocrfleet_agent.payloads import Ack, SessionMessage
from ocrfleet_agent.sessions import Usage
from ocrfleet_agent.sources import (
    SOURCES,
    ExternalSource,
    InputSource,
    SourceOptions,
    make_source,
)
from ocrfleet_agent.storage import journal_location_problem, journal_warning, mount_of

T0 = 1_750_000_000.0
MINUTE = 60.0


class ScriptedReader:
    """An IdleReader whose answers the test sets before each poll."""

    name = "scripted"

    def __init__(self) -> None:
        self.reading: IdleReading | None = None

    def read(self) -> IdleReading | None:
        return self.reading


class Desk:
    """A visitor at a PC on a scripted clock, polled like the runner does."""

    def __init__(self, idle_minutes: float = 10.0, state_path: Path | None = None) -> None:
        self.reader = ScriptedReader()
        self.source = InputSource(self.reader, idle_minutes, state_path, read_every=0)
        self.now = T0
        self.last_input = T0 - 3600
        self.locked = False
        self.logged_in = True
        self.changes: list[Usage] = []
        self._in_use = False

    def poll(self) -> Usage | None:
        self.reader.reading = IdleReading(
            idle_seconds=self.now - self.last_input, locked=self.locked, logged_in=self.logged_in
        )
        usage = self.source.read(self.now)
        if usage is not None and usage.in_use != self._in_use:
            self._in_use = usage.in_use
            self.changes.append(usage)
        return usage

    def wait(self, seconds: float, typing: bool = False, step: float = 5.0) -> None:
        """Let time pass in poll-sized steps, with input at every step if typing."""
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + step)
            if typing:
                self.last_input = self.now - 0.3
            self.poll()


def test_a_session_starts_at_the_first_input_after_idle() -> None:
    desk = Desk()
    desk.wait(60)
    assert desk.changes == []
    desk.last_input = desk.now + 2  # a key pressed between two polls
    desk.wait(5)
    assert desk.changes == [Usage(True, since=desk.last_input)]


def test_a_session_ends_after_the_idle_minutes_dated_at_the_last_input() -> None:
    desk = Desk(idle_minutes=10)
    desk.wait(30 * MINUTE, typing=True)
    last = desk.last_input
    desk.wait(9 * MINUTE)
    assert [u.in_use for u in desk.changes] == [True]
    desk.wait(2 * MINUTE)
    assert desk.changes[-1] == Usage(False, since=last)


def test_a_screen_lock_ends_the_session_at_once() -> None:
    desk = Desk()
    desk.wait(5 * MINUTE, typing=True)
    last = desk.last_input
    desk.locked = True
    desk.wait(5)
    assert desk.changes[-1] == Usage(False, since=last)
    # Input on the lock screen is no session; unlocking and typing is a new one.
    desk.wait(MINUTE, typing=True)
    assert len(desk.changes) == 2
    desk.locked = False
    desk.wait(10, typing=True)
    assert desk.changes[-1].in_use and desk.changes[-1].since is not None
    assert desk.changes[-1].since > last


def test_a_logoff_ends_the_session_at_the_last_input() -> None:
    desk = Desk()
    desk.wait(5 * MINUTE, typing=True)
    last = desk.last_input
    desk.logged_in = False
    desk.wait(5)
    assert desk.changes[-1] == Usage(False, since=last)


def test_no_flapping_around_the_idle_limit() -> None:
    desk = Desk(idle_minutes=10)
    desk.wait(MINUTE, typing=True)
    desk.wait(10 * MINUTE + 10)
    assert [u.in_use for u in desk.changes] == [True, False]
    # The OS's idle counter jitters by some hundred milliseconds; a reading
    # just under the limit again is the same old input, not a new visitor.
    for jitter in (-0.4, 0.3, -0.2, 0.0):
        desk.now += 5
        desk.reader.reading = IdleReading(desk.now - desk.last_input + jitter, False, True)
        desk.source.read(desk.now)
    assert [u.in_use for u in desk.changes] == [True, False]
    # And while typing, the same jitter never ends a session.
    desk.wait(MINUTE, typing=True)
    for jitter in (0.4, -0.3, 0.2):
        desk.now += 5
        desk.reader.reading = IdleReading(max(0.0, 0.3 + jitter), False, True)
        desk.source.read(desk.now)
    assert [u.in_use for u in desk.changes] == [True, False, True]


def test_a_reading_of_none_keeps_the_state() -> None:
    desk = Desk()
    desk.wait(MINUTE, typing=True)
    desk.reader.reading = None
    for _ in range(200):  # > 10 idle minutes of polls without an answer
        desk.now += 5
        assert desk.source.read(desk.now) is None
    desk.last_input = desk.now - 1
    usage = desk.poll()
    assert usage is not None and usage.in_use
    assert [u.in_use for u in desk.changes] == [True]


def test_idle_since_unknown_ends_at_the_last_input_seen() -> None:
    desk = Desk()
    desk.wait(MINUTE, typing=True)
    last = desk.last_input
    desk.reader.reading = IdleReading(math.inf, False, True)
    desk.now += 11 * MINUTE
    assert desk.source.read(desk.now) == Usage(False, since=last)


def test_input_after_a_gap_the_agent_did_not_see_ends_the_earlier_session(
    tmp_path: Path,
) -> None:
    # The logoff killed the agent mid-session; the next logon starts it again.
    state = tmp_path / "input-activity.json"
    before = Desk(state_path=state)
    before.wait(20 * MINUTE, typing=True)
    last = before.last_input
    after = Desk(state_path=state)
    after.now = before.now + 2 * 3600
    after.last_input = after.now - 1
    ended = after.poll()
    assert ended is not None and not ended.in_use
    # Dated at the last input saved, at most a minute before the real one.
    assert ended.since is not None and last - 60 <= ended.since <= last
    after.wait(5)
    assert after.changes[-1] == Usage(True, since=after.last_input)


def test_a_restart_mid_session_continues_it(tmp_path: Path) -> None:
    state = tmp_path / "input-activity.json"
    before = Desk(state_path=state)
    before.wait(5 * MINUTE, typing=True)
    after = Desk(state_path=state)
    after.now = before.now + 30
    after.last_input = after.now - 2
    usage = after.poll()
    assert usage is not None and usage.in_use
    assert [u.in_use for u in after.changes] == [True]


def test_a_damaged_state_file_is_ignored(tmp_path: Path) -> None:
    state = tmp_path / "input-activity.json"
    state.write_text("{not json")
    desk = Desk(state_path=state)
    desk.wait(10, typing=True)
    assert [u.in_use for u in desk.changes] == [True]


def test_the_os_is_asked_at_most_every_read_interval() -> None:
    reader = ScriptedReader()
    reader.reading = IdleReading(0.0, False, True)
    source = InputSource(reader, 10, read_every=15)
    assert source.read(T0) == Usage(True, since=T0)
    reader.reading = IdleReading(0.0, True, True)  # locked; not asked yet
    assert source.read(T0 + 5) is None
    assert source.read(T0 + 10) is None
    assert source.read(T0 + 15) == Usage(False, since=T0)


def test_registry_names_every_source_and_rejects_others() -> None:
    assert sorted(SOURCES) == ["external", "input", "logged-in"]
    assert isinstance(make_source("external"), ExternalSource)
    assert make_source("external").read(T0) is None
    source = make_source("input", SourceOptions(idle_minutes=3, reader=ScriptedReader()))
    assert source.name == "input"
    with pytest.raises(ValueError, match="unknown session source 'badge'"):
        make_source("badge")
    with pytest.raises(ValueError, match="idle-minutes"):
        make_source("input", SourceOptions(idle_minutes=0, reader=ScriptedReader()))


# -- logind, on recorded loginctl output ----------------------------------------

# systemd 252 (Debian 12): SESSION UID USER SEAT TTY
LIST_252 = """\
      2 1000 visitor seat0 tty2
     c1  120 gdm     seat0 tty1
     14    0 root          pts/0
"""
# systemd 256 added STATE, IDLE and SINCE.
LIST_256 = """\
2  1000 visitor seat0 tty2  active no  -
c1 120  gdm     seat0 tty1  active yes 2h ago
"""
SHOW = """\
Id=2
Type=wayland
Class=user
Active=yes
IdleHint=yes
IdleSinceHint=1749999700000000
LockedHint=no

Id=c1
Type=wayland
Class=greeter
Active=no
IdleHint=yes
IdleSinceHint=1749990000000000
LockedHint=no

Id=14
Type=tty
Class=user
Active=yes
IdleHint=no
IdleSinceHint=0
LockedHint=no
"""


def test_session_ids_from_old_and_new_loginctl() -> None:
    assert session_ids(LIST_252) == ["2", "c1", "14"]
    assert session_ids(LIST_256) == ["2", "c1"]
    assert session_ids("") == []
    assert session_ids("No sessions.\n") == []


def test_the_graphical_user_session_decides() -> None:
    blocks = parse_properties(SHOW)
    assert [b["Id"] for b in blocks] == ["2", "c1", "14"]
    # The ssh (tty) session is busy and the greeter idle: only session 2 counts.
    assert reading_from_logind(blocks, T0) == IdleReading(300.0, locked=False, logged_in=True)


def test_not_idle_locked_and_logged_out() -> None:
    busy = SHOW.replace(
        "IdleHint=yes\nIdleSinceHint=1749999700000000\nLockedHint=no",
        "IdleHint=no\nIdleSinceHint=1749999700000000\nLockedHint=yes",
        1,
    )
    assert reading_from_logind(parse_properties(busy), T0) == IdleReading(0.0, True, True)
    tty_only = [b for b in parse_properties(SHOW) if b["Type"] == "tty"]
    assert reading_from_logind(tty_only, T0).logged_in is False
    assert reading_from_logind([], T0).logged_in is False


def test_blocks_without_blank_lines_and_odd_values() -> None:
    text = "Id=3\nType=x11\nIdleHint=yes\nIdleSinceHint=garbage\nId=4\nType=x11\nActive=no\n"
    blocks = parse_properties(text)
    assert [b["Id"] for b in blocks] == ["3", "4"]
    reading = reading_from_logind(blocks[:1], T0)
    assert math.isinf(reading.idle_seconds) and reading.logged_in


def test_logind_reader_runs_loginctl_with_every_session() -> None:
    calls: list[list[str]] = []

    def loginctl(args: list[str]) -> str:
        calls.append(args)
        return LIST_252 if args[0] == "list-sessions" else SHOW

    reading = LogindIdleReader(run=loginctl, clock=lambda: T0).read()
    assert reading == IdleReading(300.0, False, True)
    assert calls[1][:4] == ["show-session", "2", "c1", "14"]


def test_logind_reader_gives_none_when_loginctl_fails() -> None:
    def broken(args: list[str]) -> str:
        raise OSError("Failed to connect to bus")

    assert LogindIdleReader(run=broken).read() is None


def logind_running() -> bool:
    if shutil.which("loginctl") is None:
        return False
    result = subprocess.run(["loginctl", "--no-pager", "list-sessions"], capture_output=True)
    return result.returncode == 0


def test_logind_for_real() -> None:
    if not logind_running():
        # The real reader must then say "no reading", never raise.
        assert LogindIdleReader().read() is None
        pytest.skip("logind is not running here (no systemd as PID 1): real reading untested")
    reading = LogindIdleReader().read()
    assert reading is not None
    assert reading.idle_seconds >= 0


def test_windows_arithmetic() -> None:
    assert idle_ms_from_ticks(5_000, 2_000) == 3_000
    # GetTickCount wraps after 49.7 days; the last input was before the wrap.
    assert idle_ms_from_ticks(1_000, 0xFFFFFFFF - 999) == 2_000
    assert lock_from_session_flags(0) is True
    assert lock_from_session_flags(1) is False
    assert lock_from_session_flags(-1) is None


# -- where the journal lives ------------------------------------------------------


@dataclass(frozen=True)
class FakeMount:
    mountpoint: str
    fstype: str


OVERLAYROOT = [
    FakeMount("/", "overlay"),
    FakeMount("/media/root-ro", "ext4"),
    FakeMount("/var/lib/private/ocrfleet-agent", "ext4"),
    FakeMount("/run", "tmpfs"),
]


def test_overlay_root_is_not_durable_but_a_persistent_mount_is() -> None:
    def mounts() -> list[FakeMount]:
        return OVERLAYROOT

    warning = journal_warning(Path("/var/lib/other/journal.json"), platform="linux", mounts=mounts)
    assert warning is not None and "overlay (/)" in warning
    assert (
        journal_warning(
            Path("/var/lib/private/ocrfleet-agent/journal.json"), platform="linux", mounts=mounts
        )
        is None
    )
    assert mount_of(Path("/runner/x"), OVERLAYROOT) == FakeMount("/", "overlay")


def test_deep_freeze_frozen_system_drive_but_not_a_thawspace() -> None:
    def frozen() -> bool | None:
        return True

    c_drive = Path(r"C:\ProgramData\ocrfleet-agent\journal.json")
    warning = journal_warning(c_drive, platform="win32", frozen=frozen, system_drive="C:")
    assert warning is not None and "thawspace" in warning
    thawspace = Path(r"T:\ocrfleet-agent\journal.json")
    assert journal_warning(thawspace, platform="win32", frozen=frozen, system_drive="C:") is None
    assert journal_warning(c_drive, platform="win32", frozen=thawed, system_drive="C:") is None
    assert journal_warning(c_drive, platform="win32", frozen=unknown, system_drive="C:") is None


def thawed() -> bool | None:
    return False


def unknown() -> bool | None:
    return None


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ram"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_real_tmpfs_journal_is_reported(tmpfs: Path, tmp_path: Path) -> None:
    warning = journal_warning(tmpfs / "agent" / "journal.json")
    assert warning is not None and "tmpfs" in warning
    assert journal_location_problem(tmpfs / "agent" / "journal.json") is None
    beside = tmp_path / "disk" / "journal.json"
    here = mount_of(beside, __import__("psutil").disk_partitions(all=True))
    if here is not None and here.fstype in ("overlay", "tmpfs"):
        pytest.skip(f"this test's own temp dir is on {here.fstype}")
    assert journal_warning(beside) is None


def test_a_journal_location_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    problem = journal_location_problem(blocker / "journal.json")
    assert problem is not None and "not a folder" in problem
    assert journal_location_problem(tmp_path) is not None
    assert journal_location_problem(tmp_path / "new" / "deeper" / "journal.json") is None


def test_reservation_system_examples_in_the_docs_are_valid_payloads() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "agent.md").read_text()
    section = text.split("## Sessions from a reservation system", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0].strip() for b in section.split("```json\n")[1:]]
    assert len(blocks) == 4
    start, end, v2, ack = blocks
    assert SessionMessage.parse(start).event == "start"
    assert SessionMessage.parse(end).ended_at == 1750002700
    assert SessionMessage.parse(v2).seq == 17
    assert Ack.parse(ack) == Ack(stream="libki-zonnedorp", seq=17)
