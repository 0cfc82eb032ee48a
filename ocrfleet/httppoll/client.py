"""What a kind polled over HTTP gets in `poll()`: GET requests that fail as PollErrors.

httpx is imported by the first request, not with this module: the plugin
API names HttpClient, and a daemon without an HTTP-polled device should not
pay for loading httpx.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from ocrfleet.sources import PollError

if TYPE_CHECKING:
    import httpx

# Enough for any status document or metrics page; more is a misconfigured URL.
MAX_BODY_BYTES = 8 * 1024 * 1024


class HttpError(PollError):
    """A request that got no usable answer. `reason` is a fixed word for metrics."""

    REASONS = ("timeout", "refused", "unreachable", "auth", "protocol", "error")


class HttpClient:
    """GETs against one device's base URL; paths are relative to it."""

    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.base_url = base_url
        self._client = client

    async def get_text(self, path: str = "", params: Mapping[str, str] | None = None) -> str:
        return (await self._get(path, params)).decode("utf-8", errors="replace")

    async def get_json(self, path: str = "", params: Mapping[str, str] | None = None) -> Any:
        body = await self._get(path, params)
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HttpError("protocol", f"{self._url(path)}: not JSON: {exc}") from None

    async def get_metrics(
        self, path: str = "", params: Mapping[str, str] | None = None
    ) -> dict[str, list[Sample]]:
        """A Prometheus text exposition, as samples by metric family name."""
        text = await self.get_text(path, params)
        try:
            return {family.name: family.samples for family in text_string_to_metric_families(text)}
        except ValueError as exc:
            raise HttpError("protocol", f"{self._url(path)}: not Prometheus text: {exc}") from None

    async def close(self) -> None:
        await self._client.aclose()

    def _url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}" if path else self.base_url

    async def _get(self, path: str, params: Mapping[str, str] | None) -> bytes:
        import httpx  # here, not at the top: see the module's docstring

        url = self._url(path)
        try:
            async with self._client.stream("GET", url, params=params) as response:
                if response.status_code in (401, 403):
                    raise HttpError("auth", f"{url}: HTTP {response.status_code}")
                if response.status_code != 200:
                    raise HttpError("protocol", f"{url}: HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise HttpError("protocol", f"{url}: answer larger than {MAX_BODY_BYTES}")
                return bytes(body)
        except httpx.TimeoutException:
            raise HttpError("timeout", f"{url}: no answer in time") from None
        except httpx.ConnectError as exc:
            reason = "refused" if _refused(exc) else "unreachable"
            raise HttpError(reason, f"{url}: {exc}") from None
        except httpx.HTTPError as exc:
            raise HttpError("error", f"{url}: {exc}") from None


def _refused(exc: BaseException) -> bool:
    """Whether a failed connection was refused.

    httpx words every failed connection alike ("All connection attempts
    failed"); the operating system's error is further down the chain.
    """
    seen: set[int] = set()
    pending = [exc]
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError):
            return True
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
        pending.extend(e for e in (error.__cause__, error.__context__) if e is not None)
    return False
