"""The server before the web stack: /metrics on the standard library's ThreadingHTTPServer.

The daemon served /metrics this way until it moved to FastAPI on uvicorn
(ocrfleet/web/). It is kept here, and only here, as bench/scrape.py's
baseline: with the same renderer behind both, the difference between this
server and the daemon's web server is what the server change costs a scrape.
It is the former ocrfleet/metrics/http.py's MetricsServer cut down to
/metrics (its /healthz and index page played no part in the figures).
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry

from ocrfleet.metrics.exposition import Exposition, MetricsSource

log = logging.getLogger(__name__)


class StdlibServer:
    """GET /metrics from `metrics`, one thread per connection, as the daemon had it."""

    def __init__(self, host: str, port: int, metrics: MetricsSource | CollectorRegistry) -> None:
        source = Exposition(metrics) if isinstance(metrics, CollectorRegistry) else metrics
        self._server = ThreadingHTTPServer((host, port), _handler(source))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="stdlib-http", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        # shutdown() waits for serve_forever, which never returns if it never ran.
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _handler(metrics: MetricsSource) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/metrics":
                body, content_type = metrics.render(self.headers.get("Accept", ""))
                self._send(200, content_type, body)
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
