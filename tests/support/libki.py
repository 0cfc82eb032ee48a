"""A Libki-like HTTP server on 127.0.0.1 that answers with Libki's JSON from fixture files."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ocrfleet.devices import DeviceKey
from tests.support.daemon import RunningApp

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "libki"
CLIENTS = "/api/v2/clients"
RESERVATIONS = "/api/public/datatables/clients"


class LibkiServer:
    """Libki's HTTP API on 127.0.0.1, answering each path with a fixture file."""

    def __init__(self) -> None:
        self.answers: dict[str, bytes] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.answers.get(urlsplit(self.path).path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def serve(self, path: str, fixture: str) -> None:
        self.answers[path] = (FIXTURES / fixture).read_bytes()

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def libki_device(url: str, device_id: str = "libki") -> dict[str, Any]:
    """A `libki` device for Libki's location MAIN (the fixtures' clients are pc-01, pc-02, ...)."""
    options = {"url": url, "location": "MAIN", "poll_interval": 3600, "timeout": 2}
    return {"id": device_id, "kind": "libki", "options": options}


def poll_once(daemon: RunningApp, key: DeviceKey) -> None:
    """Poll a device now, on the daemon's loop, instead of waiting for its first poll."""
    daemon.call(lambda: daemon.app.poller.poll(key))
