"""The web side of the daemon, put together from the parts the App has built."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from ocrfleet.alerts.acks import AckStore
from ocrfleet.app.alerting import AlertingService
from ocrfleet.clock import Clock
from ocrfleet.config.loader import LoadedConfig
from ocrfleet.i18n.readers import Readers
from ocrfleet.kinds import DeviceKind
from ocrfleet.metrics.exposition import MetricsSource
from ocrfleet.state import FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.web.actions import Actions
from ocrfleet.web.application import SECURITY_HEADERS, WebParts, build_application
from ocrfleet.web.auth import LoginThrottle, Passwords, Sessions
from ocrfleet.web.guard import Guard
from ocrfleet.web.pages import Pages
from ocrfleet.web.scrape import SharedScrapes
from ocrfleet.web.server import WebServer
from ocrfleet.web.status import StatusReader
from ocrfleet.web.views import Views

log = logging.getLogger(__name__)

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def build_web_server(
    loaded: Callable[[], LoadedConfig],
    metrics: MetricsSource,
    health: Callable[[], dict[str, Any]],
    state: Callable[[], FleetState],
    kinds: dict[str, DeviceKind],
    alerting: AlertingService,
    readers: Callable[[], Readers],
    store: StoreConnections,
    clock: Clock,
) -> WebServer:
    config = loaded().config
    http = config.http
    web = loaded().web
    users = web.basic_auth_users if web is not None else {}
    tls = web.ssl_context() if web is not None else None
    if web is not None and web.tls_server_config is not None:
        for key in web.tls_server_config.ignored():
            log.warning("web_config_file: tls_server_config.%s is not applied here", key)
    if not users and http.listen not in _LOOPBACK:
        log.warning(
            "http.listen is %s without users: anyone who reaches it can read the pages"
            " (writing is off); see docs/web.md",
            http.listen,
        )
    guard = Guard(
        passwords=Passwords(users),
        operators=frozenset(http.operators),
        sessions=Sessions(http.session_lifetime, secrets.token_bytes(32)),
        throttle=LoginThrottle(),
        public_kiosk=http.public_kiosk,
        secure_cookies=tls is not None,
        anonymous_read=http.anonymous_read,
    )

    def acknowledgements() -> dict[str, Any]:
        acks = AckStore(store, clock)
        try:
            return acks.current()
        finally:
            acks.close()

    status = StatusReader(
        loaded=loaded,
        state=state,
        kinds=kinds,
        alerts=lambda: alerting.engine.records,
        acknowledgements=acknowledgements,
        suppressed=lambda: alerting.engine.suppressed,
        clock=clock,
        readers=readers,
    )
    views = Views(status, loaded, state, kinds, clock, alerting.internet)
    actions = Actions(store, loaded, clock, alerting.request_evaluation)
    application = build_application(
        WebParts(
            scrapes=SharedScrapes(metrics),
            health=health,
            views=views,
            pages=Pages(),
            actions=actions,
            guard=guard,
        )
    )
    # The operator's headers (exporter-toolkit's http_server_config) may
    # tighten ours, e.g. add Strict-Transport-Security.
    headers = SECURITY_HEADERS | (web.http_server_config.headers if web is not None else {})
    return WebServer(
        application,
        http.listen,
        http.port,
        tls=tls,
        request_timeout=http.request_timeout,
        max_connections=http.max_connections,
        headers=headers,
    )
