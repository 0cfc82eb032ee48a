"""What people change from the web: acknowledgements, silences, maintenance entries.

The API and the pages' forms both come here, so a change is checked and
logged the same way whichever way it came. Every call opens its own
connection to the store and closes it: the web's worker threads come and
go, and SQLite's busy timeout orders these writes with the daemon's and
with `ocrfleet silence` / `ocrfleet maintenance` run by hand.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from ocrfleet.alerts.acks import AckError, Acknowledgement, AckStore
from ocrfleet.alerts.silences import Silence, SilenceError, SilenceStore, SilenceTarget
from ocrfleet.clock import Clock
from ocrfleet.config.loader import LoadedConfig
from ocrfleet.devices import DeviceKey
from ocrfleet.maintenance.ledger import MaintenanceEntry, MaintenanceLedger
from ocrfleet.store.connections import StoreConnections, StoreError

log = logging.getLogger(__name__)

# As `ocrfleet maintenance done --task`.
_TASK = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# A silence longer than this is a mistake more often than a plan.
MAX_SILENCE = 90 * 86400.0
# Maintenance logged from the web may be a little late, never in the future.
_FUTURE_TOLERANCE = 300.0
_MAX_TEXT = 500
_ACK_STATUS = {"no_alert": 404, "not_acknowledged": 404, "not_firing": 409, "invalid": 400}
_SILENCE_STATUS = {"no_silence": 404, "already_removed": 409, "invalid": 400}
_Closable = TypeVar("_Closable", AckStore, SilenceStore, MaintenanceLedger)


class ActionError(Exception):
    """A change refused, in one line; `status` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Actions:
    store: StoreConnections
    loaded: Callable[[], LoadedConfig]
    clock: Clock
    # Asks the alert engine to evaluate now, so the change shows at once.
    changed: Callable[[], None]

    # -- acknowledgements --------------------------------------------------

    def acknowledge(self, user: str, alert: str, comment: str = "") -> Acknowledgement:
        comment = _text(comment, "comment")
        with _opened(lambda: AckStore(self.store, self.clock)) as acks:
            try:
                ack = acks.acknowledge(alert, user, comment)
            except AckError as exc:
                raise ActionError(str(exc), _ACK_STATUS.get(exc.problem, 400)) from None
        log.info("web: %s acknowledged alert %s%s", user, alert, f": {comment}" if comment else "")
        self.changed()
        return ack

    def withdraw(self, user: str, alert: str) -> Acknowledgement:
        with _opened(lambda: AckStore(self.store, self.clock)) as acks:
            try:
                ack = acks.withdraw(alert)
            except AckError as exc:
                raise ActionError(str(exc), _ACK_STATUS.get(exc.problem, 400)) from None
        log.info("web: %s withdrew the acknowledgement of alert %s", user, alert)
        self.changed()
        return ack

    # -- silences ----------------------------------------------------------

    def silences(self, include_expired: bool = False) -> list[Silence]:
        with _opened(lambda: SilenceStore(self.store, self.clock)) as silences:
            return silences.list(self.clock.now(), include_expired)

    def silence(
        self,
        user: str,
        target: str,
        ends_at: float,
        reason: str,
        starts_at: float | None = None,
    ) -> Silence:
        self._known_target(target)
        now = self.clock.now()
        start = now if starts_at is None else starts_at
        if ends_at - start > MAX_SILENCE:
            raise ActionError("a silence may last at most 90 days")
        if ends_at <= now:
            raise ActionError("a silence must end in the future")
        reason = _text(reason, "reason")
        with _opened(lambda: SilenceStore(self.store, self.clock)) as silences:
            try:
                silence = silences.get(silences.add(target, start, ends_at, reason, user))
            except SilenceError as exc:
                raise ActionError(str(exc), _SILENCE_STATUS[exc.problem]) from None
        assert silence is not None
        log.info("web: %s silenced %s (#%d): %s", user, target, silence.id, silence.reason)
        self.changed()
        return silence

    def expire_silence(self, user: str, silence_id: int) -> Silence:
        with _opened(lambda: SilenceStore(self.store, self.clock)) as silences:
            try:
                silence = silences.remove(silence_id, self.clock.now())
            except SilenceError as exc:
                raise ActionError(str(exc), _SILENCE_STATUS[exc.problem]) from None
        log.info("web: %s ended silence #%d (%s)", user, silence_id, silence.target)
        self.changed()
        return silence

    def _known_target(self, target: str) -> None:
        try:
            parsed = SilenceTarget.parse(target)
        except SilenceError as exc:
            raise ActionError(str(exc)) from None
        loaded = self.loaded()
        if parsed.site not in {site.id for site in loaded.config.sites}:
            raise ActionError(f"there is no site {parsed.site!r}", 404)
        if parsed.device is not None:
            key = DeviceKey(parsed.site, parsed.device)
            if key not in {device.key for device in loaded.devices}:
                raise ActionError(f"there is no device {target!r}", 404)

    # -- maintenance -------------------------------------------------------

    def maintenance(
        self, device: str | None = None, since: float | None = None
    ) -> list[MaintenanceEntry]:
        key = self._device(device) if device is not None else None
        with _opened(lambda: MaintenanceLedger(self.store)) as ledger:
            return ledger.entries(key, since)

    def log_maintenance(
        self,
        user: str,
        device: str,
        task: str,
        note: str = "",
        done_at: float | None = None,
        minutes: int | None = None,
    ) -> MaintenanceEntry:
        key = self._device(device)
        if not _TASK.match(task):
            raise ActionError(
                f"task {task!r}: use lower-case letters, digits, - and _ (e.g. monthly)"
            )
        now = self.clock.now()
        at = now if done_at is None else done_at
        if at > now + _FUTURE_TOLERANCE:
            raise ActionError("done_at is in the future")
        if minutes is None:
            minutes = self.loaded().config.maintenance.monthly_minutes
        if not 0 <= minutes <= 24 * 60:
            raise ActionError("minutes must be between 0 and 1440")
        note = _text(note, "note")
        with _opened(lambda: MaintenanceLedger(self.store)) as ledger:
            entry_id = ledger.record(key, task, at, minutes, note, source=f"web:{user}")
            entry = ledger.entry(entry_id) if entry_id is not None else None
        if entry is None:
            raise ActionError("the entry was not saved", 503)
        log.info("web: %s logged %s for %s", user, task, key)
        self.changed()
        return entry

    def _device(self, text: str) -> DeviceKey:
        site, sep, device = text.partition("/")
        if not sep or not site or not device:
            raise ActionError(f'{text!r} is not a device: expected "SITE/DEVICE"')
        key = DeviceKey(site, device)
        if key not in {info.key for info in self.loaded().devices}:
            raise ActionError(f"there is no device {text!r}", 404)
        return key


def _text(value: str, name: str) -> str:
    value = value.strip()
    if len(value) > _MAX_TEXT:
        raise ActionError(f"{name} is longer than {_MAX_TEXT} characters")
    if any(ord(c) < 32 and c not in "\t\n" for c in value):
        raise ActionError(f"{name} holds control characters")
    return value


@contextmanager
def _opened(make: Callable[[], _Closable]) -> Iterator[_Closable]:
    """A store object for one change, closed after; a store that fails is 503."""
    try:
        handle = make()
    except (StoreError, sqlite3.Error, OSError) as exc:
        raise ActionError(f"the store cannot be used now: {exc}", 503) from None
    try:
        yield handle
    except (StoreError, sqlite3.Error) as exc:
        raise ActionError(f"the store cannot be used now: {exc}", 503) from None
    finally:
        handle.close()
