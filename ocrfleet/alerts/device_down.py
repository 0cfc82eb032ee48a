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
from ocrfleet.i18n.text import Catalog, Moment, Text, Words

_ = Catalog("ocrfleet")

# Why a device is down, as whoever stands next to it would put it.
_SINCE: dict[str, Text] = {
    "timeout": _("It has not answered on the network since {since}."),
    "refused": _("It has refused connections since {since}."),
    "auth": _("It has refused the daemon's credentials since {since}; IT must check its settings."),
    # It answers, so it is on: what it sends is broken (docs/snmp.md, troubleshooting).
    "truncated": _("It has sent only incomplete answers since {since}; IT must check it."),
    "malformed": _("It has sent only unreadable answers since {since}; IT must check it."),
    "offline": _("It has been switched off or disconnected since {since}."),
    "no_heartbeat": _("There has been no sign of life from it since {since}."),
}
_DOWN_SINCE = _("It has been out of reach since {since}.")
_WHAT_TO_DO = _(
    "Check that it is switched on and that its network cable is plugged in. "
    "If it stays down, call IT."
)


class DeviceDownRule(AlertRule):
    """One instance per kind.

    `summary` is a Text of the kind's catalog whose msgid may use {device}
    and {site} (the site's name); the rule fills them in. Fixed text (a str)
    may use {device}, {site} and {reason} as well, in one language.
    """

    default_severity = Severity.CRITICAL

    def __init__(
        self,
        *,
        kind: str,
        name: str,
        category: str,
        summary: Words,
        description: str = "",
        title: Words = "",
        settings_model: type[RuleSettings] = RuleSettings,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.title = title  # type: ignore[misc]
        self.description = description or f"a {kind} is down while its site is open"  # type: ignore[misc]
        self.settings_model = settings_model  # type: ignore[misc]
        self._kind = kind
        self._category = category
        self._summary = summary

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        site_names = {site.id: site.name for site in context.config.sites}
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
                summary=self._words(info.id, site_names.get(info.site, info.site), status.reason),
                description=_(
                    "{why} {todo}",
                    why=_SINCE.get(status.reason, _DOWN_SINCE).filled(
                        since=Moment(status.since or context.now)
                    ),
                    todo=_WHAT_TO_DO,
                ),
                detail=f"{info.kind} {info.key}: state down, reason {status.reason}",
            )

    def _words(self, device: str, site: str, reason: str) -> Words:
        if isinstance(self._summary, str):
            return self._summary.format(device=device, site=site, reason=reason)
        return self._summary.filled(device=device, site=site)
