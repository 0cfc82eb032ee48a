"""What a kind or a rule remembers, kept across restarts in the store.

A rule that learns from history (a printer's supply forecast needs days of
readings) would start from nothing after every restart. Such a rule, or
kind, returns its memory as JSON-able data from `saved_state()`; the daemon
writes it to the store every few minutes and when it stops, and hands it
back through `restore_state()` once at start-up, before the first
evaluation or poll.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KeepsState:
    """The default: nothing is kept. DeviceKind and AlertRule inherit it."""

    def saved_state(self) -> Mapping[str, Any] | None:
        """JSON-able data to keep across restarts, or None for nothing.

        A rule's is asked in the evaluation thread, after an evaluation; a
        kind's may be asked while other threads use the kind, so a kind that
        keeps state guards it as it guards its other shared data.
        """
        return None

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Take back what `saved_state()` gave before the restart.

        Data from an older version of the plugin may have another shape:
        check it, and raise ValueError to have it dropped (logged) rather
        than half taken.
        """
        return None
