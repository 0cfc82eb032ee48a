"""The optional internet check: resolve a name, fetch an HTTPS page, time it.

It runs in a thread of its own, one check at a time, so a name server or a
page that hangs never holds up a health report: the report carries the last
finished check (`InternetChecker.latest`), whose `checked_at` tells the
daemon how old it is. Standard library only (socket, ssl): the agent's
memory budget has no room for an HTTP library (bench/agent_footprint.py).

One deadline for everything after the look-up, each address of the name a
share of what is left, every read of the answer's headers bounded by what is
left, interim 1xx answers skipped.

The daemon's own check (`[internet.probe]`, ocrfleet/internet/probe.py) is
this one: it calls `check_internet` with a `tls_context` it keeps per
configuration, and takes its URL and name to resolve through `valid_url` and
`valid_host_name`, so a site checked from a PC and from the daemon's host gets
the same verdicts. The daemon imports this module, never the other way round.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ocrfleet_agent import __version__
from ocrfleet_agent.payloads import InternetError, InternetReport

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0
MIN_INTERVAL = 30.0
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0
_DETAIL_LENGTH = 200


@dataclass(frozen=True, slots=True)
class InternetSettings:
    """What to check and how often; `internet_settings` builds it from the options."""

    url: str
    resolve: str
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    ca_file: Path | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 443

    @property
    def target(self) -> str:
        """The request target: path and query of the URL."""
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def internet_settings(
    url: str,
    resolve: str | None = None,
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: Path | None = None,
) -> InternetSettings:
    """The settings, or ValueError naming the option that is wrong."""
    try:
        valid_url(url)
    except ValueError as exc:
        raise ValueError(f"--internet-url: {exc}") from None
    if resolve is not None:
        try:
            valid_host_name(resolve)
        except ValueError as exc:
            raise ValueError(f"--internet-resolve: {exc}") from None
    if not interval >= MIN_INTERVAL:
        raise ValueError(
            f"--internet-interval: at least {MIN_INTERVAL:g} seconds, not {interval:g}"
        )
    if not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(
            f"--internet-timeout: more than 0 and at most {MAX_TIMEOUT:g} seconds, not {timeout:g}"
        )
    if ca_file is not None:
        try:
            tls_context(ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(
                f"--internet-ca-file: {ca_file} is no readable PEM file of certificates: "
                f"{_describe(exc)}"
            ) from None
    host = urlsplit(url).hostname or ""  # valid_url: never empty
    return InternetSettings(url, resolve or host, interval, timeout, ca_file)


def valid_url(url: str) -> str:
    """`url` if the check can fetch it, else ValueError saying why (without an option's name).

    https, a host name, a port that exists, printable ASCII only: anything
    else would fail every check and pass for an outage.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL: {exc}") from None
    if not all("!" <= char <= "~" for char in url):
        # The request line is ASCII, and a space or a control character would
        # break it: such a URL would fail every check, never the network.
        raise ValueError(
            f"{url!r} holds a space, a control or a non-ASCII character; "
            "percent-encode the path (%C3%A9 for é) and write the host name in its "
            "xn-- form"
        )
    if parts.scheme != "https":
        raise ValueError(
            f"{url!r} is not an https:// URL; a plain HTTP page can be "
            "answered by a captive portal or proxy and prove nothing"
        )
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host name")
    if port == 0:
        raise ValueError(f"{url!r} has port 0")
    return url


# A label of a host name: letters, digits and hyphens, not at either end (RFC 1123).
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_NAME_LENGTH = 253


def _ip_literal(value: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)
        except OSError:
            continue
        return True
    return False


def valid_host_name(value: str) -> str:
    """`value` if it is a host name or an IP address to look up, else ValueError saying why.

    A URL, a port or a user name would fail every look-up and pass for an
    outage.
    """
    if not value.strip():
        raise ValueError("must not be empty")
    if _ip_literal(value):
        return value
    if "://" in value:
        raise ValueError(f"{value!r} is a URL: give its host name alone")
    name = value[:-1] if value.endswith(".") else value  # a fully qualified name's dot
    labels = name.split(".")
    if (
        len(name) > _MAX_NAME_LENGTH
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(
            f"{value!r} is no host name or IP address: labels of letters, digits and "
            f"hyphens, at most 63 characters each and {_MAX_NAME_LENGTH} in all, joined by "
            "dots (an international domain name as its xn-- form); no port, path or user"
        )
    return value


class _CheckFailed(Exception):
    def __init__(self, error: InternetError, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.error: InternetError = error
        self.detail = detail[:_DETAIL_LENGTH]
        self.status = status


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}"


class _Deadline:
    def __init__(self, timeout: float) -> None:
        self._end = time.monotonic() + timeout

    def left(self, step: str) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise _CheckFailed("timeout", f"no time left for {step}")
        return left


Address = tuple[str, int]
# How a name becomes addresses, and how one address is connected to within
# a time limit: the system's, replaceable so that a test can play a
# black-holed address without sending a packet off the machine.
Lookup = Callable[[str, int], list[Address]]
Connect = Callable[[Address, float], socket.socket]


def system_lookup(name: str, port: int) -> list[Address]:
    """The addresses of `name` in the system resolver's order."""
    found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    return [(str(info[4][0]), port) for info in found]


def _resolve(name: str, port: int, lookup: Lookup) -> list[Address]:
    try:
        addresses = lookup(name, port)
    except (OSError, UnicodeError) as exc:
        raise _CheckFailed("dns", f"{name}: {_describe(exc)}") from None
    if not addresses:
        raise _CheckFailed("dns", f"{name}: no address")
    return addresses


def _connect(addresses: list[Address], deadline: _Deadline, connect: Connect) -> socket.socket:
    """The first address that takes a connection, each given a share of what is left.

    Not all of it: an address that drops connections (a black-holed IPv6
    route on a dual-stack PC) must leave time for the next, as browsers fall
    back to it.
    """
    last: OSError | None = None
    timed_out = 0
    for tried, address in enumerate(addresses):
        share = deadline.left("connect") / (len(addresses) - tried)
        try:
            return connect(address, share)
        except TimeoutError as exc:
            timed_out += 1
            last = exc
        except OSError as exc:
            last = exc
    if timed_out == len(addresses):
        names = ", ".join(address[0] for address in addresses)
        raise _CheckFailed("timeout", f"connect to {names}: timed out")
    raise _CheckFailed("connect", _describe(last) if last else "no address to connect to")


_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def _hashed_directory(path: str | None) -> bool:
    """A CA directory OpenSSL can look certificates up in by hash (c_rehash, Debian's)."""
    if not path or not os.path.isdir(path):
        return False
    with os.scandir(path) as entries:
        return any(_HASHED_NAME.fullmatch(entry.name) for entry in entries)


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's CAs, plus the given ones (a TLS-inspecting proxy's)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
    system = ssl.get_default_verify_paths().capath
    if _hashed_directory(system) and "SSL_CERT_FILE" not in os.environ:
        # Looked up by hash when a chain needs one: loading the whole bundle
        # (ssl.create_default_context) costs some 2 MB of RSS, for good.
        context.load_verify_locations(capath=system)
    else:
        context.load_default_certs()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


# The blank line that ends a header block; a bare LF ends a line too (RFC 9112, 2.2).
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
# The status line and headers of any real page fit; more is no web server.
_MAX_HEADER_BYTES = 64 * 1024
_READ_SIZE = 4096


def _request(settings: InternetSettings) -> bytes:
    host = urlsplit(settings.url).netloc.rpartition("@")[2]  # never a user name or password
    # UnicodeEncodeError for a URL outside ASCII: internet_settings refuses those.
    return (
        f"GET {settings.target} HTTP/1.1\r\nHost: {host}\r\n"
        f"User-Agent: ocrfleet-agent/{__version__}\r\nAccept: */*\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")


def _status_of(head: bytes) -> int:
    line = head.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1")
    parts = line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise _CheckFailed("other", f"HTTP: not an HTTP answer: {line[:80]!r}")
    status = int(parts[1])
    if not 100 <= status <= 599:
        raise _CheckFailed("other", f"HTTP: a status line of {status} is no HTTP status")
    return status


def _read_status(tls: ssl.SSLSocket, request: bytes, deadline: _Deadline) -> int:
    """Send the request and read to the end of the final answer's headers; its status.

    Every read gets only what is left of the deadline: a server trickling
    its headers a byte at a time cannot stretch the check. Interim answers
    (100 Continue, 103 Early Hints) are skipped; 101 is final, nothing
    asked to switch protocols. The body is never read.
    """
    tls.settimeout(deadline.left("request"))
    tls.sendall(request)
    answer = b""
    read = 0
    while True:
        end = _END_OF_HEAD.search(answer)
        if end is not None:
            status = _status_of(answer[: end.start()])
            answer = answer[end.end() :]
            if 100 <= status < 200 and status != 101:
                continue
            return status
        tls.settimeout(deadline.left("the answer"))
        chunk = tls.recv(_READ_SIZE)
        if not chunk:
            raise _CheckFailed("other", "HTTP: the connection closed before the answer's headers")
        answer += chunk
        read += len(chunk)
        if read > _MAX_HEADER_BYTES:
            raise _CheckFailed("other", f"HTTP: no end of the headers in {_MAX_HEADER_BYTES} bytes")


def _fetch(
    settings: InternetSettings,
    sock: socket.socket,
    context: ssl.SSLContext,
    deadline: _Deadline,
    request: bytes,
) -> int:
    try:
        sock.settimeout(deadline.left("TLS"))
        tls = context.wrap_socket(sock, server_hostname=settings.host)
    except TimeoutError:
        sock.close()
        raise _CheckFailed("timeout", "TLS handshake: timed out") from None
    except ssl.SSLError as exc:
        sock.close()
        raise _CheckFailed("tls", _describe(exc)) from None
    except OSError as exc:
        sock.close()
        raise _CheckFailed("connect", f"TLS handshake: {_describe(exc)}") from None
    with tls:
        try:
            return _read_status(tls, request, deadline)
        except TimeoutError:
            raise _CheckFailed("timeout", "waiting for the answer: timed out") from None
        except ssl.SSLError as exc:
            raise _CheckFailed("tls", _describe(exc)) from None
        except OSError as exc:
            raise _CheckFailed("other", f"HTTP: {_describe(exc)}") from None


def check_internet(
    settings: InternetSettings,
    context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.time,
    *,
    lookup: Lookup = system_lookup,
    connect: Connect = socket.create_connection,
) -> InternetReport:
    """One check, start to end; never raises for what the network does.

    `lookup` and `connect` are the system's unless a test plays the network.
    """
    request = _request(settings)
    checked_at = clock()
    started = time.monotonic()
    deadline = _Deadline(settings.timeout)
    dns_ms: float | None = None
    try:
        addresses = _resolve(settings.resolve, settings.port, lookup)
        if settings.resolve != settings.host:
            addresses = _resolve(settings.host, settings.port, lookup)
        dns_ms = round((time.monotonic() - started) * 1000, 1)
        sock = _connect(addresses, deadline, connect)
        context = context or tls_context(settings.ca_file)
        status = _fetch(settings, sock, context, deadline, request)
    except _CheckFailed as failed:
        return InternetReport(
            ok=False,
            checked_at=checked_at,
            dns_ms=dns_ms,
            status=failed.status,
            error=failed.error,
            detail=failed.detail,
        )
    latency_ms = round((time.monotonic() - started) * 1000, 1)
    if not 200 <= status < 400:
        return InternetReport(
            ok=False,
            checked_at=checked_at,
            dns_ms=dns_ms,
            status=status,
            error="http",
            detail=f"HTTP status {status}",
        )
    return InternetReport(
        ok=True, checked_at=checked_at, latency_ms=latency_ms, dns_ms=dns_ms, status=status
    )


class InternetChecker:
    """Checks every `interval` seconds in its own thread; `latest` is the last finished check."""

    def __init__(self, settings: InternetSettings) -> None:
        self._settings = settings
        # Exception types whose traceback was logged: each once, not every interval.
        self._tracebacks_logged: set[type[BaseException]] = set()
        self._latest: InternetReport | None = None
        self._stop = threading.Event()
        # A daemon thread: a look-up the OS will not give up on must not keep
        # the agent from exiting.
        self._thread = threading.Thread(target=self._loop, name="internet-check", daemon=True)
        self._context: ssl.SSLContext | None = None

    def latest(self) -> InternetReport | None:
        return self._latest

    def start(self) -> None:
        # Made on the calling thread: OpenSSL's first context costs memory
        # that a new thread's own malloc arena would make larger still.
        try:
            self._context = tls_context(self._settings.ca_file)
        except (OSError, ssl.SSLError):
            self._context = None  # the check says why
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        next_check = time.monotonic()
        while not self._stop.wait(max(0.0, next_check - time.monotonic())):
            # From the start of one check to the next: a slow check does not
            # stretch the interval, and never overlaps the next (one thread).
            next_check = time.monotonic() + self._settings.interval
            self._latest = self._check()

    def _check(self) -> InternetReport:
        checked_at = time.time()
        try:
            if self._context is None:
                self._context = tls_context(self._settings.ca_file)
            report = check_internet(self._settings, self._context)
        except (OSError, ssl.SSLError) as exc:  # e.g. the CA file went away
            self._context = None
            report = _unexpected(checked_at, exc)
        except Exception as exc:
            # Whatever else goes wrong, the thread lives on and the reports
            # say the check failed: a dead thread would leave them silent.
            report = _unexpected(checked_at, exc)
            if type(exc) not in self._tracebacks_logged:
                self._tracebacks_logged.add(type(exc))
                log.error(
                    "internet check of %s failed unexpectedly", self._settings.url, exc_info=True
                )
                return report
        if not report.ok:
            log.info("internet check of %s failed: %s", self._settings.url, report.detail)
        return report


def _unexpected(checked_at: float, exc: BaseException) -> InternetReport:
    return InternetReport(
        ok=False, checked_at=checked_at, error="other", detail=_describe(exc)[:_DETAIL_LENGTH]
    )


__all__ = [
    "Connect",
    "InternetChecker",
    "InternetSettings",
    "Lookup",
    "check_internet",
    "internet_settings",
    "system_lookup",
    "tls_context",
    "valid_host_name",
    "valid_url",
]
