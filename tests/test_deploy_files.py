"""deploy/: the systemd unit, the Alertmanager routes and the Mosquitto configs.

The unit is checked by systemd's own tools when they are installed, the
Alertmanager file by amtool (Debian package prometheus-alertmanager), and
the Mosquitto files by running them: a central broker and a site broker
bridged to it over TLS, on free loopback ports, with the shipped ACL files,
and clients that try what agents may and may not do.
"""

from __future__ import annotations

import datetime
import getpass
import ipaddress
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.mosquitto import free_port, mosquitto_binary
from tests.support.programs import installed

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "ocrfleet.service"
ALERTMANAGER = DEPLOY / "alertmanager" / "alertmanager.yml"
MOSQUITTO = DEPLOY / "mosquitto"
SITE = "zonnedorp-library"
WAIT = 20.0


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False
    )


# -- systemd -----------------------------------------------------------------


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def runnable_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's ocrfleet.

    systemd-analyze verify refuses a unit whose program does not exist, and
    /opt/ocrfleet is not installed here; everything else is checked as shipped.
    """
    shipped = "/opt/ocrfleet/.venv/bin/ocrfleet"
    text = UNIT.read_text()
    assert f"ExecStart={shipped} " in text
    here = Path(sys.executable).parent / "ocrfleet"
    assert here.exists()
    copy = tmp_path / "ocrfleet.service"
    copy.write_text(text.replace(shipped, str(here)))
    return copy


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    return found


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    result = run(systemd_analyze(), "verify", "--man=no", runnable_unit(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ocrfleet.service" not in result.stderr, result.stderr


def test_unit_is_hardened(tmp_path: Path) -> None:
    # The exposure score is 0 (locked down) to 100; "OK" ends at 39.
    result = run(
        systemd_analyze(),
        "security",
        "--offline=yes",
        "--threshold=20",
        "--no-pager",
        runnable_unit(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_unit_runs_the_daemon_as_documented() -> None:
    settings = unit_settings()
    assert settings["User"] == ["ocrfleet"]
    assert settings["ExecStart"] == [
        "/opt/ocrfleet/.venv/bin/ocrfleet run -c /etc/ocrfleet/config.toml"
    ]
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert settings["Restart"] == ["on-failure"]
    assert settings["ProtectSystem"] == ["strict"]
    assert settings["CapabilityBoundingSet"] == [""]
    assert settings["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert "@system-service" in settings["SystemCallFilter"]
    # ProtectSystem=strict leaves only the state directory writable: it must
    # be the directory of the store's default path.
    config = tomllib.loads((ROOT / "config.example.toml").read_text())
    store = Path(config["store"]["path"])
    (state,) = settings["StateDirectory"]
    assert store.parent == Path("/var/lib") / state
    (configuration,) = settings["ConfigurationDirectory"]
    assert Path("/etc") / configuration == Path("/etc/ocrfleet")


def test_sysusers_creates_the_service_user(tmp_path: Path) -> None:
    sysusers = shutil.which("systemd-sysusers")
    if sysusers is None:
        pytest.skip("systemd-sysusers is not installed (Debian package systemd)")
    (tmp_path / "etc").mkdir()
    result = run(sysusers, f"--root={tmp_path}", DEPLOY / "systemd" / "ocrfleet.sysusers")
    assert result.returncode == 0, result.stderr
    users = {
        line.split(":")[0]: line.split(":")
        for line in (tmp_path / "etc" / "passwd").read_text().splitlines()
    }
    assert users["ocrfleet"][5] == "/var/lib/ocrfleet"
    assert users["ocrfleet"][6] == "/usr/sbin/nologin"


# -- Alertmanager -------------------------------------------------------------


def test_alertmanager_config_checks() -> None:
    amtool = installed("amtool", "prometheus-alertmanager")
    result = run(amtool, "check-config", ALERTMANAGER)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ({"category": "jam", "site": "vlaminggem-library"}, "frontdesk-vlaminggem-library"),
        ({"category": "paper", "site": "zonnedorp-library"}, "frontdesk-zonnedorp-library"),
        ({"category": "toner", "site": "overbrugge-neighbourhood-house"}, "frontdesk-other-sites"),
        ({"category": "supplies", "site": "boskerke-service-centre"}, "frontdesk-other-sites"),
        # A front-desk category at a site without a desk route: IT hears of it.
        ({"category": "toner", "site": "elsewhere"}, "it-oncall"),
        ({"category": "hardware", "site": "vlaminggem-library"}, "it-oncall"),
        ({"category": "network", "site": "zonnedorp-library"}, "it-oncall"),
        ({"category": "monitoring"}, "it-oncall"),
        ({"category": "capacity", "site": "zonnedorp-library"}, "coordinator"),
        # Reminders go to the IT mailbox, even in a front-desk category.
        ({"category": "supplies", "site": "vlaminggem-library", "type": "reminder"}, "it-mail"),
        ({"category": "maintenance", "site": "vlaminggem-library", "type": "reminder"}, "it-mail"),
    ],
)
def test_alertmanager_routes(labels: dict[str, str], receiver: str) -> None:
    amtool = installed("amtool", "prometheus-alertmanager")
    labels = {"type": "alert", "severity": "warning", **labels}
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER}",
        f"--verify.receivers={receiver}",
        *(f"{k}={v}" for k, v in labels.items()),
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- Mosquitto ----------------------------------------------------------------


def make_certificates(directory: Path) -> None:
    """A CA and a broker certificate for 127.0.0.1, as PEM files in `directory`."""
    now = datetime.datetime.now(datetime.UTC)

    def build(
        subject: str, issuer: x509.Name | None, key: ec.EllipticCurvePrivateKey
    ) -> x509.CertificateBuilder:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        build("test CA", None, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    broker = (
        build("127.0.0.1", ca.subject, key)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "broker.crt").write_bytes(broker.public_bytes(serialization.Encoding.PEM))
    (directory / "broker.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def localise(text: str, replacements: dict[str, str]) -> str:
    """The shipped config with its paths and addresses swapped for the test's.

    Each one must occur, so a changed file fails here rather than being
    tested with its production paths left in.
    """
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the shipped file"
        text = text.replace(old, new)
    return text


def password_file(path: Path, users: dict[str, str]) -> None:
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    for user, password in users.items():
        create = [] if path.exists() else ["-c"]
        result = run(passwd, *create, "-b", path, user, password)
        assert result.returncode == 0, result.stderr


class Broker:
    def __init__(self, name: str, workdir: Path, config: str, port: int) -> None:
        self.name = name
        self.port = port
        self.log = workdir / "mosquitto.log"
        self.conf = workdir / "mosquitto.conf"
        # Run as root, Mosquitto would switch to user mosquitto, which cannot
        # read the test's files.
        self.conf.write_text(f"user {getpass.getuser()}\n" + config)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                errors = self.process.stderr.read().decode() if self.process.stderr else ""
                log = self.log.read_text() if self.log.exists() else ""
                raise AssertionError(f"{self.name} broker exited: {errors}{log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"{self.name} broker did not start listening")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Client:
    """A TLS client that records what it receives; connects or reports why not."""

    def __init__(self, broker: Broker, ca: Path, user: str | None, password: str = "") -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connack: queue.Queue[bool] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"test-{user}-{broker.name}",
            protocol=mqtt.MQTTv311,
        )
        self.client.tls_set(ca_certs=str(ca))
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.on_connect = lambda c, u, f, rc, p: self.connack.put(not rc.is_failure)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def accepted(self) -> bool:
        return self.connack.get(timeout=WAIT)

    def subscribe(self, topic: str) -> None:
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(WAIT)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(WAIT)

    def receive_until(self, topic: str, payload: bytes) -> list[tuple[str, bytes]]:
        """Everything received up to and including `payload` on `topic`."""
        received = []
        while True:
            message = self.messages.get(timeout=WAIT)
            received.append(message)
            if message == (topic, payload):
                return received

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[tuple[Broker, Broker, Path]]:
    for program in ("mosquitto", "mosquitto_passwd"):
        if shutil.which(program) is None and not Path(f"/usr/sbin/{program}").exists():
            installed(program, "mosquitto")
    make_certificates(tmp_path)
    ca = tmp_path / "ca.pem"
    certs = {
        "/etc/mosquitto/certs/ca.pem": str(ca),
        "/etc/mosquitto/certs/broker.crt": str(tmp_path / "broker.crt"),
        "/etc/mosquitto/certs/broker.key": str(tmp_path / "broker.key"),
    }
    central_dir, site_dir = tmp_path / "central", tmp_path / "site"
    central_dir.mkdir()
    site_dir.mkdir()
    central_port, site_port = free_port(), free_port()

    password_file(
        central_dir / "passwd",
        {SITE: "bridge-secret", "ocrfleet-daemon": "daemon-secret"},
    )
    central = Broker(
        "central",
        central_dir,
        localise(
            (MOSQUITTO / "central.conf").read_text(),
            {
                "listener 8883": f"listener {central_port} 127.0.0.1",
                **certs,
                "/etc/mosquitto/passwd": str(central_dir / "passwd"),
                "/etc/mosquitto/central.acl": str(MOSQUITTO / "central.acl"),
                "/var/lib/mosquitto/": f"{central_dir}/",
                "/var/log/mosquitto/mosquitto.log": str(central_dir / "mosquitto.log"),
            },
        ),
        central_port,
    )
    password_file(
        site_dir / "passwd",
        {"pc-01": "pc-01-secret", "pc-02": "pc-02-secret", "ocrfleet-daemon": "daemon-secret"},
    )
    site = Broker(
        "site",
        site_dir,
        localise(
            (MOSQUITTO / "site.conf").read_text(),
            {
                "listener 8883": f"listener {site_port} 127.0.0.1",
                **certs,
                "/etc/mosquitto/certs/central-ca.pem": str(ca),
                "/etc/mosquitto/passwd": str(site_dir / "passwd"),
                "/etc/mosquitto/site.acl": str(MOSQUITTO / "site.acl"),
                "/var/lib/mosquitto/": f"{site_dir}/",
                "/var/log/mosquitto/mosquitto.log": str(site_dir / "mosquitto.log"),
                "address mqtt.region.example:8883": f"address 127.0.0.1:{central_port}",
                "remote_password change-me": "remote_password bridge-secret",
            },
        ),
        site_port,
    )
    try:
        central.start()
        site.start()
        yield central, site, ca
    finally:
        site.stop()
        central.stop()


def test_mosquitto_site_bridge_and_acls(brokers: tuple[Broker, Broker, Path]) -> None:
    central, site, ca = brokers
    clients: list[Client] = []

    def connect(broker: Broker, user: str | None, password: str = "") -> Client:
        client = Client(broker, ca, user, password)
        clients.append(client)
        return client

    try:
        daemon = connect(central, "ocrfleet-daemon", "daemon-secret")
        assert daemon.accepted()
        daemon.subscribe("ocrfleet/#")
        daemon.subscribe("bridges/#")
        # The bridge announces its link (retained) once it is up over TLS.
        daemon.receive_until(f"bridges/{SITE}/state", b"1")

        local = connect(site, "ocrfleet-daemon", "daemon-secret")
        assert local.accepted()
        local.subscribe("ocrfleet/#")

        assert not connect(site, None).accepted()
        assert not connect(site, "pc-01", "wrong").accepted()

        agent = connect(site, "pc-01", "pc-01-secret")
        assert agent.accepted()
        forbidden = [
            f"ocrfleet/{SITE}/pc-02/availability",  # another PC of the site
            "ocrfleet/boskerke-service-centre/pc-01/health",  # another site
            f"ocrfleet/{SITE}/pc-01/config",  # not a channel
        ]
        for topic in forbidden:
            agent.publish(topic, b"forged")
        # Published after the forged ones by the same client: once it has
        # arrived, a forged message let through would have arrived before it.
        own = f"ocrfleet/{SITE}/pc-01/health"
        agent.publish(own, b"real")
        assert local.receive_until(own, b"real") == [(own, b"real")]
        assert daemon.receive_until(own, b"real") == [(own, b"real")]

        # The daemon's acknowledgement comes back over the bridge to its agent
        # only; the agent's own topics let it forge no acknowledgement.
        neighbour = connect(site, "pc-02", "pc-02-secret")
        assert neighbour.accepted()
        for client in (agent, neighbour):
            client.subscribe(f"ocrfleet/{SITE}/+/ack")
        ack = f"ocrfleet/{SITE}/pc-01/ack"
        agent.publish(ack, b"forged")
        daemon.publish(f"ocrfleet/{SITE}/pc-02/ack", b"for pc-02")
        daemon.publish(ack, b"for pc-01")
        assert agent.receive_until(ack, b"for pc-01") == [(ack, b"for pc-01")]
        pc02_ack = f"ocrfleet/{SITE}/pc-02/ack"
        assert neighbour.receive_until(pc02_ack, b"for pc-02") == [(pc02_ack, b"for pc-02")]

        # The bridge's user cannot speak for another site on the central broker.
        bridge_user = connect(central, SITE, "bridge-secret")
        assert bridge_user.accepted()
        other = "ocrfleet/boskerke-service-centre/pc-01/health"
        bridge_user.publish(other, b"forged")
        mine = f"ocrfleet/{SITE}/pc-02/health"
        bridge_user.publish(mine, b"real")
        # The daemon hears its own two acknowledgements first (it reads ocrfleet/#).
        assert daemon.receive_until(mine, b"real") == [
            (pc02_ack, b"for pc-02"),
            (ack, b"for pc-01"),
            (mine, b"real"),
        ]
    finally:
        for client in clients:
            client.close()
