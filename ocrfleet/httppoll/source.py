"""HTTP as a source: a kind whose options extend HttpDeviceOptions gets an HttpClient.

httpx is imported when the first device's client is made, not with this
module, which the built-in plugin imports in every daemon (see client.py).
"""

from __future__ import annotations

import ssl
from typing import Any, ClassVar

from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.httppoll.client import HttpClient
from ocrfleet.httppoll.options import HttpDeviceOptions
from ocrfleet.sources import Source, SourceType


class HttpSource(Source):
    def __init__(self, max_concurrent_polls: int) -> None:
        self._max_concurrent_polls = max_concurrent_polls
        self._clients: dict[DeviceKey, HttpClient] = {}

    def slots(self) -> int:
        return self._max_concurrent_polls

    async def client(self, device: DeviceInfo) -> HttpClient:
        options = device.options
        if not isinstance(options, HttpDeviceOptions):
            raise TypeError(f"{device.key}: options are not HTTP device options")
        # One connection pool per device: TLS settings and credentials differ.
        old = self._clients.pop(device.key, None)
        if old is not None:
            await old.close()
        import httpx  # here, not at the top: see the module's docstring

        client = HttpClient(str(options.url), httpx.AsyncClient(**_settings(options)))
        self._clients[device.key] = client
        return client

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()


class HttpSourceType(SourceType):
    name: ClassVar[str] = "http"
    description: ClassVar[str] = "HTTP(S) GET of JSON, text or Prometheus metrics"
    options_model: ClassVar[type[HttpDeviceOptions]] = HttpDeviceOptions

    def open(self, max_concurrent_polls: int) -> HttpSource:
        return HttpSource(max_concurrent_polls)

    def address_options(self, address: str) -> dict[str, Any]:
        return {"url": address}


def _settings(options: HttpDeviceOptions) -> dict[str, Any]:
    import httpx  # here, not at the top: see the module's docstring

    verify: ssl.SSLContext | bool = options.verify_tls
    if options.verify_tls and options.ca_file is not None:
        verify = ssl.create_default_context(cafile=str(options.ca_file))
    auth = None
    if options.username is not None and options.password is not None:
        auth = httpx.BasicAuth(options.username, options.password.get_secret_value())
    return {
        "timeout": options.timeout,
        "verify": verify,
        "auth": auth,
        "headers": {name: value.get_secret_value() for name, value in options.headers.items()},
        # A device behind a proxy is rare in a computer room; the environment's
        # proxy settings are meant for the internet, not the local network.
        "trust_env": False,
        "follow_redirects": True,
    }
