"""What the core itself contributes through the plugin hooks: the `log`
channel, the rules that need no device kind (seats, norms, maintenance) and
the monitoring files of the whole fleet (ocrfleet/monitoring/).

Registered by build_plugin_manager like any plugin, under the name "ocrfleet".
"""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.alerts.internet import InternetDegradedRule, InternetDownRule
from ocrfleet.alerts.maintenance import MonthlyMaintenanceRule, RenewalDueRule
from ocrfleet.alerts.rules import AlertRule
from ocrfleet.alerts.seats import (
    MunicipalityBelowNormRule,
    NoUnreservedSeatRule,
    SeatsBelowMinimumRule,
)
from ocrfleet.alerts.turns import SessionOverLimitRule
from ocrfleet.apiversion import API_VERSION
from ocrfleet.hookspecs import hookimpl
from ocrfleet.httppoll.source import HttpSourceType
from ocrfleet.i18n.catalogs import MessageCatalog, packaged_catalog
from ocrfleet.monitoring.assets import MonitoringAsset, packaged_assets
from ocrfleet.notify.channels import ChannelType
from ocrfleet.notify.log_channel import LogChannelType
from ocrfleet.snmp.source import SnmpSourceType
from ocrfleet.sources import SourceType

# Written for the plugin API of the very release it comes with.
OCRFLEET_PLUGIN_API = API_VERSION


@hookimpl
def ocrfleet_source_types() -> Sequence[SourceType]:
    return [SnmpSourceType(), HttpSourceType()]


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
        InternetDownRule(),
        InternetDegradedRule(),
        SessionOverLimitRule(),
    ]


@hookimpl
def ocrfleet_monitoring_assets() -> Sequence[MonitoringAsset]:
    return packaged_assets("ocrfleet")


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    return [packaged_catalog("ocrfleet")]
