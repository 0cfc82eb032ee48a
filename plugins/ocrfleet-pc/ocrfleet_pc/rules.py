"""Alert rules for public PCs and laptops, besides `pc_offline` (ocrfleet.alerts.device_down)."""

from __future__ import annotations

from collections.abc import Iterable

from ocrfleet.plugin import (
    AlertRule,
    Catalog,
    DeviceState,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet_agent.payloads import Health

_ = Catalog("ocrfleet_pc")

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
    title = _("Restore software switched off")
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
                summary=(
                    _(
                        "Restore software of laptop {device} is off — switch it back on",
                        device=info.id,
                    )
                    if info.kind == "laptop"
                    else _(
                        "Restore software of PC {device} is off — switch it back on", device=info.id
                    )
                ),
                description=_(
                    "While it is off, whatever a visitor leaves behind (files, saved passwords, "
                    "accounts still logged in) stays after a restart and reaches the next "
                    "visitor. Switch the restore software (such as Deep Freeze) back on once "
                    "the maintenance is done, or call IT."
                ),
                detail=f"{info.kind} {info.key}: agent health reports frozen=false (thawed)",
            )
