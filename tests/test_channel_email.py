"""The bundled `email` channel, against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ocrfleet.config.errors import ConfigError
from ocrfleet.notify.channels import Channel, DeliveryError
from ocrfleet.notify.notification import AlertItem, Notification, Status
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager
from ocrfleet_email.channel import EmailChannelType
from ocrfleet_email.options import EmailOptions
from tests.support.channels import load_with_channel
from tests.support.mosquitto import free_port

STARTED = 1_714_557_600.0  # 2024-05-01 10:00 UTC, 12:00 in Brussels
ENDED = 1_714_561_200.0  # an hour later


# -- a real SMTP server ------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class MailRecorder:
    """aiosmtpd handler: keeps what it accepts, refuses the recipients it is told to."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP answer
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.login_data.decode() if session.authenticated else None
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), message, login)
        )
        return "250 Message accepted"


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"ocrfleet", b"s3cret")
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture
def recorder() -> MailRecorder:
    return MailRecorder()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ocrfleet test SMTP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(directory / "cert.pem", directory / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def smtp_server(recorder: MailRecorder, **smtp: Any) -> Controller:
    return Controller(recorder, hostname="127.0.0.1", port=free_port(), **smtp)


@pytest.fixture
def plain_server(recorder: MailRecorder) -> Iterator[Controller]:
    server = smtp_server(recorder)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def starttls_server(recorder: MailRecorder, certificate: Certificate) -> Iterator[Controller]:
    server = smtp_server(
        recorder,
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    server.start()
    yield server
    server.stop()


# -- notifications -------------------------------------------------------------------


def alert(
    device: str, status: Status = "firing", ends_at: float | None = None, **fields: Any
) -> AlertItem:
    values: dict[str, Any] = {
        "key": f"device_down:lib/{device}",
        "fingerprint": "a1b2c3d4e5f60718",
        "rule": "device_down",
        "status": status,
        "severity": "critical",
        "labels": {
            "alertname": "device_down",
            "severity": "critical",
            "site": "lib",
            "device": device,
        },
        "summary": f"{device} is down",
        "description": "No health report for 10 minutes.\nCheck the power and the cable.",
        "starts_at": STARTED,
        "ends_at": ends_at,
    }
    return AlertItem(**{**values, **fields})


def notification(*items: AlertItem, repeat: bool = False) -> Notification:
    return Notification(
        id="7f3a9c2e11d04b5a",
        channel="mail",
        group_key='{}:{site="lib"}',
        group_labels={"site": "lib"},
        type="reminder" if repeat else "alert",
        status="firing" if any(i.status == "firing" for i in items) else "resolved",
        created_at=ENDED + 60,
        items=items,
        repeat=repeat,
        timezone="Europe/Brussels",
    )


def email_channel(server: Controller, **options: Any) -> Channel:
    values = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "plain",
        "from": "ocrfleet <ocrfleet@gemeente.example>",
        "to": ["balie@bib.example", "it@gemeente.example"],
        **options,
    }
    return EmailChannelType().create("mail", EmailOptions.model_validate(values))


def deliver(channel: Channel, note: Notification) -> None:
    async def run() -> None:
        try:
            await channel.deliver(note)
        finally:
            await channel.close()

    asyncio.run(run())


def delivery_error(channel: Channel, note: Notification) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        deliver(channel, note)
    return caught.value


# -- registration and options ----------------------------------------------------------


def _load(channel: dict[str, Any]) -> None:
    load_with_channel("mail", channel)


GOOD = {"type": "email", "host": "smtp.example", "from": "a@example.org", "to": ["b@example.org"]}


def test_the_email_type_is_registered_by_its_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = PluginCatalog.from_manager(build_plugin_manager())
    assert isinstance(catalog.channel_types["email"], EmailChannelType)
    owners = [c.plugin for c in catalog.contributions if "email" in c.channel_types]
    assert owners == ["email"]
    monkeypatch.setenv("SMTP_PASSWORD", "x")
    _load({**GOOD, "username": "u", "password": {"env": "SMTP_PASSWORD"}})


@pytest.mark.parametrize(
    ("changes", "where", "problem"),
    [
        ({"to": []}, "to", "at least 1 item"),
        ({"to": ["balie"]}, "to[0]", "'balie' is not an e-mail address"),
        ({"from": "nobody"}, "from", "'nobody' is not an e-mail address"),
        ({"security": "ssl"}, "security", "'starttls', 'tls' or 'plain'"),
        ({"port": 0}, "port", "greater than or equal to 1"),
        ({"password": {"env": "OCRFLEET_NOT_SET"}}, "password", "'OCRFLEET_NOT_SET' is not set"),
        ({"username": "u"}, "", "give both username and password, or neither"),
        (
            {"security": "plain", "username": "u", "password": "p"},
            "",
            "a password would cross the network unencrypted",
        ),
    ],
)
def test_a_bad_option_is_named_with_its_place(
    changes: dict[str, Any], where: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load({**GOOD, **changes})
    place = f"alerting.channels.mail.{where}".rstrip(".")
    assert [p for p in caught.value.problems if p[0] == place and problem in p[1]], (
        caught.value.problems
    )


# -- delivery -------------------------------------------------------------------------


def test_plain_smtp_delivers_a_readable_message(
    plain_server: Controller, recorder: MailRecorder
) -> None:
    # Queued without texts (by an older ocrfleet): the channel's plain English.
    resolved = alert("mfp", "resolved", ends_at=ENDED, severity="warning", summary="toner low")
    deliver(email_channel(plain_server), notification(alert("pc-03"), resolved))

    (mail,) = recorder.received
    assert mail.mail_from == "ocrfleet@gemeente.example"
    assert mail.rcpt_tos == ["balie@bib.example", "it@gemeente.example"]
    assert mail.login is None
    message = mail.message
    assert message["Subject"] == "[ocrfleet] [FIRING] lib: 1 firing, 1 resolved"
    assert message["Message-ID"] == "<7f3a9c2e11d04b5a@ocrfleet>"
    assert message["From"] == "ocrfleet <ocrfleet@gemeente.example>"
    assert message["To"] == "balie@bib.example, it@gemeente.example"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "text/plain"
    # SMTP carries lines ending in CRLF.
    assert message.get_content().replace("\r\n", "\n") == (
        "[FIRING] lib: 1 firing, 1 resolved\n"
        "\n"
        "FIRING (1)\n"
        "- [critical] lib / pc-03: pc-03 is down\n"
        "  No health report for 10 minutes.\n"
        "  Check the power and the cable.\n"
        "  since 2024-05-01 12:00 CEST\n"
        "\n"
        "RESOLVED (1)\n"
        "- [warning] lib / mfp: toner low\n"
        "  No health report for 10 minutes.\n"
        "  Check the power and the cable.\n"
        "  from 2024-05-01 12:00 CEST until 2024-05-01 13:00 CEST\n"
        "\n"
        "--\n"
        "ocrfleet notification 7f3a9c2e11d04b5a\n"
    )


def test_text_beyond_ascii_survives(plain_server: Controller, recorder: MailRecorder) -> None:
    summary = "Pc in de leeszaal van Sint-Eloois-Winkel ✗"
    deliver(email_channel(plain_server), notification(alert("pc-03", summary=summary)))
    (mail,) = recorder.received
    # Python's header folding can double the space before an encoded word.
    assert " ".join(mail.message["Subject"].split()) == f"[ocrfleet] [FIRING] lib: {summary}"
    assert f"- [critical] lib / pc-03: {summary}" in mail.message.get_content()


def test_a_reminder_says_so(plain_server: Controller, recorder: MailRecorder) -> None:
    deliver(
        email_channel(plain_server, subject_prefix=""), notification(alert("pc-03"), repeat=True)
    )
    (mail,) = recorder.received
    assert mail.message["Subject"] == "[FIRING] lib: pc-03 is down (reminder)"
    assert "A reminder: these alerts were notified before" in mail.message.get_content()


def test_the_composed_texts_are_sent_as_plain_text_and_html(
    plain_server: Controller, recorder: MailRecorder
) -> None:
    texts = {
        "title": "Bib: pc-03 is stuk",
        # A template cannot add a header line: the subject is one line.
        "subject": "Bib:\n pc-03 is stuk\r\nBcc: everyone@example.org",
        "body": "Probleem: pc-03 is stuk\nSinds 1 mei 2024 12:00 CEST\n",
        "html": "<p>Probleem: pc-03 is stuk</p>",
    }
    note = dataclasses.replace(notification(alert("pc-03")), language="nl", texts=texts)
    deliver(email_channel(plain_server, subject_prefix="[pc]"), note)
    (mail,) = recorder.received
    message = mail.message
    assert message["Subject"] == "[pc] Bib: pc-03 is stuk Bcc: everyone@example.org"
    assert message["Bcc"] is None
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().replace("\r\n", "\n") == texts["body"]
    assert html.get_content_type() == "text/html"
    assert html.get_content().strip() == texts["html"]


def test_a_repeated_delivery_has_the_same_message_id(
    plain_server: Controller, recorder: MailRecorder
) -> None:
    channel = email_channel(plain_server)
    note = notification(alert("pc-03"))
    deliver(channel, note)
    deliver(channel, note)
    first, second = recorder.received
    assert first.message["Message-ID"] == second.message["Message-ID"]


def test_starttls_with_login(
    starttls_server: Controller, recorder: MailRecorder, certificate: Certificate
) -> None:
    channel = email_channel(
        starttls_server,
        security="starttls",
        username="ocrfleet",
        password="s3cret",
        ca_file=str(certificate.cert),
    )
    deliver(channel, notification(alert("pc-03")))
    (mail,) = recorder.received
    assert mail.login == "ocrfleet"
    assert mail.message["Message-ID"] == "<7f3a9c2e11d04b5a@ocrfleet>"


def test_implicit_tls(recorder: MailRecorder, certificate: Certificate) -> None:
    server = smtp_server(recorder, ssl_context=certificate.server_context())
    server.start()
    try:
        channel = email_channel(server, security="tls", ca_file=str(certificate.cert))
        deliver(channel, notification(alert("pc-03")))
    finally:
        server.stop()
    assert len(recorder.received) == 1


def test_an_untrusted_certificate_is_refused_and_retried(starttls_server: Controller) -> None:
    channel = email_channel(starttls_server, security="starttls", username="ocrfleet", password="x")
    error = delivery_error(channel, notification(alert("pc-03")))
    assert error.retryable
    assert str(error).startswith(f"SMTP 127.0.0.1:{starttls_server.port}: ")
    assert "certificate" in str(error).lower()


def test_a_refused_login_is_not_retried(
    starttls_server: Controller, recorder: MailRecorder, certificate: Certificate
) -> None:
    channel = email_channel(
        starttls_server,
        security="starttls",
        username="ocrfleet",
        password="wrong",
        ca_file=str(certificate.cert),
    )
    error = delivery_error(channel, notification(alert("pc-03")))
    assert not error.retryable
    assert str(error).startswith(f"SMTP 127.0.0.1:{starttls_server.port}: login refused: 535")
    assert recorder.received == []


def test_recipients_refused_for_good_are_not_retried(
    plain_server: Controller, recorder: MailRecorder
) -> None:
    recorder.refuse = {
        "balie@bib.example": "550 5.1.1 no such mailbox",
        "it@gemeente.example": "550 5.1.1 no such mailbox",
    }
    error = delivery_error(email_channel(plain_server), notification(alert("pc-03")))
    assert not error.retryable
    assert "every recipient refused (balie@bib.example: 550 5.1.1 no such mailbox;" in str(error)


def test_a_temporary_refusal_is_retried(plain_server: Controller, recorder: MailRecorder) -> None:
    recorder.refuse = {
        "balie@bib.example": "450 4.2.0 mailbox busy",
        "it@gemeente.example": "550 5.1.1 no such mailbox",
    }
    error = delivery_error(email_channel(plain_server), notification(alert("pc-03")))
    assert error.retryable


def test_one_refused_recipient_does_not_fail_the_others(
    plain_server: Controller, recorder: MailRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.refuse = {"it@gemeente.example": "550 5.1.1 no such mailbox"}
    deliver(email_channel(plain_server), notification(alert("pc-03")))
    (mail,) = recorder.received
    assert mail.rcpt_tos == ["balie@bib.example"]
    assert "it@gemeente.example: 550 5.1.1 no such mailbox" in caplog.text


def test_starttls_missing_on_the_server_is_not_retried(plain_server: Controller) -> None:
    channel = email_channel(plain_server, security="starttls")
    error = delivery_error(channel, notification(alert("pc-03")))
    assert not error.retryable
    assert str(error) == (
        f"SMTP 127.0.0.1:{plain_server.port}: the server does not offer STARTTLS"
        ' (security = "starttls")'
    )


def test_no_server_is_retried() -> None:
    port = free_port()  # nothing listens there
    channel = EmailChannelType().create(
        "mail",
        EmailOptions.model_validate(
            {
                "host": "127.0.0.1",
                "port": port,
                "security": "plain",
                "from": "a@b.example",
                "to": ["c@d.example"],
            }
        ),
    )
    error = delivery_error(channel, notification(alert("pc-03")))
    assert error.retryable
    assert str(error).startswith(f"SMTP 127.0.0.1:{port}: ")
