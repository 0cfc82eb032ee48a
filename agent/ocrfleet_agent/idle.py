"""How long the visitor's session has gone without input, and whether it is locked.

One small interface, `IdleReader`, with one implementation per OS:

* Linux: logind's `IdleHint`/`IdleSinceHint`/`LockedHint` of the graphical
  sessions, read with `loginctl` (no D-Bus library: the agent stays at two
  dependencies). The desktop sets these hints; GNOME sets `IdleHint` after its
  own idle delay (`org.gnome.desktop.session idle-delay`, 5 minutes by
  default), so input activity is seen with that granularity.
* Windows: `GetLastInputInfo`, which only sees input of the session the
  calling process runs in: the agent has to run in the visitor's session
  (`ocrfleet-agent install --sessions input` registers it as a logon task).
  Lock state from `WTSQuerySessionInformationW(WTSSessionInfoEx)`.

Readers never return user names: only idle time, lock and login state.
"""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

# Session types that have a screen, keyboard and mouse; tty covers ssh and
# text consoles, which are administrators, not visitors.
GRAPHICAL_TYPES = frozenset({"x11", "wayland", "mir"})
LOGIND_PROPERTIES = ("Id", "IdleHint", "IdleSinceHint", "LockedHint", "Type", "Class", "Active")
LOGINCTL_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class IdleReading:
    """What the OS says now.

    `idle_seconds` is `math.inf` when the OS says "idle" without saying since
    when; it means nothing while `logged_in` is False.
    """

    idle_seconds: float
    locked: bool
    logged_in: bool


class IdleReader(Protocol):
    name: str

    def read(self) -> IdleReading | None:
        """The reading now, or None when the OS could not be asked."""


# -- Linux: logind ----------------------------------------------------------


def parse_properties(text: str) -> list[dict[str, str]]:
    """`loginctl show-session A B -p ...` output: one block of Key=Value per session."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition("=")
        if sep and key:
            if key in current:
                # Without blank lines between sessions, a repeated key starts the next.
                blocks.append(current)
                current = {}
            current[key] = value
    if current:
        blocks.append(current)
    return blocks


def session_ids(list_output: str) -> list[str]:
    """The first column of `loginctl list-sessions --no-legend`, whatever columns follow.

    The columns changed between systemd versions (STATE, IDLE, SINCE were
    added in 256); the id has always come first.
    """
    ids = []
    for line in list_output.splitlines():
        fields = line.split()
        if fields and fields[0].isalnum() and not fields[0].startswith("No"):
            ids.append(fields[0])
    return ids


def _yes(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("yes", "true", "1")


def reading_from_logind(blocks: list[dict[str, str]], now: float) -> IdleReading:
    """The visitor's view from logind sessions: graphical user sessions only.

    The foreground (Active) sessions decide when there are any: a session
    left on another seat or behind fast user switching is not the visitor.
    """
    graphical = [
        b
        for b in blocks
        if b.get("Type", "").lower() in GRAPHICAL_TYPES and b.get("Class", "user").lower() == "user"
    ]
    if not graphical:
        return IdleReading(idle_seconds=math.inf, locked=False, logged_in=False)
    chosen = [b for b in graphical if _yes(b.get("Active"))] or graphical
    idle = min(_idle_seconds(b, now) for b in chosen)
    locked = all(_yes(b.get("LockedHint")) for b in chosen)
    return IdleReading(idle_seconds=idle, locked=locked, logged_in=True)


def _idle_seconds(block: dict[str, str], now: float) -> float:
    if not _yes(block.get("IdleHint")):
        return 0.0
    try:
        since_us = int(block.get("IdleSinceHint", "0"))
    except ValueError:
        since_us = 0
    if since_us <= 0:
        return math.inf
    return max(0.0, now - since_us / 1_000_000)


Runner = Callable[[list[str]], str]


def run_loginctl(args: list[str]) -> str:
    result = subprocess.run(
        ["loginctl", "--no-pager", *args],
        capture_output=True,
        text=True,
        timeout=LOGINCTL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise OSError(result.stderr.strip() or f"loginctl exited with {result.returncode}")
    return result.stdout


class LogindIdleReader:
    name = "logind"

    def __init__(self, run: Runner = run_loginctl, clock: Callable[[], float] = time.time) -> None:
        self._run = run
        self._clock = clock
        self._failing = False

    def read(self) -> IdleReading | None:
        try:
            ids = session_ids(self._run(["list-sessions", "--no-legend"]))
            blocks: list[dict[str, str]] = []
            if ids:
                props = [arg for p in LOGIND_PROPERTIES for arg in ("-p", p)]
                blocks = parse_properties(self._run(["show-session", *ids, *props]))
        except (OSError, subprocess.SubprocessError) as exc:
            if not self._failing:
                log.warning("cannot read idle time from logind: %s", exc)
            self._failing = True
            return None
        if self._failing:
            log.info("logind answers again")
        self._failing = False
        return reading_from_logind(blocks, self._clock())


# -- Windows ----------------------------------------------------------------

# WTSINFOEX_LEVEL1_W.SessionFlags: the values are swapped on Windows 7 and
# Server 2008 R2 (a documented bug); those are out of support and not handled.
WTS_SESSIONSTATE_LOCK = 0
WTS_SESSIONSTATE_UNLOCK = 1


def idle_ms_from_ticks(tick_now: int, last_input_tick: int) -> int:
    """Milliseconds since the last input; both are 32-bit tick counts that wrap at 49.7 days."""
    return (tick_now - last_input_tick) & 0xFFFFFFFF


def lock_from_session_flags(flags: int) -> bool | None:
    return {WTS_SESSIONSTATE_LOCK: True, WTS_SESSIONSTATE_UNLOCK: False}.get(flags)


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _user32 = ctypes.WinDLL("user32", use_last_error=True)
    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _wtsapi32 = ctypes.WinDLL("wtsapi32", use_last_error=True)
    WTS_CURRENT_SERVER_HANDLE = wintypes.HANDLE(0)
    WTS_CURRENT_SESSION = wintypes.DWORD(0xFFFFFFFF)
    WTS_SESSION_INFO_EX = 25  # WTS_INFO_CLASS.WTSSessionInfoEx

    class _LastInputInfo(ctypes.Structure):
        _fields_ = [("cbSize", wintypes.UINT), ("dwTime", wintypes.DWORD)]

    class _WtsInfoExLevel1(ctypes.Structure):
        # Only the leading fields are read; the rest of the structure follows.
        _fields_ = [
            ("SessionId", wintypes.ULONG),
            ("SessionState", ctypes.c_int),
            ("SessionFlags", wintypes.LONG),
        ]

    class _WtsInfoEx(ctypes.Structure):
        _fields_ = [("Level", wintypes.DWORD), ("Data", _WtsInfoExLevel1)]

    def _check(ok: int) -> None:
        if not ok:
            raise ctypes.WinError(ctypes.get_last_error())

    def _current_session_id() -> int:
        session = wintypes.DWORD()
        _check(
            _kernel32.ProcessIdToSessionId(_kernel32.GetCurrentProcessId(), ctypes.byref(session))
        )
        return int(session.value)

    def _tick_count() -> int:
        # GetTickCount, not GetTickCount64: dwTime is the same 32-bit counter.
        return int(_kernel32.GetTickCount()) & 0xFFFFFFFF

    def _last_input_tick() -> int:
        info = _LastInputInfo(cbSize=ctypes.sizeof(_LastInputInfo))
        _check(_user32.GetLastInputInfo(ctypes.byref(info)))
        return int(info.dwTime)

    def _session_flags() -> int:
        buffer = ctypes.POINTER(_WtsInfoEx)()
        size = wintypes.DWORD()
        _check(
            _wtsapi32.WTSQuerySessionInformationW(
                WTS_CURRENT_SERVER_HANDLE,
                WTS_CURRENT_SESSION,
                WTS_SESSION_INFO_EX,
                ctypes.byref(buffer),
                ctypes.byref(size),
            )
        )
        try:
            return int(buffer.contents.Data.SessionFlags)
        finally:
            _wtsapi32.WTSFreeMemory(buffer)

    def _windows_state() -> tuple[int, int, int, int]:
        return _current_session_id(), _tick_count(), _last_input_tick(), _session_flags()

else:

    def _windows_state() -> tuple[int, int, int, int]:
        raise OSError("not Windows")


class WindowsIdleReader:
    """UNTESTED here (no Windows): GetLastInputInfo and WTS session flags via ctypes."""

    name = "windows"

    def __init__(self) -> None:
        self._warned = False

    def read(self) -> IdleReading | None:
        try:
            session, tick_now, last_input, flags = _windows_state()
        except OSError as exc:
            if not self._warned:
                log.warning("cannot read idle time from Windows: %s", exc)
            self._warned = True
            return None
        if session == 0:
            # Session 0 has no desktop: a service sees no visitor input.
            if not self._warned:
                log.error(
                    "--sessions input needs the agent in the visitor's session, not as a "
                    "service (ocrfleet-agent install --sessions input does that)"
                )
            self._warned = True
            return None
        idle_ms = idle_ms_from_ticks(tick_now, last_input)
        locked = lock_from_session_flags(flags)
        return IdleReading(idle_seconds=idle_ms / 1000.0, locked=bool(locked), logged_in=True)


def default_reader() -> IdleReader:
    if sys.platform == "win32":
        return WindowsIdleReader()
    return LogindIdleReader()


def describe(reading: IdleReading | None) -> str:
    if reading is None:
        return "no reading (the OS could not be asked)"
    if not reading.logged_in:
        return "nobody logged in to a graphical session"
    idle = (
        "idle since unknown"
        if math.isinf(reading.idle_seconds)
        else (f"last input {reading.idle_seconds:.0f} s ago")
    )
    return f"{idle}, {'locked' if reading.locked else 'unlocked'}"
