"""/metrics over the web server: rendered off the event loop, shared by scrapes at once.

A render holds the GIL for tens of milliseconds (bench/scrape.py). Scrapes
that arrive while one is being rendered for the same format wait for it and
get its body: a burst of 200 scrapes costs a few renders, not 200, and the
answer is no older than the moment the first of them arrived.

gzip is done here, once per render and at a low level, because Prometheus
always asks for it and level 9 (what generic middleware uses) costs several
times as much CPU on a body of megabytes for a few percent less.
"""

from __future__ import annotations

import asyncio
import gzip
from functools import cached_property

from prometheus_client.exposition import choose_encoder
from starlette.concurrency import run_in_threadpool

from ocrfleet.metrics.exposition import MetricsSource

GZIP_LEVEL = 1


class Rendered:
    def __init__(self, body: bytes, content_type: str) -> None:
        self.body = body
        self.content_type = content_type

    @cached_property
    def gzipped(self) -> bytes:
        # Two waiters may both compress once; the same bytes either way.
        return gzip.compress(self.body, GZIP_LEVEL, mtime=0)


class SharedScrapes:
    """Renders of `source`, one at a time per format, shared by whoever waits."""

    def __init__(self, source: MetricsSource) -> None:
        self._source = source
        # Only touched from the web server's event loop.
        self._in_flight: dict[str, asyncio.Future[Rendered]] = {}

    async def render(self, accept: str, gzipped: bool) -> tuple[bytes, str]:
        # Keyed by the format the header negotiates, not its text: varied
        # headers asking for the same format must not each cost a render.
        key = choose_encoder(accept)[1]
        future = self._in_flight.get(key)
        if future is None:
            future = asyncio.ensure_future(self._render(accept, gzipped))
            self._in_flight[key] = future
            future.add_done_callback(lambda _: self._in_flight.pop(key, None))
        # shield: one scrape giving up must not cancel the others' render.
        rendered = await asyncio.shield(future)
        if gzipped:
            body: bytes = await run_in_threadpool(lambda: rendered.gzipped)
            return body, rendered.content_type
        return rendered.body, rendered.content_type

    async def _render(self, accept: str, gzipped: bool) -> Rendered:
        def work() -> Rendered:
            rendered = Rendered(*self._source.render(accept))
            if gzipped:
                _ = rendered.gzipped
            return rendered

        return await run_in_threadpool(work)
