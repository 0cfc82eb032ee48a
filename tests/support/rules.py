"""Running a plugin's alert rules as the engine does: over a FleetState, at one moment."""

from __future__ import annotations

from collections.abc import Iterable

from ocrfleet.alerts.rules import Finding, MaintenanceEvidence, RuleContext
from ocrfleet.config.models import Config
from ocrfleet.devicestate import device_status
from ocrfleet.kinds import DeviceKind
from ocrfleet.maintenance.ledger import LedgerView
from ocrfleet.state import FleetState

SITE_ID, SITE_NAME = "lib", "Bibliotheek"
# One site of one municipality: all that a device's rules read of the configuration.
CONFIG = Config.model_validate(
    {
        "municipality": {"name": "Testdorp", "adult_population": 1000},
        "sites": [{"id": SITE_ID, "name": SITE_NAME, "village_core": "Testdorp"}],
    }
)


def rule_context(
    state: FleetState, now: float, *, config: Config = CONFIG, kind: DeviceKind | None = None
) -> RuleContext:
    """What the engine hands a rule at `now`; `kind`, if given, judges each device's status."""
    snapshot = state.snapshot(now)
    return RuleContext(
        now=now,
        snapshot=snapshot,
        config=config,
        devices=state.devices,
        statuses={view.info.key: device_status(view, now, kind) for view in snapshot.devices},
        ledger=LedgerView(),
    )


def findings(results: Iterable[Finding | MaintenanceEvidence]) -> list[Finding]:
    """The problems among what a rule yields, without its maintenance evidence."""
    return [r for r in results if isinstance(r, Finding)]
