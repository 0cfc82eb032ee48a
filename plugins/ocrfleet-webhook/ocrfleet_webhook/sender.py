"""POSTing JSON to an HTTP target, with every failure turned into a DeliveryError.

Retry semantics, shared by the HTTP channels: no answer (connection refused,
reset, timed out, TLS failure), 5xx, 408 and 429 may pass, so they are
retryable; any other status outside 2xx means the receiver will refuse the
same request again, so it is not.

httpx is imported by the first request, not with this module: loading the
plugin's channel types happens in every ocrfleet command, most of which
never send anything.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ocrfleet.plugin import DeliveryError, __version__
from ocrfleet_webhook.target import HttpTargetOptions, TargetUrl

if TYPE_CHECKING:
    import httpx

RETRYABLE_STATUSES = frozenset({408, 429})
# Enough of a refusal's body to see why (e.g. Alertmanager's validation message).
_EXCERPT = 300


class JsonSender:
    """Sends to one URL. A fresh connection per request: notifications are
    minutes apart, and a kept-alive connection would by then be dropped by
    the receiver or a proxy in between."""

    def __init__(self, options: HttpTargetOptions, url: TargetUrl | None = None) -> None:
        self._options = options
        self.url = url or options.url
        self._tls: ssl.SSLContext | bool | None = None

    def _verify(self) -> ssl.SSLContext | bool:
        # Built on first use rather than at creation, which does no I/O.
        if self._tls is None:
            if not self._options.verify_tls:
                self._tls = False
            elif self._options.ca_file is not None:
                self._tls = ssl.create_default_context(cafile=str(self._options.ca_file))
            else:
                import httpx  # here, not at the top: see the module's docstring

                self._tls = httpx.create_ssl_context()
        return self._tls

    def _headers(self, extra: Mapping[str, str]) -> dict[str, str]:
        headers = {name: value.get_secret_value() for name, value in self._options.headers.items()}
        if self._options.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self._options.bearer_token.get_secret_value()}"
        headers["User-Agent"] = f"ocrfleet/{__version__}"
        headers["Content-Type"] = "application/json"
        headers.update(extra)
        return headers

    async def post(self, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """POST `body`; returns the 2xx response or raises DeliveryError."""
        import httpx  # here, not at the top: see the module's docstring

        basic = self._options.basic_auth
        auth = httpx.BasicAuth(basic.username, basic.password.get_secret_value()) if basic else None
        where = self.url.shown
        async with httpx.AsyncClient(
            verify=self._verify(), timeout=self._options.timeout, auth=auth
        ) as client:
            try:
                response = await client.post(
                    self.url.full, content=body, headers=self._headers(headers)
                )
            except httpx.TimeoutException:
                raise DeliveryError(
                    f"{where}: no answer within {self._options.timeout:g} s", retryable=True
                ) from None
            except httpx.TransportError as exc:
                raise DeliveryError(f"{where}: {_reason(exc)}", retryable=True) from exc
        check_status(response, where)
        return response


def check_status(response: httpx.Response, where: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = " ".join(response.text.split())[:_EXCERPT]
    message = f"{where}: HTTP {status} {response.reason_phrase}".rstrip()
    if 300 <= status < 400:
        message += " (redirects are not followed: configure the URL it points to)"
    elif detail:
        message += f": {detail}"
    raise DeliveryError(message, retryable=status >= 500 or status in RETRYABLE_STATUSES)


def _reason(exc: httpx.TransportError) -> str:
    # httpx wraps the OS error; its text ("[Errno 111] Connection refused")
    # is what an operator searches for.
    import httpx  # here, not at the top: see the module's docstring

    text = str(exc) or type(exc).__name__
    return f"cannot connect: {text}" if isinstance(exc, httpx.ConnectError) else text
