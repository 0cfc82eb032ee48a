"""The plugin API: everything a plugin may import from ocrfleet, and nothing else.

A plugin imports from this module alone (`from ocrfleet.plugin import ...`);
every other module of the core may change in any release. The bundled
plugins keep to this rule as well, and `make test` checks it (import-linter,
pyproject.toml).

`API_VERSION` is "MAJOR.MINOR". A release that adds a name or a hook raises
MINOR; one that removes or changes one raises MAJOR. A plugin states the
version it was written for in its entry-point module:

    OCRFLEET_PLUGIN_API = "1.0"

and loads only into an ocrfleet with the same MAJOR and at least that MINOR;
otherwise the daemon refuses to start with an error naming the plugin and
both versions. docs/plugins.md documents each name below.
"""

from __future__ import annotations

from ocrfleet import __version__
from ocrfleet.alerts.device_down import DeviceDownRule
from ocrfleet.alerts.rules import (
    AlertRule,
    Finding,
    MaintenanceEvidence,
    RuleContext,
    RuleSettings,
    Severity,
)
from ocrfleet.apiversion import API_VERSION
from ocrfleet.calendars.types import (
    Calendar,
    CalendarContext,
    CalendarError,
    CalendarType,
    ClosedPeriod,
)
from ocrfleet.config.durations import Duration
from ocrfleet.config.hours import parse_time_range
from ocrfleet.config.schedule import SiteSchedule
from ocrfleet.config.secrets import DeferredSecret, Secret, resolve_secret
from ocrfleet.connectivity import UPLINK_DOWN, CheckSource, InternetCheck
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.devicestate import DeviceState, DeviceStatus
from ocrfleet.hookspecs import CliCommand, hookimpl
from ocrfleet.httppoll.client import HttpClient, HttpError
from ocrfleet.httppoll.options import HttpDeviceOptions
from ocrfleet.i18n.catalogs import MessageCatalog, packaged_catalog
from ocrfleet.i18n.text import Catalog, Day, Moment, Number, Percent, Span, Text, Words
from ocrfleet.kinds import (
    Aggregation,
    DemoDevice,
    DeviceKind,
    FigureSpec,
    Gauge,
    KindExtension,
    MetricSpec,
    MqttChannel,
    MqttMessageResult,
    MqttTopic,
    NoOptions,
    PayloadError,
    Sample,
    SimulationContext,
    Simulator,
    StatusCard,
    Tone,
)
from ocrfleet.monitoring import AssetKind, MonitoringAsset, packaged_assets
from ocrfleet.notify.channels import Channel, ChannelType, DeliveryError
from ocrfleet.notify.notification import AlertItem, Notification
from ocrfleet.pluginhost.catalog import PluginConflictError
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.services import (
    FiringAlert,
    MqttWill,
    Service,
    ServiceContext,
    ServiceMqtt,
    ServiceOptions,
    ServiceType,
)
from ocrfleet.sessions import SessionEvent, SessionEventType
from ocrfleet.snmp.client import SnmpClient
from ocrfleet.snmp.options import SnmpDeviceOptions
from ocrfleet.snmp.snmprec import Cell, animate, as_read, scalar_path, snmprec, write_scalar
from ocrfleet.snmp.values import SnmpError, SnmpTable, SnmpValue, column
from ocrfleet.sources import PolledOptions, PollError, Source, SourceType
from ocrfleet.state import Availability, DeviceView, PollFailure, Presence, Usage

__all__ = [
    "API_VERSION",
    "UPLINK_DOWN",
    "Aggregation",
    "AlertItem",
    "AlertRule",
    "AssetKind",
    "Availability",
    "Calendar",
    "CalendarContext",
    "CalendarError",
    "CalendarType",
    "Catalog",
    "Cell",
    "Channel",
    "ChannelType",
    "CheckSource",
    "CliCommand",
    "ClosedPeriod",
    "Day",
    "DeferredSecret",
    "DeliveryError",
    "DemoDevice",
    "DeviceDownRule",
    "DeviceInfo",
    "DeviceKey",
    "DeviceKind",
    "DeviceState",
    "DeviceStatus",
    "DeviceView",
    "Duration",
    "FigureSpec",
    "Finding",
    "FiringAlert",
    "Gauge",
    "HttpClient",
    "HttpDeviceOptions",
    "HttpError",
    "InternetCheck",
    "KindExtension",
    "MaintenanceEvidence",
    "MessageCatalog",
    "MetricSpec",
    "Moment",
    "MonitoringAsset",
    "MqttChannel",
    "MqttMessageResult",
    "MqttTopic",
    "MqttWill",
    "NoOptions",
    "Notification",
    "Number",
    "PayloadError",
    "Percent",
    "PluginConflictError",
    "PollError",
    "PollFailure",
    "PolledOptions",
    "Presence",
    "RateLimitedLog",
    "RuleContext",
    "RuleSettings",
    "Sample",
    "Secret",
    "Service",
    "ServiceContext",
    "ServiceMqtt",
    "ServiceOptions",
    "ServiceType",
    "SessionEvent",
    "SessionEventType",
    "Severity",
    "SimulationContext",
    "Simulator",
    "SiteSchedule",
    "SnmpClient",
    "SnmpDeviceOptions",
    "SnmpError",
    "SnmpTable",
    "SnmpValue",
    "Source",
    "SourceType",
    "Span",
    "StatusCard",
    "Text",
    "Tone",
    "Usage",
    "Words",
    "__version__",
    "animate",
    "as_read",
    "column",
    "hookimpl",
    "packaged_assets",
    "packaged_catalog",
    "parse_time_range",
    "resolve_secret",
    "scalar_path",
    "snmprec",
    "write_scalar",
]
