"""What the core itself contributes through the plugin hooks: the `log`
channel and the rules that need no device kind (seats, norms, maintenance).

Registered by build_plugin_manager like any plugin, under the name "ocrfleet".
"""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.alerts.rules import AlertRule
from ocrfleet.alerts.seats import (
    MunicipalityBelowNormRule,
    NoUnreservedSeatRule,
    SeatsBelowMinimumRule,
)
from ocrfleet.maintenance.rules import MonthlyMaintenanceRule, RenewalDueRule
from ocrfleet.notify.channels import ChannelType
from ocrfleet.notify.log_channel import LogChannelType
from ocrfleet.pluginhost.hookspecs import hookimpl


@hookimpl
def ocrfleet_channel_types() -> Sequence[ChannelType]:
    return [LogChannelType()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    return [
        SeatsBelowMinimumRule(),
        NoUnreservedSeatRule(),
        MunicipalityBelowNormRule(),
        MonthlyMaintenanceRule(),
        RenewalDueRule(),
    ]
