"""The configuration schema. Every table forbids unknown keys, so typos surface."""

from __future__ import annotations

import ipaddress
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from ocrfleet.config.alerting import AlertingConfig, MaintenanceConfig, OutboxConfig
from ocrfleet.config.closures import Closure
from ocrfleet.config.durations import Duration
from ocrfleet.config.hours import OpeningHours
from ocrfleet.config.internet import InternetConfig
from ocrfleet.config.secrets import Secret
from ocrfleet.i18n.catalogs import Catalogs, Language
from ocrfleet.i18n.readers import Readers

# Ids appear in MQTT topics and metric labels: no slashes, wildcards or spaces.
Identifier = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="lower-case letters, digits, - and _"),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (e.g. 'Europe/Brussels')") from None
    return name


class Municipality(_Strict):
    name: str
    adult_population: int = Field(ge=0)
    # What people read (notifications, reminders, reports): "nl" (Flemish
    # usage) or "en". Sites and alert routes may choose otherwise.
    language: Language = "en"
    # The zone of times about no one site (the municipal norm, the report's
    # totals); None: the first site's.
    timezone: Annotated[str, AfterValidator(_known_timezone)] | None = None
    # Days every site is closed: "2026-12-25" or "2026-12-24..2027-01-01".
    holidays: list[Closure] = Field(default_factory=list)
    # Closing days of every site kept as data: `{ type = "...", ... }` tables,
    # validated by the plugins' calendar types (ocrfleet.calendars).
    calendars: list[dict[str, Any]] = Field(default_factory=list)


def _at_least_a_minute(seconds: float) -> float:
    # Below a minute a limit is a typo: "30" meant as minutes is 30 seconds.
    if seconds < 60.0:
        raise ValueError(
            f'a session limit must be at least 1 minute, e.g. "60m"; got {seconds:g} s'
        )
    return seconds


SessionLimit = Annotated[Duration, AfterValidator(_at_least_a_minute)]


class DeviceConfig(_Strict):
    id: Identifier
    kind: str
    model: str = ""
    purchase_date: date | None = None
    reservable: bool = False
    # This seat's own session limit (e.g. a quick-search PC), instead of the site's.
    session_limit: SessionLimit | None = None
    # Validated by the device kind's own options model once plugins are known.
    options: dict[str, Any] = Field(default_factory=dict)


class SiteConfig(_Strict):
    id: Identifier
    name: str
    village_core: str
    address: str = ""
    timezone: Annotated[str, AfterValidator(_known_timezone)] = "Europe/Brussels"
    # None: the municipality's language.
    language: Language | None = None
    opening_hours: OpeningHours = OpeningHours()
    # Days this site is closed besides the municipality's holidays.
    closures: list[Closure] = Field(default_factory=list)
    # This site's own calendars, as municipality.calendars.
    calendars: list[dict[str, Any]] = Field(default_factory=list)
    # Usable seats (public PCs and laptops that are up) below which the site
    # alerts during opening hours; None: no minimum.
    min_usable_seats: int | None = Field(default=None, ge=0)
    # Fair turns: how long a visitor may keep a seat; None: no limit. A
    # session past it tells the front desk (rule session_over_limit) when
    # `session_limit_applies` holds: "when_full", every seat that is up is
    # in use (visitors may be waiting), or "always".
    session_limit: SessionLimit | None = None
    session_limit_applies: Literal["when_full", "always"] = "when_full"
    # Ids unique within the site: checked by ocrfleet.config.references.
    devices: list[DeviceConfig] = Field(default_factory=list)


class TlsConfig(_Strict):
    # Checked when the daemon starts, not here: a config is often checked on
    # another machine than the one that holds the certificates.
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    # Only for brokers with self-signed certificates on a trusted network.
    insecure: bool = False


class MqttConfig(_Strict):
    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    client_id: str = Field(default="ocrfleet", min_length=1, max_length=64)
    topic_root: Identifier = "ocrfleet"
    username: str | None = None
    password: Secret | None = None
    tls: TlsConfig | None = None
    keepalive: int = Field(default=30, ge=5, le=3600)
    reconnect_min_delay: float = Field(default=1.0, gt=0)
    # Short, and shorter than the agents' (2-30 s): after a broker restart the
    # daemon must be subscribed again before the agents send.
    reconnect_max_delay: float = Field(default=2.0, gt=0)
    queue_size: int = Field(default=10_000, ge=10)

    @model_validator(mode="after")
    def _delays(self) -> MqttConfig:
        if self.reconnect_max_delay < self.reconnect_min_delay:
            raise ValueError("reconnect_max_delay must not be below reconnect_min_delay")
        if self.password is not None and self.username is None:
            raise ValueError("password given without username")
        return self


class HttpConfig(_Strict):
    listen: str = "127.0.0.1"
    port: int = Field(default=9330, ge=0, le=65535)
    # TLS and users for every endpoint, in exporter-toolkit's web-config
    # format (docs/web.md). Without it: plain HTTP, reading open to all, no writes.
    web_config_file: Path | None = None
    # Users of web_config_file who may write (acknowledge, silence, log
    # maintenance); every other user may only read.
    operators: list[str] = Field(default_factory=list)
    # The entrance screen's seat display needs no login.
    public_kiosk: bool = True
    # Reading (pages, API, /metrics) needs no login either; writing still
    # does. For a LAN where every screen may see the status.
    anonymous_read: bool = False
    # A login from the log-in page lasts this long.
    session_lifetime: Duration = Field(default=8 * 3600.0, ge=60, le=30 * 86400)
    # Connections that send no complete request within this are closed.
    request_timeout: Duration = Field(default=10.0, gt=0, le=300)
    # More simultaneous connections than this are answered 503 at once.
    max_connections: int = Field(default=1000, ge=10, le=100_000)


class StoreConfig(_Strict):
    path: Path = Path("/var/lib/ocrfleet/ocrfleet.sqlite")
    seen_flush_interval: float = Field(default=30.0, gt=0)
    # History (sessions, daily figures, alert events, delivered notifications)
    # older than this is deleted; reports cannot reach further back.
    retention: Duration = Field(default=400 * 86400.0, gt=0)
    # Daily online backups go here; None: a `backups` directory beside `path`.
    backup_dir: Path | None = None
    # Backups kept, newest first; 0 turns the daily backup off.
    backups_kept: int = Field(default=7, ge=0)

    @property
    def backups(self) -> Path:
        """The directory that holds the store's backups."""
        return self.backup_dir if self.backup_dir is not None else self.path.parent / "backups"


def _sender_addresses(senders: dict[str, str]) -> dict[str, str]:
    for address, device in senders.items():
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ValueError(f"{address!r} is not an IP address") from None
        if device.count("/") != 1 or not all(device.split("/")):
            raise ValueError(f"{address!r}: {device!r} is not 'site/device'")
    return senders


class SnmpTrapsConfig(_Strict):
    # Off by default: a receiver is a listening port, opened only when asked.
    enabled: bool = False
    listen: str = "0.0.0.0"
    # 162 is the standard port and needs root or CAP_NET_BIND_SERVICE.
    port: int = Field(default=162, ge=0, le=65535)
    # Traps from one device within this many seconds bring one poll, not one each.
    min_poll_interval: Duration = Field(default=10.0, ge=1, le=3600)
    # Senders whose address is not a device's host (a print server, NAT):
    # IP address -> "site/device".
    senders: Annotated[dict[str, str], AfterValidator(_sender_addresses)] = Field(
        default_factory=dict
    )


class SnmpConfig(_Strict):
    # Devices polled over SNMP at the same moment, across the whole daemon.
    max_concurrent_polls: int = Field(default=64, ge=1, le=10_000)
    # SNMP traps that make the sending device be polled at once.
    traps: SnmpTrapsConfig = SnmpTrapsConfig()


class PollingConfig(_Strict):
    # Devices polled at the same moment through each other source (http, or
    # one a plugin adds); SNMP keeps its own bound in [snmp].
    max_concurrent_polls: int = Field(default=16, ge=1, le=10_000)


class SessionsConfig(_Strict):
    # No visitor session on a public PC lasts a whole day; one open longer
    # lost its end event (a crash, restore software wiping the agent's state).
    max_duration: float = Field(default=12 * 3600.0, gt=0)
    # How far in the future (by the daemon's clock) a session time may lie
    # before the event is refused as `implausible_time`: PC clocks drift, and
    # a PC without NTP may run minutes ahead.
    max_clock_skew: float = Field(default=300.0, ge=0)


class TemplatesConfig(_Strict):
    # Templates here replace the shipped ones: `<directory>/<channel>/<name>`
    # for one channel, `<directory>/<name>` for every channel of its type,
    # `<directory>/report/<name>` for the monthly report.
    directory: Path | None = None


class LoggingConfig(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Config(_Strict):
    municipality: Municipality
    # Site ids unique: checked by ocrfleet.config.references.
    sites: list[SiteConfig] = Field(min_length=1)
    mqtt: MqttConfig = MqttConfig()
    http: HttpConfig = HttpConfig()
    store: StoreConfig = StoreConfig()
    sessions: SessionsConfig = SessionsConfig()
    snmp: SnmpConfig = SnmpConfig()
    polling: PollingConfig = PollingConfig()
    logging: LoggingConfig = LoggingConfig()
    alerting: AlertingConfig = AlertingConfig()
    outbox: OutboxConfig = OutboxConfig()
    maintenance: MaintenanceConfig = MaintenanceConfig()
    templates: TemplatesConfig = TemplatesConfig()
    internet: InternetConfig = InternetConfig()
    # `[integrations.<name>]`: each checked by its integration's own options
    # when the daemon starts (ocrfleet.services); `enabled = true` runs it.
    integrations: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def max_concurrent_polls(self, source: str) -> int:
        """The bound on devices polled at once through one source."""
        if source == "snmp":
            return self.snmp.max_concurrent_polls
        return self.polling.max_concurrent_polls

    def zone_of_all(self) -> str:
        """The time zone of what concerns every site, or none: the municipality's own."""
        return self.municipality.timezone or self.sites[0].timezone

    def readers(self, catalogs: Catalogs) -> Readers:
        """The language and time zone each site's readers get."""
        return Readers(
            catalogs,
            self.municipality.language,
            self.zone_of_all(),
            {site.id: site.language for site in self.sites},
            {site.id: site.timezone for site in self.sites},
            site_names={site.id: site.name for site in self.sites},
            everywhere=self.municipality.name,
        )

    def mqtt_password(self) -> str | None:
        secret: SecretStr | None = self.mqtt.password
        return secret.get_secret_value() if secret else None
