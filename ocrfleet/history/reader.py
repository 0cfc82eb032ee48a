"""Reading the history back for reports: counts and sums only, never who did what."""

from __future__ import annotations

from dataclasses import dataclass

from ocrfleet.store.connections import StoreConnections, store_errors


@dataclass(frozen=True, slots=True)
class SiteMinutes:
    """Sums of `site_daily` over a range of days."""

    days_recorded: int = 0
    sampled: float = 0.0
    open: float = 0.0
    seats: float = 0.0
    seats_usable: float = 0.0
    seats_in_use: float = 0.0
    with_usable_seat: float = 0.0
    with_unreserved_seat: float = 0.0
    # Minutes every seat that was up was in use, and the longest such stretch of a day.
    all_seats_busy: float = 0.0
    longest_all_seats_busy: float = 0.0


@dataclass(frozen=True, slots=True)
class InternetMinutes:
    """Opening minutes of a site's internet over a range of days (docs/internet.md)."""

    known: float = 0.0  # up + down: a state was known
    up: float = 0.0  # degraded included
    degraded: float = 0.0
    down: float = 0.0

    @property
    def availability(self) -> float | None:
        """Up minutes / known minutes; None when nothing was known."""
        return self.up / self.known if self.known else None


@dataclass(frozen=True, slots=True)
class AlertCount:
    rule: str
    severity: str
    fired: int


@dataclass(frozen=True, slots=True)
class MaintenanceDone:
    entries: int = 0
    minutes: int = 0


class HistoryReader:
    """Queries over one store. Days are 'YYYY-MM-DD' strings, ranges are [first, end)."""

    def __init__(self, connections: StoreConnections) -> None:
        self.path = connections.path
        # A store from before the history existed gets its tables here.
        self._db = connections.connect()

    def close(self) -> None:
        self._db.close()

    def session_starts(self, site: str, start: float, end: float) -> list[float]:
        with store_errors(self.path):
            rows = self._db.execute(
                "SELECT started_at FROM sessions WHERE site = ? AND started_at >= ? "
                "AND started_at < ? ORDER BY started_at",
                (site, start, end),
            ).fetchall()
        return [float(row[0]) for row in rows]

    def session_lengths(
        self, site: str, start: float, end: float, now: float
    ) -> list[tuple[str, float]]:
        """(device, seconds) of each session started in [start, end); an open one runs to `now`.

        Sessions whose end was lost are left out: how long they lasted is not
        known. Those are the ones closed as stale (at sessions.max_duration) and
        as superseded (at the next session's start on the seat, a bound at most).
        """
        with store_errors(self.path):
            rows = self._db.execute(
                "SELECT device, max(0, coalesce(ended_at, ?) - started_at) FROM sessions "
                "WHERE site = ? AND started_at >= ? AND started_at < ? "
                "AND coalesce(closed_by, '') NOT IN ('stale', 'superseded')",
                (now, site, start, end),
            ).fetchall()
        return [(str(device), float(seconds)) for device, seconds in rows]

    def usage_seconds(self, site: str, start: float, end: float, now: float) -> float:
        """Session time inside [start, end); a session still open runs until `now`."""
        with store_errors(self.path):
            row = self._db.execute(
                """
                SELECT sum(max(0, min(coalesce(ended_at, ?), ?) - max(started_at, ?)))
                FROM sessions WHERE site = ? AND started_at < ?
                    AND coalesce(ended_at, ?) > ?
                """,
                (now, end, start, site, end, now, start),
            ).fetchone()
        return float(row[0] or 0.0)

    def site_minutes(self, site: str, first_day: str, end_day: str) -> SiteMinutes:
        with store_errors(self.path):
            row = self._db.execute(
                """
                SELECT count(*), sum(sampled_minutes), sum(open_minutes), sum(seat_minutes),
                    sum(seat_minutes_usable), sum(seat_minutes_in_use),
                    sum(minutes_with_usable_seat), sum(minutes_with_unreserved_seat),
                    sum(minutes_all_seats_busy), max(longest_all_seats_busy)
                FROM site_daily WHERE site = ? AND day >= ? AND day < ?
                """,
                (site, first_day, end_day),
            ).fetchone()
        return SiteMinutes(int(row[0]), *(float(value or 0.0) for value in row[1:]))

    def internet_minutes(self, site: str, first_day: str, end_day: str) -> InternetMinutes:
        with store_errors(self.path):
            row = self._db.execute(
                "SELECT sum(internet_minutes_known), sum(internet_minutes_up), "
                "sum(internet_minutes_degraded), sum(internet_minutes_down) FROM site_daily "
                "WHERE site = ? AND day >= ? AND day < ?",
                (site, first_day, end_day),
            ).fetchone()
        return InternetMinutes(*(float(value or 0.0) for value in row))

    def kind_minutes(
        self, site: str, first_day: str, end_day: str
    ) -> dict[str, tuple[float, float]]:
        """Kind -> (device minutes while open, of which up)."""
        with store_errors(self.path):
            rows = self._db.execute(
                "SELECT kind, sum(device_minutes), sum(device_minutes_up) FROM kind_daily "
                "WHERE site = ? AND day >= ? AND day < ? GROUP BY kind ORDER BY kind",
                (site, first_day, end_day),
            ).fetchall()
        return {kind: (float(total), float(up)) for kind, total, up in rows}

    def increases(self, site: str, first_day: str, end_day: str) -> dict[str, float]:
        with store_errors(self.path):
            rows = self._db.execute(
                "SELECT figure, sum(increase) FROM device_daily "
                "WHERE site = ? AND day >= ? AND day < ? GROUP BY figure",
                (site, first_day, end_day),
            ).fetchall()
        return {figure: float(total) for figure, total in rows}

    def peaks(self, site: str, first_day: str, end_day: str) -> dict[str, float]:
        with store_errors(self.path):
            rows = self._db.execute(
                "SELECT figure, max(peak) FROM site_figure_daily "
                "WHERE site = ? AND day >= ? AND day < ? GROUP BY figure",
                (site, first_day, end_day),
            ).fetchall()
        return {figure: float(peak) for figure, peak in rows}

    def alerts_fired(self, site: str | None, start: float, end: float) -> list[AlertCount]:
        """Alerts that started firing in [start, end); site None: those of no site."""
        where = "site IS NULL" if site is None else "site = ?"
        parameters: tuple[object, ...] = (start, end) if site is None else (site, start, end)
        with store_errors(self.path):
            rows = self._db.execute(
                f"SELECT rule, severity, count(*) FROM alert_events WHERE {where} "
                "AND status = 'firing' AND at >= ? AND at < ? "
                "GROUP BY rule, severity ORDER BY rule, severity",
                parameters,
            ).fetchall()
        return [AlertCount(rule, severity, int(count)) for rule, severity, count in rows]

    def maintenance_done(self, site: str, start: float, end: float) -> MaintenanceDone:
        with store_errors(self.path):
            row = self._db.execute(
                "SELECT count(*), sum(minutes) FROM maintenance_log "
                "WHERE site = ? AND done_at >= ? AND done_at < ?",
                (site, start, end),
            ).fetchone()
        return MaintenanceDone(int(row[0]), int(row[1] or 0))
