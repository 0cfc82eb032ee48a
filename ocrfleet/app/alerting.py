"""Alerting as one part of the daemon: rules, engine, suppressors, ledger, outbox, channels.

The App builds one AlertingService and asks it to evaluate (a scheduler
job), to deliver (a background task) and for its metrics collectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client.registry import Collector

from ocrfleet.alerts.acks import AcknowledgementReader
from ocrfleet.alerts.context import build_context
from ocrfleet.alerts.engine import AlertEngine
from ocrfleet.alerts.maintenance import unmaintained_kinds
from ocrfleet.alerts.rules import AlertRule, Finding, MaintenanceEvidence, RuleSettings, Severity
from ocrfleet.alerts.silences import SilenceSuppressor
from ocrfleet.alerts.store import AlertRecord, AlertStore
from ocrfleet.alerts.windows import MaintenanceWindows
from ocrfleet.app.keeping import StateKeeper
from ocrfleet.clock import Clock
from ocrfleet.config.alerting import LOG_CHANNEL
from ocrfleet.config.loader import LoadedConfig
from ocrfleet.i18n.readers import Readers
from ocrfleet.internet.judge import InternetJudge
from ocrfleet.kept import KeepsState
from ocrfleet.kinds import DeviceKind
from ocrfleet.maintenance.ledger import LedgerView, MaintenanceLedger
from ocrfleet.metrics.alerting import AlertingCollector
from ocrfleet.metrics.maintenance import MaintenanceCollector
from ocrfleet.metrics.outbox import OutboxCollector
from ocrfleet.notify.channels import Channel
from ocrfleet.notify.compose import Composer
from ocrfleet.notify.log_channel import LogChannelType, LogOptions
from ocrfleet.notify.outbox import Dispatcher, Outbox
from ocrfleet.notify.templates import ChannelTemplates
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.state import FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.database import StoreError
from ocrfleet.store.kept import KeptKey, KeptStateStore

log = logging.getLogger(__name__)

# Seconds between reads of the maintenance ledger for the rules.
LEDGER_REFRESH = 10.0

# Labels the engine adds to every alert (AlertEngine._labels); no finding carries them.
ENGINE_LABELS = frozenset({"alertname", "severity", "type"})


def build_channels(loaded: LoadedConfig) -> dict[str, Channel]:
    """Every configured channel, plus the built-in `log`."""
    channels: dict[str, Channel] = {LOG_CHANNEL: LogChannelType().create(LOG_CHANNEL, LogOptions())}
    for name, (channel_type, options) in loaded.channels.items():
        channels[name] = channel_type.create(name, options)
    return channels


def restore_findings(
    records: Iterable[AlertRecord],
    rules: Mapping[str, AlertRule],
    owners: Mapping[str, str],
    settings: Mapping[str, RuleSettings],
) -> None:
    """Hand each rule the findings of its alerts, as the store holds them."""
    held: dict[str, list[Finding]] = {name: [] for name in rules}
    for record in records:
        if record.rule in held:
            own_settings = settings.get(record.rule)
            configured = own_settings.severity if own_settings is not None else None
            severity = configured or rules[record.rule].default_severity
            held[record.rule].append(_finding_of(record, severity))
    for name, findings in held.items():
        try:
            rules[name].restore_findings(findings)
        except Exception:
            log.exception(
                "plugin %s could not take back the alerts of rule %s; it starts afresh",
                owners.get(name, "?"),
                name,
            )


def _finding_of(record: AlertRecord, configured: Severity) -> Finding:
    """The finding that made `record`, as its rule last yielded it.

    A severity other than the rule's `configured` one was the finding's own;
    the same one may have been either, and both come to the same. Labels with
    an empty value are not there: the engine drops them (AlertEngine._labels),
    so for it a finding with them and one without are the same alert.
    """
    labels = {k: v for k, v in record.labels.items() if k not in ENGINE_LABELS}
    try:
        own: Severity | None = Severity(record.severity)
    except ValueError:  # a store written by a version that knew other words
        own = None
    return Finding(
        rule=record.rule,
        subject=record.key.removeprefix(f"{record.rule}:"),
        labels=labels,
        summary=record.summary,
        description=record.description,
        severity=own if own is not configured else None,
        detail=record.detail,
    )


class AlertingService:
    def __init__(
        self,
        loaded: LoadedConfig,
        catalog: PluginCatalog,
        state: Callable[[], FleetState],
        clock: Clock,
        store: StoreConnections,
    ) -> None:
        self._loaded = loaded
        self._kinds: Mapping[str, DeviceKind] = catalog.kinds
        self._state = state
        self._clock = clock
        config = loaded.config
        self.ledger = MaintenanceLedger(store)
        self.outbox = Outbox(store, config.outbox, clock)
        self.channels = build_channels(loaded)
        self.dispatcher = Dispatcher(store, self.channels, config.outbox, clock)
        self._silences = SilenceSuppressor(store, clock)
        self._windows = MaintenanceWindows(config.alerting.maintenance_windows, loaded.schedules)
        self._catalogs = catalog.catalogs()
        self._readers = config.readers(self._catalogs)
        self._templates = ChannelTemplates.from_loaded(loaded)
        self.engine = AlertEngine(
            catalog.rules,
            loaded.rule_settings,
            config.alerting,
            AlertStore(store),
            [self._silences, self._windows],
            rule_owner=lambda rule: catalog.rule_owner.get(rule, "?"),
            on_enqueued=self.dispatcher.wake,
            record_evidence=self._record_evidence,
            readers=self._readers,
            compose=Composer(lambda: self._readers, lambda: self._templates),
            acknowledgements=AcknowledgementReader(store),
        )
        keepers: dict[KeptKey, KeepsState] = {("rule", n): r for n, r in catalog.rules.items()}
        keepers.update({("kind", n): k for n, k in catalog.kinds.items()})
        owners = {("rule", n): p for n, p in catalog.rule_owner.items()}
        owners.update({("kind", n): p for n, p in catalog.kind_owner.items()})
        self.kept = StateKeeper(KeptStateStore(store), keepers, owners)
        self.kept.restore()
        restore_findings(
            self.engine.records.values(), catalog.rules, catalog.rule_owner, loaded.rule_settings
        )
        self._ledger_view = LedgerView()
        # Replaced by the App with the one that knows the daemon's own check.
        self.internet = InternetJudge(catalog.kinds)
        self._ledger_read_at: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    @property
    def evaluation_interval(self) -> float:
        return self._loaded.config.alerting.evaluation_interval

    def request_evaluation(self) -> None:
        """Evaluate soon; safe from any thread (the MQTT thread, a poll, a job)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # RuntimeError: the loop closed meanwhile, the daemon is stopping.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake.set)

    @property
    def readers(self) -> Readers:
        """Who reads which language, in which zone (follows reloads)."""
        return self._readers

    def ledger_view(self) -> LedgerView:
        return self._ledger_view

    def evaluate(self) -> None:
        """One evaluation of every rule (in a worker thread, one at a time)."""
        now = self._clock.now()
        # Evaluations follow every poll; the ledger changes a few times a
        # month (`ocrfleet maintenance done` in another process, evidence
        # logged here), so it is read again only now and then.
        if self._ledger_read_at is None or now - self._ledger_read_at >= LEDGER_REFRESH:
            try:
                self._ledger_view = self.ledger.view()
                self._ledger_read_at = now
            except StoreError as exc:
                log.warning("maintenance ledger not readable, using the last view: %s", exc)
        context = build_context(
            self._state(), self._loaded, self._kinds, self._ledger_view, now, self.internet
        )
        self.engine.evaluate(context)
        self.kept.save_due(now)

    def _record_evidence(self, rule: str, evidence: MaintenanceEvidence) -> None:
        if self.ledger.record(
            evidence.device,
            evidence.task,
            evidence.at,
            None,
            evidence.note,
            source=f"evidence:{rule}",
            evidence_id=evidence.evidence_id,
        ):
            self._ledger_read_at = None  # the next evaluation sees it
            log.info(
                "maintenance logged from evidence: %s %s: %s",
                evidence.device,
                evidence.task,
                evidence.note,
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Evaluate and deliver until `stop` is set."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._evaluate_until(stop), name="alert-evaluation")
            group.create_task(self.dispatcher.run(stop), name="notification-delivery")

    async def _evaluate_until(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                started = self._clock.now()
                try:
                    # In a worker thread: rules are plugin code, and a slow
                    # one must not hold up polls and deliveries on the loop.
                    await asyncio.to_thread(self.evaluate)
                except Exception:
                    log.exception("alert evaluation failed; the next one tries again")
                await self._wait_for_next(stop, stopping, started)
        finally:
            stopping.cancel()

    async def _wait_for_next(
        self, stop: asyncio.Event, stopping: asyncio.Future[Any], started: float
    ) -> None:
        config = self._loaded.config.alerting
        now = self._clock.now()
        wait = config.evaluation_interval
        due = self.engine.next_due
        if due is not None:
            wait = min(wait, due - now)
        wait = max(wait, config.min_evaluation_gap - (now - started), 0.0)
        woken: asyncio.Future[Any] = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({woken, stopping}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
        if self._wake.is_set() and not stop.is_set():
            self._wake.clear()
            # Woken early by a change: still keep the minimum gap, which also
            # gathers a burst of polls into one evaluation.
            rest = config.min_evaluation_gap - (self._clock.now() - started)
            if rest > 0:
                await asyncio.wait({stopping}, timeout=rest)

    def collectors(self) -> list[Collector]:
        return [
            AlertingCollector(lambda: self.engine),
            OutboxCollector(lambda: self.dispatcher.stats, self.outbox.pending),
            MaintenanceCollector(
                lambda: self._state().devices,
                self.ledger_view,
                lambda: self._loaded.config.maintenance,
                self._clock,
                unmaintained_kinds=unmaintained_kinds(self._kinds),
            ),
        ]

    def reload(self, loaded: LoadedConfig) -> None:
        """New rule settings, routes, windows and schedules; channels need a restart."""
        if loaded.config.alerting.channels != self._loaded.config.alerting.channels:
            log.warning("[alerting.channels] changed; restart the daemon for it to take effect")
        self._loaded = loaded
        self._windows = MaintenanceWindows(
            loaded.config.alerting.maintenance_windows, loaded.schedules
        )
        self._readers = loaded.config.readers(self._catalogs)
        self._templates = ChannelTemplates.from_loaded(loaded)
        self.engine.reconfigure(
            loaded.rule_settings,
            loaded.config.alerting,
            [self._silences, self._windows],
            self._readers,
        )

    async def close(self) -> None:
        await asyncio.to_thread(self.kept.save, self._clock.now())
        self.kept.close()
        for channel in self.channels.values():
            try:
                await channel.close()
            except Exception:
                log.exception("channel %s did not close cleanly", channel.name)
        self.outbox.close()
        self.ledger.close()
