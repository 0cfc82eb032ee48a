"""/metrics renders shared by scrapes that come at once, and gzip done once per render."""

from __future__ import annotations

import asyncio
import gzip
import threading

from prometheus_client.exposition import choose_encoder

from ocrfleet.web.scrape import SharedScrapes

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.5,"
    "text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
)


class CountingSource:
    """A source whose render waits until told, so that scrapes pile up behind it."""

    def __init__(self) -> None:
        self.renders = 0
        self.release = threading.Event()

    def render(self, accept: str) -> tuple[bytes, str]:
        self.renders += 1
        self.release.wait(10)
        return f"render {self.renders}\n".encode() * 100, choose_encoder(accept)[1]


def test_scrapes_at_once_share_one_render_per_format() -> None:
    source = CountingSource()
    scrapes = SharedScrapes(source)

    async def burst() -> list[tuple[bytes, str]]:
        # Different header texts, one format: one render between them.
        accepts = [
            PROMETHEUS_ACCEPT,
            PROMETHEUS_ACCEPT + ",application/x-other;q=0.01",
            "application/openmetrics-text;version=1.0.0;escaping=underscores",
        ]
        assert len({choose_encoder(accept)[1] for accept in accepts}) == 1
        tasks = [
            asyncio.ensure_future(scrapes.render(accepts[n % 3], gzipped=n % 2 == 0))
            for n in range(30)
        ]
        while source.renders == 0:
            await asyncio.sleep(0.01)
        source.release.set()
        return await asyncio.gather(*tasks)

    answers = asyncio.run(burst())
    assert source.renders == 1
    plain = {body for n, (body, _) in enumerate(answers) if n % 2 == 1}
    zipped = {gzip.decompress(body) for n, (body, _) in enumerate(answers) if n % 2 == 0}
    assert plain == zipped == {b"render 1\n" * 100}


def test_a_later_scrape_gets_a_new_render() -> None:
    source = CountingSource()
    source.release.set()
    scrapes = SharedScrapes(source)

    async def twice() -> tuple[bytes, bytes]:
        first = await scrapes.render(PROMETHEUS_ACCEPT, gzipped=False)
        second = await scrapes.render(PROMETHEUS_ACCEPT, gzipped=False)
        return first[0], second[0]

    first, second = asyncio.run(twice())
    assert first != second
    assert source.renders == 2


def test_a_failed_render_reaches_every_waiter_and_is_not_kept() -> None:
    class Broken:
        calls = 0

        def render(self, accept: str) -> tuple[bytes, str]:
            Broken.calls += 1
            raise RuntimeError("collector failed")

    scrapes = SharedScrapes(Broken())

    async def burst() -> list[object]:
        tasks = [scrapes.render(PROMETHEUS_ACCEPT, gzipped=False) for _ in range(5)]
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = asyncio.run(burst())
    assert all(isinstance(r, RuntimeError) for r in results)
    asyncio.run(burst())
    assert Broken.calls == 2
