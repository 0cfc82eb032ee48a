"""Schema migrations, applied in order; PRAGMA user_version records the last one.

Never edit a released migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: devices seen and usage sessions.
    """
    CREATE TABLE devices (
        site TEXT NOT NULL,
        device TEXT NOT NULL,
        kind TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        PRIMARY KEY (site, device)
    );
    CREATE TABLE sessions (
        site TEXT NOT NULL,
        device TEXT NOT NULL,
        session_id TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        PRIMARY KEY (site, device, session_id)
    );
    CREATE INDEX sessions_by_start ON sessions (started_at);
    """,
    # 2: how a session ended: 'agent' (its end event), 'superseded' (a new
    # session started on the device first) or 'stale' (open implausibly long).
    """
    ALTER TABLE sessions ADD COLUMN closed_by TEXT;
    UPDATE sessions SET closed_by = 'agent' WHERE ended_at IS NOT NULL;
    """,
)
