"""The internet check behaves the same in the daemon (`[internet.probe]`) and in the PC agent.

There is one check, the agent's (agent/ocrfleet_agent/internet.py); the
daemon's probe (ocrfleet/internet/probe.py) runs it with a TLS context of
its own, off the event loop, and turns its report into an `InternetCheck`.
Each scenario runs through both: the agent's `check_internet` as the agent
calls it, and the daemon's `InternetProbe` with its `HttpsCheck`, so what
the daemon makes of a verdict is checked too. The peers are real TLS
servers on 127.0.0.1: the test "internet" (devpeers) and small raw-socket
servers that answer exactly as scripted (trickling headers, interim 1xx
answers, bare-LF lines).

Only outcomes are asserted (ok, the error word), never durations. The one
thing no local server can play is an address that drops connections (a
black-holed IPv6 route): a listener with a full backlog is not a reliable
black hole, and a non-routable address would send packets off the machine.
For that scenario the check's `connect` step is replaced by one that waits
out the time it is given and then times out, as a dropped SYN does.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from ocrfleet.cli.common import load_catalog
from ocrfleet.clock import ManualClock
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.internet import InternetProbeConfig
from ocrfleet.config.loader import load_config
from ocrfleet.internet.probe import HttpsCheck, InternetProbe
from ocrfleet_agent.cli import build_parser, internet_options
from ocrfleet_agent.internet import check_internet, internet_settings
from tests.support.daemon import site_config
from tests.support.internet import InternetServer, make_certificates
from tests.support.mosquitto import free_port

Address = tuple[str, int]
Lookup = Callable[[str, int], list[Address]]
Connect = Callable[[Address, float], socket.socket]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None
    detail: str | None


class Check(Protocol):
    def __call__(
        self,
        url: str,
        ca_file: Path | None,
        timeout: float,
        *,
        lookup: Lookup | None = None,
        connect: Connect | None = None,
    ) -> Outcome: ...


def _network(lookup: Lookup | None, connect: Connect | None) -> dict[str, Any]:
    network: dict[str, Any] = {}
    if lookup is not None:
        network["lookup"] = lookup
    if connect is not None:
        network["connect"] = connect
    return network


def daemon_check(
    url: str,
    ca_file: Path | None,
    timeout: float,
    *,
    lookup: Lookup | None = None,
    connect: Connect | None = None,
) -> Outcome:
    config = InternetProbeConfig.model_validate(
        {"sites": ["lib"], "url": url, "ca_file": ca_file, "timeout": timeout}
    )
    probe = InternetProbe(lambda: config, ManualClock(), HttpsCheck(**_network(lookup, connect)))
    check = asyncio.run(probe.run())
    # The check's own deadline ends its thread, whatever the server does.
    assert probe.wait_idle(60), "the daemon's check outlived its deadline"
    assert check is not None and probe.checks() == {"lib": check}
    return Outcome(check.ok, check.error or None, check.detail or None)


def agent_check(
    url: str,
    ca_file: Path | None,
    timeout: float,
    *,
    lookup: Lookup | None = None,
    connect: Connect | None = None,
) -> Outcome:
    settings = internet_settings(url, timeout=timeout, ca_file=ca_file)
    report = check_internet(settings, **_network(lookup, connect))
    return Outcome(report.ok, report.error, report.detail)


@pytest.fixture(params=["daemon", "agent"])
def check(request: pytest.FixtureRequest) -> Check:
    return daemon_check if request.param == "daemon" else agent_check


@pytest.fixture
def internet(tmp_path: Path) -> Iterator[InternetServer]:
    with InternetServer(tmp_path / "internet") as server:
        yield server


class ScriptedServer:
    """A TLS server on 127.0.0.1 that reads a request's headers, then writes `script`.

    `script` is a list of (pause in seconds, bytes): each piece is written
    after its pause. The server stops writing when the client hangs up.
    """

    def __init__(self, directory: Path, script: list[tuple[float, bytes]]) -> None:
        self.ca_file, cert, key = make_certificates(directory)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._script = script
        self._listener = socket.create_server(("127.0.0.1", 0))
        # Polled, so that close() ends the accepting thread on any kernel.
        self._listener.settimeout(0.05)
        self.url = f"https://localhost:{self._listener.getsockname()[1]}/"
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._answer, args=(raw,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _answer(self, raw: socket.socket) -> None:
        raw.settimeout(None)
        try:
            with self._context.wrap_socket(raw, server_side=True) as conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                for pause, piece in self._script:
                    if self._stopped.wait(pause):
                        return
                    conn.sendall(piece)
        except OSError:
            return  # the check gave up and hung up: what a deadline test wants

    def close(self) -> None:
        self._stopped.set()
        self._accepting.join(30)
        for thread in self._threads:
            thread.join(30)
        self._listener.close()


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[Callable[[list[tuple[float, bytes]]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def serve(script: list[tuple[float, bytes]]) -> ScriptedServer:
        server = ScriptedServer(tmp_path / f"scripted-{len(servers)}", script)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.close()


# -- the test "internet" ------------------------------------------------------------


def test_a_page_that_answers(check: Check, internet: InternetServer) -> None:
    outcome = check(internet.url, internet.ca_file, 5.0)
    assert (outcome.ok, outcome.error) == (True, None), outcome


@pytest.mark.parametrize(("status", "ok"), [(302, True), (204, True), (503, False)])
def test_2xx_and_3xx_count_as_reachable(
    check: Check, internet: InternetServer, status: int, ok: bool
) -> None:
    internet.answer(status)
    outcome = check(internet.url, internet.ca_file, 5.0)
    assert (outcome.ok, outcome.error) == (ok, None if ok else "http"), outcome
    if not ok:
        assert outcome.detail and str(status) in outcome.detail


def test_a_stopped_server_is_a_connect_failure(check: Check, internet: InternetServer) -> None:
    internet.stop()
    outcome = check(internet.url, internet.ca_file, 5.0)
    assert (outcome.ok, outcome.error) == (False, "connect"), outcome


def test_an_unknown_authority_is_a_tls_failure(check: Check, internet: InternetServer) -> None:
    outcome = check(internet.url, None, 5.0)
    assert (outcome.ok, outcome.error) == (False, "tls"), outcome
    assert internet.requests == 0


def test_a_slow_page_times_out(check: Check, internet: InternetServer) -> None:
    internet.slow(60)
    outcome = check(internet.url, internet.ca_file, 0.5)
    assert (outcome.ok, outcome.error) == (False, "timeout"), outcome


def test_a_held_page_times_out(check: Check, internet: InternetServer) -> None:
    internet.hold()
    try:
        outcome = check(internet.url, internet.ca_file, 0.5)
    finally:
        internet.release()
    assert (outcome.ok, outcome.error) == (False, "timeout"), outcome


# -- one deadline for the whole answer ----------------------------------------------


def test_headers_trickled_past_the_timeout_time_out(
    check: Check, scripted: Callable[[list[tuple[float, bytes]]], ScriptedServer]
) -> None:
    """Each byte comes well within the timeout; all of them take three times as long.

    A check that gave each read the whole time left would wait for them
    all and call the page reachable; one deadline makes it a timeout.
    """
    server = scripted(
        [(0.0, b"HTTP/1.1 200 OK\r\nX-Slow: ")] + [(0.05, b"a")] * 60 + [(0.0, b"\r\n\r\n")]
    )
    outcome = check(server.url, server.ca_file, 1.0)
    assert (outcome.ok, outcome.error) == (False, "timeout"), outcome


# -- interim answers and line endings -----------------------------------------------

EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"


@pytest.mark.parametrize(
    ("script", "ok", "error"),
    [
        pytest.param(
            [(0.0, EARLY_HINTS), (0.05, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")],
            True,
            None,
            id="103-then-200",
        ),
        pytest.param(
            [
                (
                    0.0,
                    b"HTTP/1.1 100 Continue\r\n\r\n"
                    + EARLY_HINTS
                    + b"HTTP/1.1 204 No Content\r\n\r\n",
                )
            ],
            True,
            None,
            id="100-and-103-then-204-in-one-piece",
        ),
        pytest.param(
            [(0.0, EARLY_HINTS), (0.05, b"HTTP/1.1 503 Service Unavailable\r\n\r\n")],
            False,
            "http",
            id="103-then-503",
        ),
        pytest.param(
            [(0.0, b"HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\nok")],
            True,
            None,
            id="bare-lf",
        ),
        pytest.param(
            [
                (
                    0.0,
                    b"HTTP/1.1 103 Early Hints\nLink: </s.css>\n\n"
                    b"HTTP/1.1 301 Moved\nLocation: /x\n\n",
                )
            ],
            True,
            None,
            id="bare-lf-103-then-301",
        ),
        pytest.param(
            [(0.0, b"HTTP/1.1 200 OK\r\nX-Split: a\r"), (0.05, b"\n\r"), (0.05, b"\n")],
            True,
            None,
            id="end-of-headers-split-over-writes",
        ),
        # Nothing asked to switch protocols: 101 is a final answer, and no page.
        pytest.param(
            [(0.0, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n")],
            False,
            "http",
            id="101",
        ),
        pytest.param([(0.0, EARLY_HINTS)], False, "other", id="103-then-hang-up"),
        pytest.param([(0.0, b"SSH-2.0-OpenSSH_9.2\r\n\r\n")], False, "other", id="not-http"),
    ],
)
def test_the_final_answer_decides(
    check: Check,
    scripted: Callable[[list[tuple[float, bytes]]], ScriptedServer],
    script: list[tuple[float, bytes]],
    ok: bool,
    error: str | None,
) -> None:
    server = scripted(script)
    outcome = check(server.url, server.ca_file, 10.0)
    assert (outcome.ok, outcome.error) == (ok, error), outcome


# -- a name with several addresses ----------------------------------------------------

# Stands for an address that drops connections; the replaced connect step
# never dials it.
BLACK_HOLE: Address = ("127.0.0.1", 1)


def black_holed_connect(given: list[float]) -> Connect:
    """Connect for real, except to BLACK_HOLE: that waits out its time and times out."""

    def connect(address: Address, timeout: float) -> socket.socket:
        given.append(timeout)
        if address == BLACK_HOLE:
            threading.Event().wait(timeout)  # what a dropped SYN costs: all the time it gets
            raise TimeoutError("timed out")
        return socket.create_connection(address, timeout)

    return connect


def test_a_black_holed_first_address_leaves_time_for_the_next(
    check: Check, internet: InternetServer
) -> None:
    given: list[float] = []
    timeout = 4.0
    outcome = check(
        internet.url,
        internet.ca_file,
        timeout,
        lookup=lambda name, port: [BLACK_HOLE, ("127.0.0.1", port)],
        connect=black_holed_connect(given),
    )
    assert (outcome.ok, outcome.error) == (True, None), outcome
    assert len(given) == 2
    # A share of the deadline, not all of it (a value handed over, not a measured time).
    assert given[0] <= timeout / 2
    assert internet.requests == 1


def test_every_address_black_holed_is_a_timeout(check: Check, internet: InternetServer) -> None:
    given: list[float] = []
    outcome = check(
        internet.url,
        internet.ca_file,
        1.0,
        lookup=lambda name, port: [BLACK_HOLE, BLACK_HOLE],
        connect=black_holed_connect(given),
    )
    assert (outcome.ok, outcome.error) == (False, "timeout"), outcome
    assert len(given) == 2, "each address was tried"


def test_a_refusing_first_address_falls_back_to_the_next(
    check: Check, internet: InternetServer
) -> None:
    closed = ("127.0.0.1", free_port())
    outcome = check(
        internet.url,
        internet.ca_file,
        5.0,
        lookup=lambda name, port: [closed, ("127.0.0.1", port)],
    )
    assert (outcome.ok, outcome.error) == (True, None), outcome


def test_a_black_holed_and_a_refusing_address_is_a_connect_failure(
    check: Check, internet: InternetServer
) -> None:
    internet.stop()
    # Half of the timeout goes to the black hole, as above; the refusal comes
    # well within the other half, before any deadline of the check or the probe.
    outcome = check(
        internet.url,
        internet.ca_file,
        4.0,
        lookup=lambda name, port: [BLACK_HOLE, ("127.0.0.1", port)],
        connect=black_holed_connect([]),
    )
    assert (outcome.ok, outcome.error) == (False, "connect"), outcome


# -- the name to resolve --------------------------------------------------------------


def daemon_refusal(resolve: str, tmp_path: Path) -> str:
    config = site_config(1883, tmp_path / "store.sqlite")
    config["internet"] = {
        "probe": {"sites": ["lib"], "url": "https://localhost/", "resolve": resolve}
    }
    try:
        load_config(config, load_catalog().kinds)
    except ConfigError as exc:
        return str(exc)
    return ""


def agent_refusal(resolve: str, tmp_path: Path) -> str:
    argv = ["run", "--site", "lib", "--internet-url", "https://localhost/"]
    # The = form: a value starting with a hyphen is not taken for an option.
    args = build_parser().parse_args([*argv, f"--internet-resolve={resolve}"])
    try:
        internet_options(args)
    except ValueError as exc:
        return str(exc)
    return ""


@pytest.fixture(
    params=[
        pytest.param((daemon_refusal, "internet.probe.resolve: "), id="daemon"),
        pytest.param((agent_refusal, "--internet-resolve: "), id="agent"),
    ]
)
def refusal(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Callable[[str], str], str]:
    refuse, prefix = request.param
    return (lambda resolve: refuse(resolve, tmp_path)), prefix


@pytest.mark.parametrize(
    "resolve",
    [
        "https://www.vlaminggem.be/",
        "www.vlaminggem.be:443",
        "user@www.vlaminggem.be",
        "www.vlaminggem.be/",
        "www..vlaminggem.be",
        "-www.vlaminggem.be",
        "www-.vlaminggem.be",
        "under_score.vlaminggem.be",
        "a" * 64 + ".be",
        ("a" * 62 + ".") * 4 + "be",  # labels of 62, but 254 characters in all
        "[::1]",
        "999.1.1.1",
        "b\u00fccher.example",
        "two words",
        "",
        " ",
    ],
)
def test_a_resolve_that_is_no_host_name_is_refused(
    refusal: tuple[Callable[[str], str], str], resolve: str
) -> None:
    refuse, prefix = refusal
    error = refuse(resolve)
    assert error.startswith(prefix), error
    if "://" in resolve:
        assert "host name alone" in error


@pytest.mark.parametrize(
    "resolve",
    [
        "www.vlaminggem.be",
        "www.vlaminggem.be.",
        "localhost",
        "xn--bcher-kva.example",
        "a" * 63 + ".be",
        ("a" * 62 + ".") * 4 + "b",  # 253 characters in all
        "127.0.0.1",
        "::1",
        "2001:db8::1",
    ],
)
def test_a_host_name_or_ip_address_is_taken(
    refusal: tuple[Callable[[str], str], str], resolve: str
) -> None:
    refuse, _ = refusal
    assert refuse(resolve) == ""
