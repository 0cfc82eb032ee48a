"""An iCal feed served over HTTP by a real server on 127.0.0.1: refreshed, and kept when
the server answers garbage, an error or nothing at all."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ocrfleet.calendars.live import CalendarBook, LiveCalendar
from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.metrics.calendars import CalendarCollector
from tests.support.daemon import catalog

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ical"
GOOD = (FIXTURES / "school-and-library.ics").read_bytes()
NOW = datetime(2027, 1, 4, 12, 0, tzinfo=ZoneInfo("Europe/Brussels")).timestamp()
PLUGINS = catalog()
INVENTORY_DAY = date(2027, 3, 3)  # a closing day of the feed


class FeedServer:
    """Answers every GET with the body and status it is told; counts the requests."""

    def __init__(self) -> None:
        self.body = GOOD
        self.status = 200
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                self.send_response(server.status)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/closures.ics"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(5)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    feed = FeedServer()
    try:
        yield feed
    finally:
        feed.stop()


def config(url: str, store: Path) -> dict[str, Any]:
    return {
        "municipality": {"name": "Vlaminggem", "adult_population": 11793},
        "sites": [
            {
                "id": "library",
                "name": "Hoofdbibliotheek",
                "village_core": "Vlaminggem",
                "opening_hours": {"wed": ["09:00-17:00"]},
                "calendars": [{"type": "ical", "name": "own", "url": url, "timeout": 5}],
            }
        ],
        "store": {"path": str(store)},
    }


def load(url: str, store: Path) -> LoadedConfig:
    """As a daemon starts: a new book, nothing fetched yet."""
    book = CalendarBook(PLUGINS.calendar_types, ManualClock(NOW).now)
    return load_config(config(url, store), PLUGINS.kinds, calendars=book)


def refresh(calendar: LiveCalendar) -> bool:
    return asyncio.run(calendar.refresh())


def metrics(loaded: LoadedConfig) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    collector = CalendarCollector(
        lambda: loaded.calendars, lambda: loaded.schedules, ManualClock(NOW)
    )
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in collector.collect()
        for s in family.samples
    }


def failed(loaded: LoadedConfig, reason: str) -> float | None:
    labels = (("calendar", "library/own"), ("reason", reason), ("type", "ical"))
    return metrics(loaded).get(("ocrfleet_calendar_refresh_failed", labels))


def test_a_feed_is_fetched_and_its_last_good_copy_kept(server: FeedServer, tmp_path: Path) -> None:
    store = tmp_path / "state" / "store.sqlite"
    loaded = load(server.url, store)
    [calendar] = loaded.calendars
    schedule = loaded.schedules["library"]
    # Never fetched: nothing known yet, and no request made while loading.
    assert server.requests == 0
    assert not schedule.closes_on(INVENTORY_DAY)

    assert refresh(calendar) is True
    assert schedule.closes_on(INVENTORY_DAY)
    copy = tmp_path / "state" / "calendars" / "library--own.ics"
    assert copy.read_bytes() == GOOD
    assert calendar.status.last_success == NOW
    assert failed(loaded, "") == 0.0
    samples = metrics(loaded)
    labels = (("calendar", "library/own"), ("type", "ical"))
    assert samples[("ocrfleet_calendar_last_success_timestamp_seconds", labels)] == NOW
    assert samples[("ocrfleet_calendar_closures", labels)] == 4.0

    # Garbage with 200: not parsed, not kept, the schedule unchanged.
    server.body = b"<html><body>Onderhoud</body></html>"
    assert refresh(calendar) is False
    assert calendar.status.failure == "invalid"
    assert failed(loaded, "invalid") == 1.0
    assert schedule.closes_on(INVENTORY_DAY)
    assert copy.read_bytes() == GOOD

    # An error status.
    server.body = b"oops"
    server.status = 500
    assert refresh(calendar) is False
    assert calendar.status.failure == "http_status"
    assert "HTTP 500" in calendar.status.detail
    assert schedule.closes_on(INVENTORY_DAY)
    assert calendar.status.last_success == NOW  # still the last good one

    # The server gone.
    server.stop()
    assert refresh(calendar) is False
    assert calendar.status.failure == "unreachable"
    assert failed(loaded, "unreachable") == 1.0
    assert schedule.closes_on(INVENTORY_DAY)
    assert copy.read_bytes() == GOOD

    # A daemon started now, with the feed unreachable, has the closures from the copy.
    restarted = load(server.url, store)
    assert restarted.schedules["library"].closes_on(INVENTORY_DAY)
    [again] = restarted.calendars
    assert refresh(again) is False
    assert restarted.schedules["library"].closes_on(INVENTORY_DAY)


def test_a_feed_that_comes_back_replaces_its_closures(server: FeedServer, tmp_path: Path) -> None:
    loaded = load(server.url, tmp_path / "store.sqlite")
    [calendar] = loaded.calendars
    assert refresh(calendar) is True
    server.status = 503
    assert refresh(calendar) is False
    # The library drops its inventory day and closes on 5 March instead.
    server.status = 200
    server.body = GOOD.replace(b"20270303", b"20270305")
    assert refresh(calendar) is True
    assert calendar.status.failure is None
    schedule = loaded.schedules["library"]
    assert not schedule.closes_on(INVENTORY_DAY)
    assert schedule.closes_on(date(2027, 3, 5))


def test_an_unwritable_state_dir_does_not_lose_the_closures(
    server: FeedServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state directory should be")
    loaded = load(server.url, blocker / "store.sqlite")
    [calendar] = loaded.calendars
    assert refresh(calendar) is True
    assert loaded.schedules["library"].closes_on(INVENTORY_DAY)
    # A reload reads the (missing) copy again: what was fetched stays.
    calendar.load()
    assert loaded.schedules["library"].closes_on(INVENTORY_DAY)


def test_the_copy_of_a_feed_is_not_used_for_another_url(server: FeedServer, tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    [calendar] = load(server.url, store).calendars
    assert refresh(calendar) is True
    # The option now names another feed, which does not answer: the old
    # feed's closures must not stand in for it.
    server.stop()
    moved = load(server.url + "elsewhere.ics", store)
    assert not moved.schedules["library"].closes_on(INVENTORY_DAY)
    # The same URL as before still gets its copy.
    assert load(server.url, store).schedules["library"].closes_on(INVENTORY_DAY)
