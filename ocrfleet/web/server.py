"""The HTTP server: uvicorn, on its own thread and event loop.

Its own loop, because a scrape renders /metrics for tens of milliseconds and
the daemon's loop runs polls and deliveries that must not wait for it; and a
busy daemon loop must not make Prometheus' scrapes time out either.

Beyond uvicorn's defaults: the socket is bound before start (so port 0 is
known at once and a port in use is an error at start, not in a thread), a
connection that sends no complete request within `request_timeout` is
closed (idle and slow-header sockets cost a file descriptor each), and past
`max_connections` new requests get 503 at once instead of a queue.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

# How long stop() lets requests in progress finish.
GRACE_SECONDS = 5.0


class _HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's protocol, closing connections that never complete a request."""

    request_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._request_timer: asyncio.TimerHandle | None = self.loop.call_later(
            self.request_timeout, self._request_timed_out
        )

    def on_message_begin(self) -> None:
        # A later request on a kept-alive connection gets the same limit.
        super().on_message_begin()
        if getattr(self, "_request_timer", None) is None:
            self._request_timer = self.loop.call_later(
                self.request_timeout, self._request_timed_out
            )

    def on_headers_complete(self) -> None:
        self._cancel_request_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_request_timer()
        transport = self.transport
        super().connection_lost(exc)
        # Python 3.11's socket transport keeps a bound method of itself after
        # it is closed, so every closed connection stays a reference cycle
        # until a collection; back-to-back scrapes then set off young
        # collections of 10-14 ms that stall ingest (bench/README.md, scrape.py;
        # CPython gh-100348, which 3.12 fixes itself). Over TLS the transport
        # seen here is asyncio's SSL one, whose socket transport keeps its
        # cycle: this helps plain HTTP only.
        if getattr(transport, "_read_ready_cb", None) is not None:
            transport._read_ready_cb = None  # type: ignore[attr-defined]

    def _cancel_request_timer(self) -> None:
        timer = getattr(self, "_request_timer", None)
        if timer is not None:
            timer.cancel()
            self._request_timer = None

    def _request_timed_out(self) -> None:
        self._request_timer = None
        # The request is still without its headers; but an earlier one on
        # the connection still being answered, however slowly, is the
        # application's to finish.
        answering = self.cycle is not None and not self.cycle.response_complete
        if not answering and not self.transport.is_closing():
            self.transport.close()


def _protocol(request_timeout: float) -> type[HttpToolsProtocol]:
    return type(
        "HeaderTimeoutProtocol", (_HeaderTimeoutProtocol,), {"request_timeout": request_timeout}
    )


class WebServer:
    def __init__(
        self,
        app: ASGIApp,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        request_timeout: float = 10.0,
        max_connections: int = 1000,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._socket = _bind(host, port)
        self.tls = tls
        config = uvicorn.Config(
            app,
            http=_protocol(request_timeout),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            # Nothing stands in front of it by design: X-Forwarded-For from
            # a local process must not choose the address the log-in
            # throttle counts.
            proxy_headers=False,
            date_header=True,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=int(GRACE_SECONDS),
            limit_concurrency=max_connections,
            backlog=1024,
            headers=list((headers or {}).items()),
            ssl_context_factory=(lambda _config, _default: tls) if tls is not None else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self._started = threading.Event()
        self._failure: BaseException | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError("the web server did not start")
        if self._failure is not None:
            raise RuntimeError(f"the web server did not start: {self._failure}")

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(GRACE_SECONDS + 2.0)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(2.0)
        self._socket.close()

    def _serve(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:
            self._failure = exc
            log.exception("the web server stopped")
        finally:
            self._started.set()

    async def _run(self) -> None:
        server = self._server
        config = server.config
        config.load()
        # What Server.serve() does before startup, minus the signal handlers
        # (the daemon owns those) and the start-up log lines.
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[self._socket])
        if server.should_exit:
            raise RuntimeError("uvicorn refused to start")
        self._started.set()
        await server.main_loop()
        await server.shutdown(sockets=[self._socket])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
