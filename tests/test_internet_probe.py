"""The daemon's own internet check (ocrfleet/internet/probe.py) against a real HTTPS server."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.clock import ManualClock
from ocrfleet.config.internet import InternetProbeConfig
from ocrfleet.connectivity import CheckSource, InternetCheck
from ocrfleet.internet.probe import HttpsCheck, InternetProbe, check_once
from tests.support.internet import InternetServer, make_certificates
from tests.support.mosquitto import free_port


@pytest.fixture
def internet(tmp_path: Path) -> Iterator[InternetServer]:
    with InternetServer(tmp_path / "internet") as server:
        yield server


def probe_config(server: InternetServer, **overrides: Any) -> InternetProbeConfig:
    values: dict[str, Any] = {
        "sites": ["lib"],
        "url": server.url,
        "ca_file": server.ca_file,
        "timeout": 5,
    }
    values.update(overrides)
    return InternetProbeConfig.model_validate(values)


def test_a_page_that_answers_is_a_success_with_its_latency(internet: InternetServer) -> None:
    clock = ManualClock()
    check = check_once(probe_config(internet), clock.now)
    assert check.ok, check
    assert check.checked_at == clock.now()
    assert check.latency is not None and check.latency > 0
    assert check.source is CheckSource.PROBE
    assert internet.requests == 1


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        # Without the test CA, its certificate is not trusted.
        ({"ca_file": None}, "tls", "certificate verify failed"),
        # The name is looked up before anything else (.invalid never resolves, RFC 6761).
        ({"resolve": "nonexistent.invalid"}, "dns", "nonexistent.invalid"),
    ],
)
def test_failures_carry_their_word(
    internet: InternetServer, change: dict[str, Any], error: str, words: str
) -> None:
    check = check_once(probe_config(internet, **change), ManualClock().now)
    assert not check.ok
    assert check.error == error
    assert words in check.detail
    assert check.latency is None


def test_a_closed_port_is_a_connect_failure(tmp_path: Path) -> None:
    server = InternetServer(tmp_path, port=free_port())  # made, never started
    check = check_once(probe_config(server), ManualClock().now)
    assert (check.ok, check.error) == (False, "connect")


def test_an_error_status_is_an_http_failure(internet: InternetServer) -> None:
    internet.answer(503)
    check = check_once(probe_config(internet), ManualClock().now)
    assert (check.ok, check.error, check.detail) == (False, "http", "HTTP status 503")
    internet.answer(302)
    assert check_once(probe_config(internet), ManualClock().now).ok


def test_a_slow_page_times_out(internet: InternetServer) -> None:
    internet.slow(60)
    check = check_once(probe_config(internet, timeout=0.5), ManualClock().now)
    assert (check.ok, check.error) == (False, "timeout")


def test_one_check_at_a_time_while_a_check_hangs(internet: InternetServer) -> None:
    """A check that hangs past its timeout is not followed by a second thread.

    The check is held by the test, not by a socket timeout: it runs until
    released, however slow the machine.
    """
    clock = ManualClock()
    config = probe_config(internet, timeout=0.5)
    entered = threading.Event()
    release = threading.Event()
    real = HttpsCheck()

    def held_check(settings: InternetProbeConfig, now: Callable[[], float]) -> InternetCheck:
        entered.set()
        assert release.wait(60), "the test never released the check"
        return real(settings, now)

    probe = InternetProbe(lambda: config, clock, held_check)

    async def scenario() -> None:
        first = await probe.run()
        assert first is not None and (first.ok, first.error) == (False, "timeout")
        assert entered.is_set()
        # The thread still waits for the test.
        assert probe.in_flight
        second = await probe.run()
        assert second is not None and second.error == "timeout"
        assert "still running" in second.detail
        assert (probe.started, probe.skipped) == (1, 1)

    try:
        asyncio.run(scenario())
    finally:
        release.set()
    assert probe.wait_idle(60)
    clock.advance(300)
    result = asyncio.run(probe.run())
    assert result is not None and result.ok
    assert probe.started == 2
    assert probe.checks() == {"lib": result}
    assert internet.requests == 2


def test_the_tls_context_is_made_once_per_configuration(internet: InternetServer) -> None:
    """Loading certificate authorities is not the internet's latency, nor each check's work."""
    check = HttpsCheck()
    config = probe_config(internet)
    assert check(config, ManualClock().now).ok
    assert check(config, ManualClock().now).ok
    assert check.contexts_made == 1
    assert not check(probe_config(internet, ca_file=None), ManualClock().now).ok
    assert check.contexts_made == 2


class _Trickler:
    """A TLS server that answers a status line, then one header byte at a time, until stopped."""

    def __init__(self, directory: Path) -> None:
        self.ca_file, cert, key = make_certificates(directory)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.bytes_sent = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        raw, _ = self.listener.accept()
        with self.context.wrap_socket(raw, server_side=True) as conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            # A byte far more often than the check's timeout: only a deadline ends it.
            while not self.stop.wait(0.02):
                try:
                    conn.sendall(b"a")
                except OSError:
                    return  # the check gave up and closed
                self.bytes_sent += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(60)
        self.listener.close()


def test_a_trickling_answer_times_out_at_the_deadline(tmp_path: Path) -> None:
    """Each step gets what is left of one timeout, not a timeout of its own."""
    trickler = _Trickler(tmp_path)
    done: list[InternetCheck] = []
    try:
        config = InternetProbeConfig.model_validate(
            {
                "url": f"https://localhost:{trickler.port}/",
                "ca_file": trickler.ca_file,
                "timeout": 0.5,
            }
        )
        thread = threading.Thread(target=lambda: done.append(check_once(config, time.time)))
        thread.start()
        # Without a deadline the check would read for as long as the server trickles.
        thread.join(60)
        assert not thread.is_alive(), "the check outlived its deadline"
    finally:
        trickler.close()
    [check] = done
    assert (check.ok, check.error) == (False, "timeout"), check
    assert trickler.bytes_sent > 0


def test_not_configured_checks_nothing() -> None:
    probe = InternetProbe(lambda: None, ManualClock())
    assert asyncio.run(probe.run()) is None
    assert probe.checks() == {}
