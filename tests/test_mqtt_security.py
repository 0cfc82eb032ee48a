"""TLS and username/password against a real Mosquitto configured for both."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import RunningApp, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto, free_port
from tests.support.publisher import TestPublisher, health


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1."""
    ca_key, ca_cert = directory / "ca.key", directory / "ca.crt"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca_cert),
        "-days",
        "2",
        "-subj",
        "/CN=ocrfleet test CA",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(csr),
        "-subj",
        "/CN=127.0.0.1",
    )
    openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_cert),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return ca_cert, cert, key


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, int, Path]]:
    """Plain listener for the test's own publisher, TLS + password listener for the daemon."""
    directory = tmp_path / "tls"
    directory.mkdir()
    ca, cert, key = _certificates(directory)
    passwords = directory / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "ocrfleet", "s3cret"],
        check=True,
        capture_output=True,
    )
    tls_port = free_port()
    broker = Mosquitto(
        tmp_path / "broker",
        preamble="per_listener_settings true\n",
        extra_config=(
            f"listener {tls_port} 127.0.0.1\n"
            f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
            f"allow_anonymous false\npassword_file {passwords}\n"
        ),
    )
    broker.start()
    try:
        yield broker, tls_port, ca
    finally:
        broker.stop()


def test_daemon_connects_with_tls_and_password(
    secure_broker: tuple[Mosquitto, int, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, tls_port, ca = secure_broker
    monkeypatch.setenv("TEST_MQTT_PASSWORD", "s3cret")
    config = site_config(
        tls_port,
        tmp_path / "s.sqlite",
        username="ocrfleet",
        password={"env": "TEST_MQTT_PASSWORD"},
        tls={"ca_file": str(ca)},
    )
    with RunningApp(config) as daemon:
        agent = TestPublisher(broker.port)
        agent.publish("ocrfleet/lib/pc-01/health", health(cpu_ratio=0.9))
        labels = {"site": "lib", "device": "pc-01", "kind": "pc"}
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_cpu_ratio", **labels) == 0.9)
        agent.close()


def test_wrong_password_is_refused_and_reported(
    secure_broker: tuple[Mosquitto, int, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, tls_port, ca = secure_broker
    config = site_config(
        tls_port,
        tmp_path / "s.sqlite",
        username="ocrfleet",
        password="wrong",
        tls={"ca_file": str(ca)},
    )
    daemon = RunningApp(config)
    daemon.app.subscriber.start()
    try:
        wait_for(
            lambda: any("refused the connection" in r.getMessage() for r in caplog.records),
            timeout=10,
            what="refusal logged",
        )
        assert not daemon.app.subscriber.connected
    finally:
        daemon.app.subscriber.stop()


def test_untrusted_certificate_is_not_accepted(
    secure_broker: tuple[Mosquitto, int, Path], tmp_path: Path
) -> None:
    _, tls_port, _ = secure_broker
    other_ca, _, _ = _certificates(tmp_path)  # a CA that did not sign the broker's certificate
    config = site_config(
        tls_port,
        tmp_path / "s.sqlite",
        username="ocrfleet",
        password="s3cret",
        tls={"ca_file": str(other_ca)},
    )
    daemon = RunningApp(config)
    daemon.app.subscriber.start()
    try:
        assert not daemon.app.subscriber.wait_connected(3)
    finally:
        daemon.app.subscriber.stop()
