"""Alert rules for public PCs and laptops, besides `pc_offline` (ocrfleet.alerts.device_down)."""

from __future__ import annotations

from collections.abc import Iterable

from ocrfleet.plugin import (
    AlertRule,
    DeviceState,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet_agent.payloads import Health

# Laptops lent to visitors need their restore software as much as desktops do.
SEAT_KINDS = ("pc", "laptop")


class PcNotFrozenRule(AlertRule):
    """A PC that is up with its restore software (e.g. Deep Freeze) thawed.

    Thawed, what one visitor leaves behind (downloads, saved passwords, a
    logged-in webmail) survives the reboot and reaches the next visitor.
    A PC that does not know (`frozen` null) never fires: many have no
    restore software the agent can see.
    """

    name = "pc_not_frozen"
    description = "a public PC is up with its restore software disabled"
    default_severity = Severity.WARNING

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        for view in context.views():
            info = view.info
            if info.kind not in SEAT_KINDS:
                continue
            health = view.reading
            if not isinstance(health, Health) or health.frozen is not False:
                continue
            status = context.statuses.get(info.key)
            if status is None or status.state is not DeviceState.UP:
                continue
            yield Finding(
                rule=self.name,
                subject=str(info.key),
                labels={
                    "site": info.site,
                    "device": info.id,
                    "kind": info.kind,
                    "category": "hardware",
                },
                summary=f"{info.kind} {info.id}: restore software is off",
                description=(
                    f"{info.kind} {info.key} reports its restore software thawed: what a "
                    "visitor leaves on it (files, saved passwords, open accounts) survives "
                    "a reboot and reaches the next visitor. Freeze it again after maintenance."
                ),
            )
