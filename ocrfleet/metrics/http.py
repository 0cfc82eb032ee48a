"""The HTTP endpoint: /metrics for Prometheus, /healthz for service managers."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry

from ocrfleet.metrics.exposition import Exposition, MetricsSource

log = logging.getLogger(__name__)

HealthCheck = Callable[[], dict[str, Any]]


class MetricsServer:
    def __init__(
        self,
        host: str,
        port: int,
        metrics: MetricsSource | CollectorRegistry,
        health: HealthCheck,
    ) -> None:
        source = Exposition(metrics) if isinstance(metrics, CollectorRegistry) else metrics
        handler = _handler(source, health)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-http", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(metrics: MetricsSource, health: HealthCheck) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/metrics":
                body, content_type = metrics.render(self.headers.get("Accept", ""))
                self._send(200, content_type, body)
            elif path == "/healthz":
                status = health()
                code = 200 if status.get("ok") else 503
                self._send(code, "application/json", json.dumps(status).encode())
            elif path == "/":
                body = (
                    b'<html><body><h1>ocrfleet</h1><a href="/metrics">metrics</a> '
                    b'<a href="/healthz">healthz</a></body></html>'
                )
                self._send(200, "text/html; charset=utf-8", body)
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http: " + format, *args)

    return Handler
