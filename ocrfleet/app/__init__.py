"""The application object: builds every part, wires them, runs and stops them.

Nothing here is global: two App objects in one process (as tests make) share
no state.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry, ProcessCollector

from ocrfleet.app.alerting import AlertingService
from ocrfleet.app.calendars import REFRESH_HOURS, refresh_calendars
from ocrfleet.app.jobs import TaskExecutor
from ocrfleet.app.web import build_web_server
from ocrfleet.clock import Clock, SystemClock
from ocrfleet.config.loader import LoadedConfig
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.history.purge import purge_history
from ocrfleet.history.recorder import SAMPLE_INTERVAL, HistoryRecorder
from ocrfleet.internet.judge import InternetJudge, judge_snapshot
from ocrfleet.internet.probe import InternetProbe
from ocrfleet.metrics.calendars import CalendarCollector
from ocrfleet.metrics.daemon import DaemonCollector
from ocrfleet.metrics.delivery import SessionDeliveryCollector
from ocrfleet.metrics.exposition import Exposition
from ocrfleet.metrics.fleetrender import FleetRenderer
from ocrfleet.metrics.fleetview import FleetViews, SharedViewCollector
from ocrfleet.metrics.internet import InternetCollector
from ocrfleet.metrics.polling import PollCollector
from ocrfleet.metrics.sites import SiteCollector
from ocrfleet.metrics.turns import TurnsCollector
from ocrfleet.mqtt.ingest import Ingest
from ocrfleet.mqtt.routes import RouteTable
from ocrfleet.mqtt.settings import MqttSettings
from ocrfleet.mqtt.subscriber import MqttSubscriber
from ocrfleet.norms.collector import NormsCollector
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.poller import Poller, Sources
from ocrfleet.services import FiringAlert, ServiceContext, ServiceHost
from ocrfleet.sessions import SessionEvent, implausible_times
from ocrfleet.snmp.traps import TrapReceiver
from ocrfleet.state import FleetSnapshot, FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import SessionOutcome, Store, StoreError, store_errors
from ocrfleet.store.health import StoreHealth
from ocrfleet.store.keeper import StoreKeeper
from ocrfleet.store.writer import StoreWriter
from ocrfleet.turns.seats import fleet_turns
from ocrfleet.turns.tracker import TurnsTracker

log = logging.getLogger(__name__)

HEARTBEAT_SWEEP_SECONDS = 5.0
INTERNET_PROBE_JOB = "internet-probe"


@dataclass(frozen=True)
class BackgroundTask:
    """A long-running coroutine run beside the daemon (e.g. a demo simulator)."""

    name: str
    run: Callable[[], Awaitable[None]]


# Net new container objects before the youngest generation is collected; a
# collection of that many young objects costs about 0.2 ms of CPU.
GC_FIRST_THRESHOLD = 10_000


def freeze_startup_heap() -> None:
    """Move what start-up built out of the garbage collector's way.

    Modules, plugins, the configuration and the renderers' caches live as
    long as the daemon; without this every full collection walks them again,
    and those collections were the longest stalls of ingest during scrapes
    (bench/README.md, "The web server").

    A scrape holds a snapshot of every device while it renders: with the
    default first threshold (700) that alone set off collections in the
    middle of each scrape, stopping ingest each time. With GC_FIRST_THRESHOLD
    a scrape sets off none (bench/scrape.py, its ingest phases).
    """
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(GC_FIRST_THRESHOLD, second, third)


# Seconds a thread holding the GIL keeps it while another one waits (Python's
# default is 0.005).
SWITCH_INTERVAL = 0.001


def share_the_gil() -> None:
    """Let MQTT ingest run within about a millisecond while a scrape renders.

    A scrape renders for tens of milliseconds in Python. With the default
    interval, and the web server's threads waiting for the GIL too, ingest
    waited 10-40 ms at times during back-to-back scrapes; with 1 ms such
    stalls became as rare as on the idle machine (bench/scrape.py, ingest phases).
    """
    sys.setswitchinterval(SWITCH_INTERVAL)


@contextmanager
def tuned_for_serving() -> Iterator[None]:
    """freeze_startup_heap() and share_the_gil() while the daemon runs, then as before.

    The process is the daemon's own in production; an App run inside another
    program (the tests run many, one after the other) leaves the collector's
    thresholds, its frozen objects and the switch interval as it found them.
    """
    threshold = gc.get_threshold()
    interval = sys.getswitchinterval()
    freeze_startup_heap()
    share_the_gil()
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
        gc.unfreeze()


class App:
    def __init__(
        self,
        loaded: LoadedConfig,
        catalog: PluginCatalog,
        *,
        clock: Clock | None = None,
        background: Sequence[BackgroundTask] = (),
    ) -> None:
        self.loaded = loaded
        self.catalog = catalog
        self.clock = clock or SystemClock()
        self._background = list(background)
        config = loaded.config
        # Every part gets its connections to the store from here, and
        # _shutdown closes whatever is left open.
        self.store = StoreConnections(config.store.path)
        # Before anything opens the store: damage is one clear error, not a traceback.
        self.store_health = StoreHealth(config.store.path)
        self.store_keeper = StoreKeeper(config.store, self.store_health, self.store)
        self.store_keeper.check_at_start()
        self.state = FleetState(loaded.devices, self._timeouts(loaded.devices))
        self.writer = StoreWriter(
            self.store,
            self._on_session,
            max_queue=config.mqtt.queue_size,
            health=self.store_health,
            check_times=self._implausible_times,
            clock=self.clock.now,
        )
        self.routes = RouteTable(config.mqtt.topic_root, loaded.devices, catalog.kinds)
        self.ingest = Ingest(self.state, self.routes, self.writer, self.clock, self._plugin_of_kind)
        self.subscriber = MqttSubscriber(
            MqttSettings.from_config(config.mqtt, config.mqtt_password()), self.ingest
        )
        self.writer.on_committed = self.subscriber.acknowledge
        # The fleet's device series are rendered by their own cache-backed
        # renderer (bench/README.md, scrape.py); the rest by prometheus_client.
        self.fleet_metrics = FleetRenderer(
            lambda: self.state, catalog.kinds, self._plugin_of_kind, self.clock
        )
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(
            DaemonCollector(
                stats=lambda: self.ingest.stats,
                mqtt_connected=lambda: self.subscriber.connected,
                mqtt_connects=lambda: self.subscriber.connects,
                store_queue=lambda: self.writer.pending,
                channels=lambda: self.ingest.routes.channels,
                store_errors=self.store_health.errors,
                store_problem=lambda: self.store_health.problem,
            )
        )
        self.sources = Sources(catalog.source_types, config.max_concurrent_polls)
        self.poller = Poller(
            self.state, catalog.kinds, self.sources, self.clock, self._plugin_of_kind
        )
        self.registry.register(
            SessionDeliveryCollector(lambda: self.writer.stats, lambda: self.writer.held)
        )
        self.registry.register(PollCollector(lambda: self.poller.stats))
        for source_type in catalog.source_types.values():
            for collector in source_type.collectors():
                self.registry.register(collector)
        # Traps from known devices move their next poll to now (docs/snmp.md).
        self.traps: TrapReceiver | None = None
        if config.snmp.traps.enabled:
            self.traps = TrapReceiver(
                config.snmp.traps, lambda key: self.jobs.run_now(self.poller.job_id(key))
            )
            self.registry.register(self.traps.collector())
        self.registry.register(
            SiteCollector(lambda: self.loaded.config, lambda: self.loaded.schedules, self.clock)
        )
        self.registry.register(
            CalendarCollector(
                lambda: self.loaded.calendars, lambda: self.loaded.schedules, self.clock
            )
        )
        # Internet per site (docs/internet.md): the daemon's own check, when its
        # host sits in a site, counts beside the devices' checks.
        self.internet_probe = InternetProbe(lambda: self.loaded.config.internet.probe, self.clock)
        self.internet = InternetJudge(catalog.kinds, self.internet_probe.checks)
        # Fair turns (docs/turns.md): one tracker for the daemon's life, so a reload never
        # counts busy time twice; observed with each history sample.
        self.turns = TurnsTracker()
        # The internet, the norms and fair turns share one view of the fleet per
        # scrape: every device's state and every site's internet, worked out once.
        self.fleet_views = FleetViews(
            lambda: self.loaded.config, lambda: self.state, catalog.kinds, self.internet, self.clock
        )
        self.registry.register(
            SharedViewCollector(
                self.fleet_views,
                [
                    InternetCollector(self.fleet_views.current, self.internet_probe.checks),
                    NormsCollector(self.fleet_views.current, catalog.kinds),
                    TurnsCollector(self.fleet_views.current, catalog.kinds, self.turns),
                ],
            )
        )
        self.alerting = AlertingService(loaded, catalog, lambda: self.state, self.clock, self.store)
        self.alerting.internet = self.internet
        for collector in self.alerting.collectors():
            self.registry.register(collector)
        # State changes that alerts wait for trigger an evaluation at once.
        self.poller.on_polled = self.alerting.request_evaluation
        # Seats' sessions a polled kind reports (a reservation system) are
        # stored as MQTT ones are; never wait for the queue on the event loop.
        self.poller.submit_session = lambda key, event: self.writer.submit_session(
            key, event, None, timeout=0
        )
        self.ingest.on_availability = self.alerting.request_evaluation
        # What every exporter has: the process' memory, CPU and open files.
        ProcessCollector(registry=self.registry)
        self.http = build_web_server(
            lambda: self.loaded,
            Exposition(self.registry, self.fleet_metrics),
            self.health,
            lambda: self.state,
            dict(catalog.kinds),
            self.alerting,
            lambda: self.alerting.readers,
            self.store,
            self.clock,
        )
        # Integrations (ocrfleet.services): a bad [integrations.*] table is a ConfigError here.
        self.services = ServiceHost(
            catalog.service_types, config.integrations, self._service_context
        )
        self.history: HistoryRecorder | None = None
        self.jobs = TaskExecutor()
        self.scheduler = AsyncIOScheduler(timezone="UTC", executors={"default": self.jobs})
        self.started = asyncio.Event()

    # -- wiring helpers ----------------------------------------------------

    def _timeouts(self, devices: Sequence[DeviceInfo]) -> dict[DeviceKey, float | None]:
        return {d.key: self.catalog.kinds[d.kind].heartbeat_timeout(d.options) for d in devices}

    def _service_context(self, name: str) -> ServiceContext:
        config = self.loaded.config
        return ServiceContext(
            name,
            state=lambda: self.state,
            config=lambda: self.loaded.config,
            kinds=self.catalog.kinds,
            firing=self._firing_alerts,
            readers=lambda: self.alerting.readers,
            clock=self.clock,
            mqtt_settings=MqttSettings.from_config(config.mqtt, config.mqtt_password()),
        )

    def _firing_alerts(self) -> list[FiringAlert]:
        return [
            FiringAlert(
                r.rule, r.severity, r.labels.get("site"), r.labels.get("device"), r.firing_since
            )
            for r in list(self.alerting.engine.records.values())
            if r.state == "firing" and r.firing_since is not None
        ]

    def _plugin_of_kind(self, kind: str) -> str:
        return self.catalog.kind_owner.get(kind, "?")

    def _implausible_times(self, event: SessionEvent) -> str | None:
        sessions = self.loaded.config.sessions
        return implausible_times(
            event, self.clock.now(), sessions.max_clock_skew, sessions.max_duration
        )

    def _on_session(self, key: DeviceKey, event: SessionEvent, outcome: SessionOutcome) -> None:
        self.state.record_session(key, event, outcome.is_new_session)

    def health(self) -> dict[str, Any]:
        # A broker outage is reported but is not "unhealthy": restarting the
        # daemon would not bring the broker back. A store that refuses writes is.
        store_error = self.store_health.problem
        return {
            "ok": self.writer.alive and store_error is None,
            "store_writer_alive": self.writer.alive,
            "store_error": store_error,
            "mqtt_connected": self.subscriber.connected,
            "devices": len(self.state.devices),
            "store_queue": self.writer.pending,
        }

    # -- lifecycle ---------------------------------------------------------

    def _restore_usage(self) -> None:
        store = Store(self.store)
        longest = self.loaded.config.sessions.max_duration
        try:
            with store_errors(self.store.path):
                store.close_stale_sessions(self.clock.now() - longest, longest)
                summary = store.usage_summary()
        finally:
            store.close()
        for key in self.state.devices:
            usage = summary.get(key)
            if usage is not None:
                self.state.restore_usage(key, usage.open_session, usage.sessions_total)

    def flush_seen(self, wait: bool = False) -> None:
        devices = self.state.devices
        seen = {
            key: (devices[key].kind, at)
            for key, at in self.state.last_seen().items()
            if key in devices
        }
        self.writer.submit_seen(seen, wait=wait)

    def expire_sessions(self) -> None:
        longest = self.loaded.config.sessions.max_duration
        opened_before = self.clock.now() - longest
        stale = self.state.expire_sessions(opened_before)
        if stale:
            log.info(
                "%d sessions open for over %.0f h lost their end; closed",
                len(stale),
                longest / 3600,
            )
            self.writer.submit_task(
                lambda store: store.close_stale_sessions(opened_before, longest)
            )

    def record_history(self) -> None:
        """A minute of the daily figures reports are made of."""
        snapshot = self.state.snapshot(self.clock.now())
        self.observe_turns(snapshot)
        if self.history is None:
            return
        try:
            self.history.sample(
                snapshot, judge_snapshot(self.internet, self.loaded.config, snapshot)
            )
        except StoreError as exc:
            log.warning("history not recorded this minute: %s", exc)

    def observe_turns(self, snapshot: FleetSnapshot) -> None:
        """The seats as they are now, for the fair-turns counters."""
        loaded = self.loaded
        now = snapshot.taken_at
        site_open = {site: schedule.is_open(now) for site, schedule in loaded.schedules.items()}
        self.turns.observe(fleet_turns(loaded.config, snapshot, self.catalog.kinds), site_open, now)

    async def check_internet(self) -> None:
        """The daemon's own internet check ([internet.probe]); alerts look at once."""
        if await self.internet_probe.run() is not None:
            self.alerting.request_evaluation()

    def _schedule_internet_probe(self) -> None:
        probe = self.loaded.config.internet.probe
        if probe is None:
            if self.scheduler.get_job(INTERNET_PROBE_JOB) is not None:
                self.scheduler.remove_job(INTERNET_PROBE_JOB)
            return
        self.scheduler.add_job(
            self.check_internet,
            "interval",
            seconds=probe.interval,
            id=INTERNET_PROBE_JOB,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )

    def purge_history(self) -> None:
        retention = self.loaded.config.store.retention
        try:
            result = purge_history(self.store, self.clock.now(), retention)
        except StoreError as exc:
            log.warning("history purge failed: %s", exc)
            return
        log.info("purged history older than store.retention: %s", result)

    def backup_store(self) -> None:
        """The daily backup of the store, when due; a failure is logged and counted."""
        self.store_keeper.backup_if_due(self.clock.now())

    async def refresh_calendars(self) -> None:
        """Holidays and feeds anew; the schedules ask the calendars, so no swap is needed."""
        await refresh_calendars(self.loaded.calendars, self.alerting.request_evaluation)

    def expire_heartbeats(self) -> None:
        expired = self.state.expire_heartbeats(self.clock.now())
        for key in expired:
            log.info("device %s missed its heartbeat; now down", key)
        if expired:
            self.alerting.request_evaluation()

    async def run(self, stop: asyncio.Event) -> None:
        # Held until the shutdown: no second daemon, no restore under our feet.
        self.store_keeper.lock.acquire()
        await asyncio.to_thread(self._restore_usage)
        self.history = await asyncio.to_thread(HistoryRecorder, self.store, self.catalog.kinds)
        self.scheduler.add_job(
            self.record_history,
            "interval",
            seconds=SAMPLE_INTERVAL,
            id="history",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self.purge_history,
            "interval",
            hours=24,
            id="purge-history",
            next_run_time=datetime.now(UTC),
        )
        # Hourly, to notice a day has passed; not at once, start-up is busy.
        self.scheduler.add_job(
            self.backup_store,
            "interval",
            hours=1,
            id="backup-store",
            next_run_time=datetime.now(UTC) + timedelta(minutes=10),
        )
        self.writer.start()
        self.http.start()
        host, port = self.http.address
        log.info("metrics at %s://%s:%d/metrics", self.http.scheme, host, port)
        self.scheduler.add_job(
            self.expire_heartbeats, "interval", seconds=HEARTBEAT_SWEEP_SECONDS, id="heartbeats"
        )
        self.scheduler.add_job(self.expire_sessions, "interval", seconds=60, id="sessions")
        # At once too: a feed's last good copy may be old, or missing.
        self.scheduler.add_job(
            self.refresh_calendars,
            "interval",
            hours=REFRESH_HOURS,
            id="calendars",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self.flush_seen,
            "interval",
            seconds=self.loaded.config.store.seen_flush_interval,
            id="flush-seen",
        )
        self._schedule_internet_probe()
        await self.poller.prepare(self.state.devices)
        with tuned_for_serving():
            self.poller.schedule(self.scheduler, self.state.devices)
            self.scheduler.start()
            if self.traps is not None:
                await self.traps.start(self.state.devices)
            self.subscriber.start()
            self.started.set()
            try:
                async with asyncio.TaskGroup() as group:
                    delivery = BackgroundTask(
                        "notification-delivery", lambda: self.alerting.run(stop)
                    )
                    services = [BackgroundTask(n, r) for n, r in self.services.runners(stop)]
                    for task in [delivery, *self._background, *services]:
                        group.create_task(self._isolated(task), name=task.name)
                    await stop.wait()
                    raise _Stopping
            except* _Stopping:
                pass
            finally:
                await self._shutdown()

    async def _isolated(self, task: BackgroundTask) -> None:
        try:
            await task.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task %s failed; the daemon goes on without it", task.name)

    async def _shutdown(self) -> None:
        if self.traps is not None:
            self.traps.close()
        self.scheduler.shutdown(wait=False)
        await self.jobs.wait_closed()
        if self.history is not None:
            await asyncio.to_thread(self.history.close)
        await self.sources.close()
        await asyncio.to_thread(self.subscriber.stop)
        await asyncio.to_thread(self.flush_seen, True)
        await asyncio.to_thread(self.writer.stop)
        await self.alerting.close()
        await asyncio.to_thread(self.http.stop)
        await asyncio.to_thread(self.store.close)
        self.store_keeper.lock.release()
        log.info("stopped")

    def reload(self, loaded: LoadedConfig) -> None:
        """Adopt a new device list; MQTT, HTTP and store settings need a restart."""
        old = self.loaded.config
        new = loaded.config
        for section in ("mqtt", "http", "store", "snmp", "polling"):
            if getattr(old, section) != getattr(new, section):
                log.warning("[%s] changed; restart the daemon for it to take effect", section)
        # Built before anything changes: the fleet is never half reloaded.
        routes = RouteTable(old.mqtt.topic_root, loaded.devices, self.catalog.kinds)
        self.state.replace_devices(loaded.devices, self._timeouts(loaded.devices))
        self.ingest.routes = routes
        self.routes = routes
        if self.scheduler.running:
            self.poller.schedule(self.scheduler, self.state.devices)
        if self.traps is not None:
            self.traps.reload(self.state.devices)
        # Keep the settings actually in force; only devices and sites change.
        kept = new.model_copy(
            update={
                "mqtt": old.mqtt,
                "http": old.http,
                "store": old.store,
                "snmp": old.snmp,
                "polling": old.polling,
            }
        )
        self.loaded = LoadedConfig(
            kept,
            loaded.devices,
            loaded.rule_settings,
            loaded.channels,
            schedules=loaded.schedules,
            web=self.loaded.web,
            calendars=loaded.calendars,
        )
        if self.scheduler.running and old.internet.probe != new.internet.probe:
            self._schedule_internet_probe()
        if self.scheduler.running and loaded.calendars:
            # A calendar added by the reload has not been fetched yet.
            self.jobs.run_now("calendars")
        self.alerting.reload(self.loaded)
        self.services.reload(new.integrations)
        self.subscriber.resubscribe()
        log.info("configuration reloaded: %d devices", len(loaded.devices))


class _Stopping(Exception):
    pass
