"""Saving and restoring what kinds and rules remember (ocrfleet/kept.py), isolated per plugin."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from ocrfleet.kept import KeepsState
from ocrfleet.store.database import StoreError
from ocrfleet.store.kept import KeptKey, KeptStateStore

log = logging.getLogger(__name__)

# Often enough that a crash loses little, rarely enough to cost nothing.
SAVE_INTERVAL = 300.0


class StateKeeper:
    def __init__(
        self,
        store: KeptStateStore,
        keepers: Mapping[KeptKey, KeepsState],
        owner_plugin: Mapping[KeptKey, str],
    ) -> None:
        self._store = store
        self._keepers = keepers
        self._owner_plugin = owner_plugin
        self._saved_at: float | None = None

    def restore(self) -> None:
        """Hand every kind and rule what it kept; once, before the first evaluation or poll."""
        try:
            kept = self._store.load()
        except StoreError as exc:
            log.warning("kept state not readable; kinds and rules start afresh: %s", exc)
            return
        for key, state in kept.items():
            keeper = self._keepers.get(key)
            if keeper is None or not isinstance(state, dict):
                continue  # a plugin no longer installed, or not ours to read
            try:
                keeper.restore_state(state)
            except Exception:
                log.exception(
                    "plugin %s could not take back the kept state of %s %s; it starts afresh",
                    self._owner_plugin.get(key, "?"),
                    *key,
                )

    def save_due(self, now: float) -> None:
        if self._saved_at is None or now - self._saved_at >= SAVE_INTERVAL:
            self.save(now)

    def save(self, now: float) -> None:
        states: dict[KeptKey, str] = {}
        for key, keeper in self._keepers.items():
            try:
                state = keeper.saved_state()
                if state is not None:
                    states[key] = json.dumps(dict(state), allow_nan=False)
            except Exception:
                log.exception(
                    "plugin %s failed to give the state of %s %s to keep",
                    self._owner_plugin.get(key, "?"),
                    *key,
                )
        self._saved_at = now
        if not states:
            return
        try:
            self._store.save(states, now)
        except StoreError as exc:
            log.warning("kept state not saved: %s", exc)

    def close(self) -> None:
        self._store.close()
