""" "The internet" for internet checks: an HTTPS server on 127.0.0.1 that can go away or get slow.

    with InternetServer(tmp_path / "internet") as internet:
        ... check internet.url, trusting internet.ca_file ...
        internet.stop()        # the line is cut: connections refused
        internet.start()       # back, on the same port
        internet.slow(3.0)     # answers come 3 s late
        internet.answer(503)   # answers are errors (200 again: answer(200))
        internet.hold()        # answers wait until release(): a hanging server
        internet.wait_for_requests(1)
        internet.release()

It answers `GET /` (any path) with 200 and a short body. Its certificate,
from a throw-away certificate authority (`ca_file`), names `localhost` and
127.0.0.1; `url` uses `localhost`, so a check resolves a real name first.
The TLS handshake runs in the request's own thread, so a client that
connects and stays silent cannot stop the server from serving others.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BODY = b"ocrfleet test internet\n"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A new CA and a server certificate for localhost and 127.0.0.1: (ca, cert, key) files."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("ocrfleet test internet CA"))
        .issuer_name(_name("ocrfleet test internet CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = (
        directory / "ca.pem",
        directory / "server.crt",
        directory / "server.key",
    )
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file, cert_file, key_file


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-handshake is what some tests do on purpose.
        pass


class InternetServer:
    """An HTTPS server standing in for the internet; see the module's docstring."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.ca_file, cert_file, key_file = make_certificates(directory)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert_file, key_file)
        self.port = port or _free_port()
        self.url = f"https://localhost:{self.port}/"
        self._lock = threading.Lock()
        # Wakes handlers that wait (slow, held) when told to release or stop.
        self._changed = threading.Condition(self._lock)
        self._delay = 0.0
        self._status = 200
        self._held = False
        self._generation = 0  # bumped by stop(): waiting handlers of a stopped server hang up
        self._requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- what the tests say -------------------------------------------------

    def slow(self, seconds: float) -> None:
        """Wait `seconds` before answering each request from now on; 0 for prompt again."""
        with self._lock:
            self._delay = max(0.0, seconds)
            self._changed.notify_all()

    def answer(self, status: int) -> None:
        """Answer every request with `status` from now on."""
        with self._lock:
            self._status = status

    def hold(self) -> None:
        """Keep every request waiting, without an answer, until `release()` (or `stop()`)."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        """Answer the held requests, and the next ones at once."""
        with self._lock:
            self._held = False
            self._changed.notify_all()

    @property
    def requests(self) -> int:
        """Requests received (headers read) since the server was made."""
        with self._lock:
            return self._requests

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> int:
        """Block until `count` requests arrived in all; raise after `timeout` seconds."""
        with self._lock:
            if not self._changed.wait_for(lambda: self._requests >= count, timeout):
                raise AssertionError(f"{self._requests} requests arrived, waited for {count}")
            return self._requests

    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Serve on `port` (the same one after a `stop()`)."""
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", self.port), self._handler_class())
        # The handshake waits for the request's own thread (see the docstring).
        server.socket = self._context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Refuse connections; requests waiting for an answer are hung up on."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        with self._lock:
            self._generation += 1
            self._changed.notify_all()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the server's side --------------------------------------------------

    def _wait_to_answer(self) -> int | None:
        """Wait as told (slow, held), then the status to answer; None when the server stopped."""
        with self._lock:
            self._requests += 1
            self._changed.notify_all()
            generation = self._generation
            delay = self._delay
            if delay > 0:
                self._changed.wait_for(lambda: self._generation != generation, delay)
            self._changed.wait_for(lambda: not self._held or self._generation != generation)
            return self._status if self._generation == generation else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        internet = self

        class Handler(BaseHTTPRequestHandler):
            def setup(self) -> None:
                self.request.do_handshake()
                super().setup()

            def do_GET(self) -> None:
                status = internet._wait_to_answer()
                if status is None:
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                self.wfile.write(BODY)

            def do_HEAD(self) -> None:
                status = internet._wait_to_answer()
                if status is None:
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
