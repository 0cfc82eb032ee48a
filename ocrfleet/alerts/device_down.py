"""A device of one kind is down while its site is open: the rule kinds reuse.

The core knows no device kind, so it does not register this rule itself;
each kind's plugin registers one for its kind, with its own name and
category (`printer_unreachable` is hardware for the front desk's IT, a
`hotspot_down` is network). A device that is off while its site is closed
is `scheduled_off` (ocrfleet/devicestate.py), never down.
"""

from __future__ import annotations

from collections.abc import Iterable

from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet.devicestate import DeviceState


class DeviceDownRule(AlertRule):
    """One instance per kind; `summary` may use {device}, {site} and {reason}."""

    default_severity = Severity.CRITICAL

    def __init__(
        self,
        *,
        kind: str,
        name: str,
        category: str,
        summary: str,
        description: str = "",
        settings_model: type[RuleSettings] = RuleSettings,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.description = description or f"a {kind} is down while its site is open"  # type: ignore[misc]
        self.settings_model = settings_model  # type: ignore[misc]
        self._kind = kind
        self._category = category
        self._summary = summary

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        for view in context.views(self._kind):
            status = context.statuses.get(view.info.key)
            if status is None or status.state is not DeviceState.DOWN:
                continue
            info = view.info
            yield Finding(
                rule=self.name,
                subject=str(info.key),
                labels={
                    "site": info.site,
                    "device": info.id,
                    "kind": info.kind,
                    "category": self._category,
                    "reason": status.reason,
                },
                summary=self._summary.format(device=info.id, site=info.site, reason=status.reason),
                description=(
                    f"{info.kind} {info.key} is down ({status.reason}) while its site is open"
                ),
            )
