"""Building the RuleContext of one evaluation from the daemon's live state."""

from __future__ import annotations

from collections.abc import Mapping

from ocrfleet.alerts.maintenance import unmaintained_kinds
from ocrfleet.alerts.rules import RuleContext
from ocrfleet.config.loader import LoadedConfig
from ocrfleet.devicestate import device_status
from ocrfleet.internet.judge import InternetJudge
from ocrfleet.kinds import DeviceKind
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.state import FleetState


def build_context(
    state: FleetState,
    loaded: LoadedConfig,
    kinds: Mapping[str, DeviceKind],
    ledger: LedgerView,
    now: float,
    internet: InternetJudge | None = None,
) -> RuleContext:
    snapshot = state.snapshot(now)
    statuses = {
        view.info.key: device_status(view, now, kinds.get(view.info.kind))
        for view in snapshot.devices
    }
    config = loaded.config
    judge = internet or InternetJudge(kinds)
    return RuleContext(
        now=now,
        snapshot=snapshot,
        config=config,
        devices=state.devices,
        statuses=statuses,
        ledger=ledger,
        site_open={site: schedule.is_open(now) for site, schedule in loaded.schedules.items()},
        seat_kinds=frozenset(name for name, kind in kinds.items() if kind.is_seat),
        unmaintained_kinds=unmaintained_kinds(kinds),
        internet=judge.sites(
            [site.id for site in config.sites], snapshot.devices, statuses, config.internet, now
        ),
    )
