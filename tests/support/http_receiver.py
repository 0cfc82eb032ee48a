"""A real HTTP server on 127.0.0.1 that records what it is sent, for testing HTTP senders.

    with HttpReceiver() as receiver:
        receiver.fail_next(503, times=2)          # down for two requests
        ... send to receiver.url + "/hook" ...
        request = receiver.wait_for_requests(3)[-1]
        assert request.headers["idempotency-key"] == "..."
        assert request.json()["status"] == "firing"

It answers every request (any method) with the current status, 200 unless
told otherwise, and an empty JSON object as body. It serves plain HTTP, or
HTTPS when given a server-side `ssl.SSLContext`.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str  # with the query string, as sent
    headers: dict[str, str]  # names in lower case
    body: bytes
    answered: int  # the status it was given

    def json(self) -> Any:
        return json.loads(self.body)


class HttpReceiver:
    """Records requests; `fail_next` and `fail_until_told` make it answer an error status."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._requests: list[ReceivedRequest] = []
        self._status = 200
        self._status_left: int | None = None  # None: until told otherwise
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # -- what the tests say -------------------------------------------------

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer `status` to the next `times` requests, then 200 again."""
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        with self._lock:
            self._status, self._status_left = status, times

    def fail_until_told(self, status: int) -> None:
        """Answer `status` to every request until `recover` is called."""
        with self._lock:
            self._status, self._status_left = status, None

    def recover(self) -> None:
        """Answer 200 again."""
        with self._lock:
            self._status, self._status_left = 200, None

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until at least `count` requests arrived; raises AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} requests at {self.url}, got {len(self._requests)}"
                    )
                self._arrived.wait(left)
            return list(self._requests)

    # -- life cycle ---------------------------------------------------------

    def start(self) -> None:
        # A short poll interval: `stop` waits for the loop to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"http-receiver-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HttpReceiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------

    def _answer_for_next_request(self) -> int:
        with self._lock:
            status = self._status
            if self._status_left is not None:
                self._status_left -= 1
                if self._status_left == 0:
                    self._status, self._status_left = 200, None
            return status

    def _record(self, request: ReceivedRequest) -> None:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._answer_for_next_request()
                receiver._record(ReceivedRequest(self.command, self.path, headers, body, status))
                answer = b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                # Quiet: pytest shows the test's own output on failure.
                return None

        return Handler
