"""Running an App in a background thread, and reading its metrics (tests and benchmarks)."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

from ocrfleet.app import App
from ocrfleet.calendars.live import CalendarBook
from ocrfleet.clock import Clock, SystemClock
from ocrfleet.config.loader import load_config
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager

T = TypeVar("T")


def catalog(*extra_plugins: object) -> PluginCatalog:
    return PluginCatalog.from_manager(build_plugin_manager(extra_plugins))


def site_config(
    mqtt_port: int,
    store: Path,
    devices: list[dict[str, Any]] | None = None,
    site: str = "lib",
    **mqtt: Any,
) -> dict[str, Any]:
    devices = devices if devices is not None else [{"id": "pc-01", "kind": "pc"}]
    return {
        "municipality": {"name": "Testdorp", "adult_population": 5000},
        "sites": [
            {
                "id": site,
                "name": "Library",
                "village_core": "Testdorp",
                "opening_hours": {"mon": ["09:00-17:00"]},
                "devices": devices,
            }
        ],
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": "ocrfleet-test", **mqtt},
        "http": {"listen": "127.0.0.1", "port": 0},
        "store": {"path": str(store)},
    }


class RunningApp:
    """An App running on its own event loop thread, stopped on exit."""

    def __init__(
        self,
        config: dict[str, Any],
        plugins: PluginCatalog | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.catalog = plugins or catalog()
        c = self.catalog
        # Calendars read on the daemon's clock: a test's holiday is on its day.
        book = CalendarBook(c.calendar_types, (clock or SystemClock()).now)
        loaded = load_config(config, c.kinds, c.rules, c.channel_types, calendars=book)
        self.app = App(loaded, c, clock=clock)
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            await self.app.run(self._stop)

        try:
            self._loop.run_until_complete(main())
        except BaseException as exc:
            self.error = exc

    def __enter__(self) -> RunningApp:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.app.started.is_set() and time.monotonic() < deadline:
            if self.error:
                raise self.error
            time.sleep(0.01)
        assert self.app.subscriber.wait_connected(10), "daemon did not connect to the broker"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)
        if self.error:
            raise self.error

    def call(self, coroutine: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run a coroutine function of the app (e.g. app.refresh_calendars) on its loop."""

        async def wrapped() -> T:
            return await coroutine()

        return asyncio.run_coroutine_threadsafe(wrapped(), self._loop).result(timeout)

    @property
    def metrics_url(self) -> str:
        host, port = self.app.http.address
        return f"http://{host}:{port}/metrics"

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return scrape(self.metrics_url)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def series_of(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for (n, labels) in samples if n == name]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def iter_lines(path: Path) -> Iterator[str]:
    yield from path.read_text().splitlines()


def snmp_device(device_id: str, kind: str, port: int, community: str) -> dict[str, Any]:
    """A device of `kind` polled over SNMP v2c from a local agent, quickly and without retries."""
    options = {
        "host": "127.0.0.1",
        "port": port,
        "snmp": {"version": "2c", "community": community},
        "poll_interval": 5,
        "timeout": 0.5,
        "retries": 0,
    }
    return {"id": device_id, "kind": kind, "options": options}
