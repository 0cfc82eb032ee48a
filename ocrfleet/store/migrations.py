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
    # 3: alerts and their history, the notification outbox, silences and
    # the maintenance ledger.
    """
    CREATE TABLE alerts (
        key TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        labels TEXT NOT NULL,
        severity TEXT NOT NULL,
        summary TEXT NOT NULL,
        description TEXT NOT NULL,
        state TEXT NOT NULL,
        active_since REAL NOT NULL,
        firing_since REAL,
        last_active REAL NOT NULL,
        last_notified REAL
    );
    CREATE TABLE alert_events (
        key TEXT NOT NULL,
        rule TEXT NOT NULL,
        site TEXT,
        device TEXT,
        severity TEXT NOT NULL,
        status TEXT NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX alert_events_by_time ON alert_events (at);
    CREATE TABLE outbox (
        id TEXT NOT NULL,
        channel TEXT NOT NULL,
        created_at REAL NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        finished_at REAL,
        PRIMARY KEY (id, channel)
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        target TEXT NOT NULL,
        starts_at REAL NOT NULL,
        ends_at REAL NOT NULL,
        reason TEXT NOT NULL,
        created_by TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        removed_at REAL
    );
    CREATE TABLE maintenance_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site TEXT NOT NULL,
        device TEXT NOT NULL,
        task TEXT NOT NULL,
        done_at REAL NOT NULL,
        minutes INTEGER,
        note TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL,
        evidence_id TEXT UNIQUE
    );
    CREATE INDEX maintenance_by_device ON maintenance_log (site, device, task, done_at);
    """,
    # 4: per-day figures the daemon samples every minute for the monthly
    # report (ocrfleet.history). Days are dates in the site's own time zone;
    # minutes are REAL because a sample counts the time since the one before.
    """
    CREATE TABLE site_daily (
        site TEXT NOT NULL,
        day TEXT NOT NULL,
        sampled_minutes REAL NOT NULL DEFAULT 0,
        open_minutes REAL NOT NULL DEFAULT 0,
        seat_minutes REAL NOT NULL DEFAULT 0,
        seat_minutes_usable REAL NOT NULL DEFAULT 0,
        seat_minutes_in_use REAL NOT NULL DEFAULT 0,
        minutes_with_usable_seat REAL NOT NULL DEFAULT 0,
        minutes_with_unreserved_seat REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (site, day)
    );
    CREATE TABLE kind_daily (
        site TEXT NOT NULL,
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        device_minutes REAL NOT NULL DEFAULT 0,
        device_minutes_up REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (site, day, kind)
    );
    CREATE TABLE device_daily (
        site TEXT NOT NULL,
        device TEXT NOT NULL,
        day TEXT NOT NULL,
        figure TEXT NOT NULL,
        kind TEXT NOT NULL,
        first_value REAL NOT NULL,
        last_value REAL NOT NULL,
        increase REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (site, device, day, figure)
    );
    CREATE TABLE site_figure_daily (
        site TEXT NOT NULL,
        day TEXT NOT NULL,
        figure TEXT NOT NULL,
        peak REAL NOT NULL,
        PRIMARY KEY (site, day, figure)
    );
    CREATE INDEX sessions_by_end ON sessions (ended_at);
    """,
    # 5: numbered session events (MQTT interface version 2): per device and
    # stream (an agent's journal), the highest number committed.
    """
    CREATE TABLE session_streams (
        site TEXT NOT NULL,
        device TEXT NOT NULL,
        stream TEXT NOT NULL,
        position INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (site, device, stream)
    );
    """,
    # 6: what kinds and rules remember across restarts (ocrfleet/kept.py),
    # as JSON per owner ('kind' or 'rule') and name.
    """
    CREATE TABLE kept_state (
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        data TEXT NOT NULL,
        saved_at REAL NOT NULL,
        PRIMARY KEY (owner, name)
    );
    """,
    # 7: an alert's words before any language (ocrfleet/i18n/text.py), as
    # JSON {summary, description, detail}; summary and description keep
    # an English rendering for tools that read the table.
    """
    ALTER TABLE alerts ADD COLUMN words TEXT;
    """,
    # 8: who acknowledged a firing alert, per episode (ocrfleet/alerts/acks.py):
    # an episode is the alert's key and its `active_since`. Rows stay when the
    # episode resolves, as history; they simply stop matching a row of `alerts`.
    """
    CREATE TABLE acknowledgements (
        key TEXT NOT NULL,
        active_since REAL NOT NULL,
        acknowledged_by TEXT NOT NULL,
        acknowledged_at REAL NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (key, active_since)
    );
    """,
    # 9: per site and day, during opening hours: minutes every seat that was
    # up was in use and the longest such stretch (fair turns), and minutes
    # the site's internet state was known, up, degraded or down.
    """
    ALTER TABLE site_daily ADD COLUMN minutes_all_seats_busy REAL NOT NULL DEFAULT 0;
    ALTER TABLE site_daily ADD COLUMN longest_all_seats_busy REAL NOT NULL DEFAULT 0;
    ALTER TABLE site_daily ADD COLUMN internet_minutes_known REAL NOT NULL DEFAULT 0;
    ALTER TABLE site_daily ADD COLUMN internet_minutes_up REAL NOT NULL DEFAULT 0;
    ALTER TABLE site_daily ADD COLUMN internet_minutes_degraded REAL NOT NULL DEFAULT 0;
    ALTER TABLE site_daily ADD COLUMN internet_minutes_down REAL NOT NULL DEFAULT 0;
    """,
)
