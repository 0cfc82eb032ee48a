"""A site without internet, or with a slow one: rules for IT (docs/internet.md).

`internet_down` is not `hotspot_down`: the hotspot may be up and serving
wifi while the line behind it is dead, and a dead hotspot with a working
line leaves the PCs online. The state comes from the checks made inside the
site (ocrfleet/internet/site.py), judged once per evaluation.

A single failed check is not an outage (a PC rebooting its network, a page
that hiccups), so the rules wait: 5 minutes for down, 15 for slow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import Field

from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet.config.durations import Duration
from ocrfleet.connectivity import UPLINK_DOWN
from ocrfleet.i18n.text import Catalog, Number, Text
from ocrfleet.internet.site import InternetState

_ = Catalog("ocrfleet")
_n = _.plural

CATEGORY = "network"

# What each error word of a check (ocrfleet/connectivity.py) means, for IT.
_REASONS: dict[str, Text] = {
    "dns": _("names could not be looked up (DNS)"),
    "connect": _("no connection could be made"),
    "tls": _("the secure connection was refused (TLS)"),
    "timeout": _("no answer came in time"),
    "http": _("the page answered with an error"),
    UPLINK_DOWN: _("a device's uplink is down"),
}
_OTHER_REASON = _("the check failed otherwise")


def reasons_words(errors: Sequence[str]) -> Text:
    """The failing checks' reasons in words, most common first."""
    words = [_REASONS.get(error, _OTHER_REASON) for error in errors] or [_OTHER_REASON]
    joined = words[0]
    for more in words[1:]:
        joined = _("{first}; {more}", first=joined, more=more)
    return joined


class InternetDownSettings(RuleSettings):
    for_: Duration = Field(default=300.0, alias="for")


class InternetDegradedSettings(RuleSettings):
    for_: Duration = Field(default=900.0, alias="for")


class InternetDownRule(AlertRule):
    name = "internet_down"
    title = _("No internet")
    description = "every fresh internet check from inside a site failed"
    default_severity = Severity.CRITICAL
    settings_model = InternetDownSettings

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        for site in context.config.sites:
            found = context.internet.get(site.id)
            if found is None or found.state is not InternetState.DOWN:
                continue
            yield Finding(
                rule=self.name,
                subject=site.id,
                labels={"site": site.id, "category": CATEGORY},
                summary=_("No internet at {site}", site=site.name),
                description=_n(
                    "The only check from inside the site failed: {reasons}. Visitors cannot "
                    "go online, even when the wifi is up. Check the modem or router and the "
                    "provider's line.",
                    "All {checks} checks from inside the site failed: {reasons}. Visitors "
                    "cannot go online, even when the wifi is up. Check the modem or router "
                    "and the provider's line.",
                    "checks",
                    checks=found.checks,
                    reasons=reasons_words(found.errors),
                ),
                detail=(
                    f"{found.failed}/{found.checks} checks failed"
                    f" ({', '.join(found.errors)}) by {', '.join(found.failing)}"
                ),
            )


class InternetDegradedRule(AlertRule):
    name = "internet_degraded"
    title = _("Slow internet")
    description = (
        "the median latency of a site's internet checks is above internet.degraded_latency"
    )
    default_severity = Severity.WARNING
    settings_model = InternetDegradedSettings

    def evaluate(
        self, context: RuleContext, settings: RuleSettings
    ) -> Iterable[Finding | MaintenanceEvidence]:
        threshold = context.config.internet.degraded_latency
        for site in context.config.sites:
            found = context.internet.get(site.id)
            if found is None or found.state is not InternetState.DEGRADED:
                continue
            latency = found.latency or 0.0
            yield Finding(
                rule=self.name,
                subject=site.id,
                labels={"site": site.id, "category": CATEGORY},
                summary=_("Slow internet at {site}", site=site.name),
                description=_(
                    "Checks from inside the site take {seconds} s (median), more than the "
                    "{threshold} s set as slow. Pages load slowly for visitors; check the "
                    "line's load and the provider.",
                    seconds=Number(latency, 1),
                    threshold=Number(threshold, 1),
                ),
                detail=(
                    f"median latency {latency:.3f} s > internet.degraded_latency {threshold:g} s"
                    f" over {found.checks - found.failed} successful checks"
                ),
            )
