from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.libki import CLIENTS, RESERVATIONS, LibkiServer
from tests.support.mosquitto import Mosquitto
from tests.support.programs import installed


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A command run in-process (`main([...])`) points the root logger at the stderr
    pytest had then; a later log line from a server thread would hit that closed
    stream ("--- Logging error ---"). Each test gets the logging it found back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "broker")
    with mosquitto:
        yield mosquitto


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool (Debian package `prometheus`, which `make test` installs).

    Under CI a missing promtool fails: a skip there would pass the rule tests
    without running them.
    """
    return installed("promtool", "prometheus")


@pytest.fixture
def libki_server() -> Iterator[LibkiServer]:
    """Libki's API with one location, MAIN: PC-02 in use, PC-03 reserved (tests/fixtures/libki)."""
    server = LibkiServer()
    server.serve(CLIENTS, "clients-before.json")
    server.serve(RESERVATIONS, "reservations.json")
    try:
        yield server
    finally:
        server.stop()
