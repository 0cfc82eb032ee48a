"""The kept_state table: what kinds and rules remember across restarts (ocrfleet/kept.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from ocrfleet.store.connections import StoreConnections, store_errors

# (owner, name): owner is "kind" or "rule".
KeptKey = tuple[str, str]


class KeptStateStore:
    """One connection of its own, used from one thread at a time."""

    def __init__(self, connections: StoreConnections) -> None:
        self._connections = connections
        self._path = connections.path
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._connections.connect(any_thread=True)
        return self._db

    def load(self) -> dict[KeptKey, Any]:
        """Everything kept; a row whose JSON does not parse is left out."""
        with store_errors(self._path):
            rows = self._connection().execute("SELECT owner, name, data FROM kept_state").fetchall()
        kept: dict[KeptKey, Any] = {}
        for owner, name, data in rows:
            try:
                kept[(owner, name)] = json.loads(data)
            except json.JSONDecodeError:
                continue
        return kept

    def save(self, states: Mapping[KeptKey, str], now: float) -> None:
        """Replace the rows of these owners and names (JSON text), in one transaction."""
        rows = [(owner, name, data, now) for (owner, name), data in states.items()]
        with store_errors(self._path):
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO kept_state (owner, name, data, saved_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (owner, name) DO UPDATE SET data = excluded.data, "
                    "saved_at = excluded.saved_at",
                    rows,
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
