"""The `email` channel type, and the channel that sends over SMTP.

Retry semantics: a server that cannot be reached, drops the connection,
times out or answers 4xx (a temporary failure, by SMTP's own definition) is
tried again; a 5xx answer (login refused, sender or every recipient
refused, message refused) and a missing STARTTLS or AUTH extension are not,
as they will be the same next time.
"""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage

import aiosmtplib
from pydantic import BaseModel

from ocrfleet.plugin import Channel, ChannelType, DeliveryError, Notification
from ocrfleet_email.message import build_message
from ocrfleet_email.options import EmailOptions, bare_address

log = logging.getLogger(__name__)

_REFUSED = {
    aiosmtplib.SMTPAuthenticationError: "login refused",
    aiosmtplib.SMTPSenderRefused: "sender refused",
    aiosmtplib.SMTPDataError: "message refused",
    aiosmtplib.SMTPHeloError: "greeting refused",
}


class EmailChannel(Channel):
    def __init__(self, name: str, options: EmailOptions) -> None:
        super().__init__(name)
        self._options = options
        self._where = f"SMTP {options.host}:{options.smtp_port}"
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext | None:
        # Read on first use: creating a channel does no I/O.
        if self._tls is None and self._options.ca_file is not None:
            self._tls = ssl.create_default_context(cafile=str(self._options.ca_file))
        return self._tls

    async def deliver(self, notification: Notification) -> None:
        options = self._options
        message = build_message(notification, options.from_, options.to, options.subject_prefix)
        client = aiosmtplib.SMTP(
            hostname=options.host,
            port=options.smtp_port,
            use_tls=options.security == "tls",
            # Upgraded below, where a server without STARTTLS can be told apart.
            start_tls=False,
            validate_certs=options.verify_tls,
            tls_context=self._tls_context(),
            timeout=options.timeout,
        )
        try:
            await client.connect()
            try:
                refused = await self._send(client, message)
            finally:
                client.close()
        except aiosmtplib.SMTPRecipientsRefused as exc:
            answers = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            temporary = any(400 <= r.code < 500 for r in exc.recipients)
            raise DeliveryError(
                f"{self._where}: every recipient refused ({answers})", retryable=temporary
            ) from exc
        except (
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPTimeoutError,
            aiosmtplib.SMTPServerDisconnected,
        ) as exc:
            raise DeliveryError(f"{self._where}: {exc.message}", retryable=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            what = _REFUSED.get(type(exc), "refused")
            raise DeliveryError(
                f"{self._where}: {what}: {exc.code} {exc.message}", retryable=exc.code < 500
            ) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            raise DeliveryError(f"{self._where}: {exc.message}", retryable=False) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{self._where}: {exc}", retryable=True) from exc
        if refused:
            # Delivered to the others: trying again would send them a copy,
            # so the refusals are only logged.
            log.warning(
                "%s: channel %s: notification %s not accepted for %s",
                self._where,
                self.name,
                notification.id,
                "; ".join(f"{to}: {r.code} {r.message}" for to, r in refused.items()),
            )

    async def _send(
        self, client: aiosmtplib.SMTP, message: EmailMessage
    ) -> dict[str, aiosmtplib.SMTPResponse]:
        """STARTTLS, login and the message itself; returns the recipients refused."""
        options = self._options
        if options.security == "starttls":
            await client.ehlo()
            if not client.supports_extension("starttls"):
                raise DeliveryError(
                    f'{self._where}: the server does not offer STARTTLS (security = "starttls")',
                    retryable=False,
                )
            await client.starttls()
        if options.username is not None and options.password is not None:
            await client.ehlo()
            if not client.supports_extension("auth"):
                raise DeliveryError(
                    f"{self._where}: the server does not offer login (AUTH) here",
                    retryable=False,
                )
            await client.login(options.username, options.password.get_secret_value())
        refused, _ = await client.send_message(
            message,
            sender=bare_address(options.from_),
            recipients=[bare_address(address) for address in options.to],
        )
        await client.quit()
        return refused


class EmailChannelType(ChannelType):
    name = "email"
    description = "send notifications as e-mail (plain text and HTML) over SMTP"
    options_model = EmailOptions
    templates = {
        "subject": "email.subject.j2",
        "body": "email.txt.j2",
        "html": "email.html.j2",
    }
    template_package = "ocrfleet_email"

    def create(self, name: str, options: BaseModel) -> Channel:
        if not isinstance(options, EmailOptions):
            raise TypeError(f"email channel {name!r}: options are {type(options).__name__}")
        return EmailChannel(name, options)
