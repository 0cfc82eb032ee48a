"""The test stand-in for the internet (devpeers/internet.py) does what the tests rely on."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from pathlib import Path

import pytest

from tests.support.internet import InternetServer


def fetch(server: InternetServer, timeout: float = 10.0) -> int:
    context = ssl.create_default_context(cafile=str(server.ca_file))
    connection = http.client.HTTPSConnection(
        "localhost", server.port, context=context, timeout=timeout
    )
    try:
        connection.request("GET", "/")
        return connection.getresponse().status
    finally:
        connection.close()


def test_answers_over_tls_for_localhost_and_the_address(tmp_path: Path) -> None:
    with InternetServer(tmp_path) as server:
        assert server.url == f"https://localhost:{server.port}/"
        assert fetch(server) == 200
        # The certificate names 127.0.0.1 too.
        context = ssl.create_default_context(cafile=str(server.ca_file))
        connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
        connection.close()
        assert server.requests == 2


def test_is_not_trusted_without_its_authority(tmp_path: Path) -> None:
    with InternetServer(tmp_path) as server:
        connection = http.client.HTTPSConnection(
            "localhost", server.port, context=ssl.create_default_context()
        )
        with pytest.raises(ssl.SSLCertVerificationError):
            connection.request("GET", "/")
        connection.close()


def test_stops_and_starts_again_on_the_same_port(tmp_path: Path) -> None:
    server = InternetServer(tmp_path)
    server.start()
    port = server.port
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    server.start()
    try:
        assert server.port == port
        assert fetch(server) == 200
    finally:
        server.stop()


def test_a_held_request_waits_until_released_while_others_are_served(tmp_path: Path) -> None:
    with InternetServer(tmp_path) as server:
        server.hold()
        statuses: list[int] = []
        waiting = threading.Thread(target=lambda: statuses.append(fetch(server)))
        waiting.start()
        server.wait_for_requests(1)
        assert statuses == []  # still held
        # A silent client (no handshake) does not stop the server.
        silent = socket.create_connection(("127.0.0.1", server.port))
        server.release()
        waiting.join(timeout=10)
        assert statuses == [200]
        assert fetch(server) == 200
        silent.close()


def test_a_held_request_is_hung_up_on_when_the_server_stops(tmp_path: Path) -> None:
    server = InternetServer(tmp_path)
    server.start()
    server.hold()
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            fetch(server)
        except (OSError, http.client.HTTPException) as error:
            errors.append(error)

    waiting = threading.Thread(target=attempt)
    waiting.start()
    server.wait_for_requests(1)
    server.stop()
    waiting.join(timeout=10)
    assert len(errors) == 1


def test_slow_answers_late_enough_for_a_short_timeout_to_give_up(tmp_path: Path) -> None:
    with InternetServer(tmp_path) as server:
        server.slow(30.0)
        with pytest.raises(TimeoutError):
            fetch(server, timeout=0.5)
        server.slow(0)
        assert fetch(server) == 200
