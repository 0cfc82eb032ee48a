"""Session sources the agent can be configured with (`--sessions`).

* `logged-in`: a session while anyone is logged in to the OS.
* `input`: a session from the first input after being idle to the last input
  before N idle minutes, a screen lock or a logoff. For public PCs that log a
  shared visitor account in automatically, where the login count never moves.
* `external`: none; a reservation system (Libki, ...) publishes the sessions
  itself (docs/agent.md, "Sessions from a reservation system").
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ocrfleet_agent.idle import IdleReader, default_reader
from ocrfleet_agent.probes import logged_in_count
from ocrfleet_agent.sessions import SessionSource, Usage

log = logging.getLogger(__name__)

# Tick counts and clocks jitter by a few hundred milliseconds between two
# readings of one and the same input; less than this is not new input.
SAME_INPUT_SECONDS = 1.0
# The last input is written to disk at most this often while a session
# runs: an end the agent does not see (the logoff ends its process, the
# power is cut) is dated at most this much early.
SAVE_EVERY_SECONDS = 60.0
# The OS is asked at most this often: on Linux each reading runs loginctl
# twice, and at the runner's 5 s that alone would cost several CPU seconds
# an hour. Dates do not suffer (they come from the OS's idle time); a start
# is noticed up to this much later.
READ_EVERY_SECONDS = 15.0


@dataclass(frozen=True)
class SourceOptions:
    idle_minutes: float = 10.0
    # Where the `input` source keeps its last input across restarts; None: in memory.
    state_path: Path | None = None
    reader: IdleReader | None = None


class LoggedInSource:
    """A session while anyone is logged in to the operating system."""

    name = "logged-in"

    def __init__(self, count: Callable[[], int] = logged_in_count) -> None:
        self._count = count

    def read(self, now: float) -> Usage | None:
        return Usage(self._count() > 0)


class ExternalSource:
    """No sessions from the agent: a reservation system publishes them."""

    name = "external"

    def read(self, now: float) -> Usage | None:
        return None


class InputSource:
    """Sessions from input activity, dated at the inputs that begin and end them.

    A reading of None (the OS could not be asked) changes nothing, and the
    time without readings is not taken for idle time. The last
    input survives restarts in `state_path`, so new input after a gap of N
    idle minutes the agent did not see (it was stopped by a logoff, the PC
    slept) first ends the earlier session at its last input.
    """

    name = "input"

    def __init__(
        self,
        reader: IdleReader,
        idle_minutes: float,
        state_path: Path | None = None,
        read_every: float = READ_EVERY_SECONDS,
    ) -> None:
        if not idle_minutes > 0:
            raise ValueError(f"--idle-minutes must be more than 0, not {idle_minutes}")
        self.reader = reader
        self._limit = idle_minutes * 60.0
        self._state_path = state_path
        self._in_use = False
        self._first = True
        self._blind = False
        self._read_every = read_every
        self._next_read = -math.inf
        self._last_input: float | None = None
        self._ended_at: float | None = None
        self._saved_input: float | None = None
        self._save_failed = False
        self._load()

    @property
    def last_input(self) -> float | None:
        return self._last_input

    def read(self, now: float) -> Usage | None:
        if now < self._next_read:
            return None
        self._next_read = now + self._read_every
        reading = self.reader.read()
        if reading is None:
            self._blind = True
            return None
        first, self._first = self._first, False
        # After readings of None nothing says the visitor was away meanwhile.
        blind, self._blind = self._blind, False
        usable = reading.logged_in and not reading.locked
        previous = self._last_input
        if usable and math.isfinite(reading.idle_seconds):
            seen = now - max(0.0, reading.idle_seconds)
            if previous is None or seen > previous + SAME_INPUT_SECONDS:
                self._last_input = seen
        latest = self._last_input
        if (
            previous is not None
            and latest is not None
            and latest - previous >= self._limit
            and (self._in_use or first)
            and not blind
        ):
            # Idle through a gap nobody watched: that activity ended back then.
            return self._end(previous)
        active = (
            usable
            and latest is not None
            and now - latest < self._limit
            and (self._ended_at is None or latest > self._ended_at)
        )
        if self._in_use and not active and latest is not None:
            return self._end(latest)
        if active and not self._in_use:
            self._in_use = True
            self._save()
            return Usage(True, since=latest)
        if (
            self._in_use
            and latest is not None
            and latest - (self._saved_input or 0) >= (SAVE_EVERY_SECONDS)
        ):
            self._save()
        return Usage(self._in_use, since=latest)

    def _end(self, at: float) -> Usage:
        self._in_use = False
        self._ended_at = at
        self._save()
        return Usage(False, since=at)

    # -- the state file: two timestamps, rewritten whole --------------------------

    def _load(self) -> None:
        if self._state_path is None:
            return
        try:
            data = json.loads(self._state_path.read_text(encoding="utf-8"))
            last, ended = data.get("last_input"), data.get("ended_at")
            if isinstance(last, int | float) and math.isfinite(last):
                self._last_input = self._saved_input = float(last)
            if isinstance(ended, int | float) and math.isfinite(ended):
                self._ended_at = float(ended)
        except FileNotFoundError:
            return
        except (OSError, ValueError, AttributeError) as exc:
            # Losing it only dates one unseen end less well: no reason not to run.
            log.warning("ignoring %s (%s)", self._state_path, exc)

    def _save(self) -> None:
        if self._state_path is None:
            return
        tmp = self._state_path.with_name(self._state_path.name + ".tmp")
        document = json.dumps({"last_input": self._last_input, "ended_at": self._ended_at})
        try:
            self._state_path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(document, encoding="utf-8")
            # No fsync: a power cut that loses this write dates one end a
            # minute early; an fsync a minute is wear for nothing.
            os.replace(tmp, self._state_path)
        except OSError as exc:
            if not self._save_failed:
                log.warning("cannot write %s: %s", self._state_path, exc)
            self._save_failed = True
            return
        self._save_failed = False
        self._saved_input = self._last_input


def input_state_path(journal: Path) -> Path:
    """The input source's state, beside the journal: same persistent place."""
    return journal.with_name("input-activity.json")


SOURCES: dict[str, Callable[[SourceOptions], SessionSource]] = {
    "logged-in": lambda options: LoggedInSource(),
    "input": lambda options: InputSource(
        options.reader or default_reader(), options.idle_minutes, options.state_path
    ),
    "external": lambda options: ExternalSource(),
}


def make_source(name: str, options: SourceOptions | None = None) -> SessionSource:
    try:
        factory = SOURCES[name]
    except KeyError:
        raise ValueError(f"unknown session source {name!r}; one of {sorted(SOURCES)}") from None
    return factory(options or SourceOptions())
