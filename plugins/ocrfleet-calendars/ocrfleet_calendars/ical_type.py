"""Closures from an iCal feed: a file on disk, or a URL fetched daily whose last good
copy is kept beside the store."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import urllib.parse
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ocrfleet.plugin import Calendar, CalendarContext, CalendarError, CalendarType, ClosedPeriod
from ocrfleet_calendars.ical_parse import TimedEvents, parse_feed

log = logging.getLogger(__name__)

# A closures feed is a few kilobytes; a bigger answer is not one.
MAX_FEED_BYTES = 5 * 1024 * 1024


class IcalOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # One of the two: an http(s) URL fetched daily, or a file read at every
    # (re)load and daily.
    url: str | None = None
    path: Path | None = None
    # Seconds for the whole fetch of `url`.
    timeout: float = Field(default=10.0, gt=0, le=120)
    # Events with times of day: "whole_day" closes each day they touch (the
    # site may not be reported down that day at all); "ignore" leaves them out.
    timed_events: TimedEvents = "whole_day"

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _one_place(self) -> IcalOptions:
        if (self.url is None) == (self.path is None):
            raise ValueError("give either url or path")
        return self


class IcalFile(Calendar):
    def __init__(self, path: Path, zone: str, timed_events: TimedEvents) -> None:
        self.path = path
        self.zone = zone
        self.timed_events = timed_events

    def read(self, today: date) -> Sequence[ClosedPeriod]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise CalendarError(
                "unreadable", f"{self.path}: cannot read: {exc.strerror}", key="path"
            ) from exc
        try:
            return parse_feed(data, today, self.zone, self.timed_events)
        except CalendarError as exc:
            raise CalendarError(exc.reason, f"{self.path}: {exc.message}", key="path") from exc

    async def fetch(self, today: date) -> Sequence[ClosedPeriod]:
        return await asyncio.to_thread(self.read, today)


class IcalUrl(Calendar):
    def __init__(self, options: IcalOptions, context: CalendarContext) -> None:
        assert options.url is not None
        self.url = options.url
        self.timeout = options.timeout
        self.timed_events = options.timed_events
        self.zone = context.timezone
        self.copy = context.state_dir / f"{context.name}.ics"
        # Which URL the copy came from: after the option changes, the old
        # feed's copy must not stand in for the new one.
        self.source = context.state_dir / f"{context.name}.ics.url"

    def read(self, today: date) -> Sequence[ClosedPeriod] | None:
        """The last good copy, if there is one: a daemon starting while the feed is down
        still knows its closures."""
        try:
            if self.source.read_text(encoding="utf-8") != self.url:
                log.info("calendar copy %s is of another URL; not used", self.copy)
                return None
            data = self.copy.read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeError) as exc:
            log.warning("calendar copy %s cannot be read: %s", self.copy, exc)
            return None
        try:
            return parse_feed(data, today, self.zone, self.timed_events)
        except CalendarError as exc:
            log.warning("calendar copy %s is not usable: %s", self.copy, exc.message)
            return None

    async def fetch(self, today: date) -> Sequence[ClosedPeriod]:
        data = await self._download()
        periods = await asyncio.to_thread(parse_feed, data, today, self.zone, self.timed_events)
        await asyncio.to_thread(self._keep, data)
        return periods

    async def _download(self) -> bytes:
        import httpx

        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as client,
                client.stream("GET", self.url) as response,
            ):
                if response.status_code != 200:
                    raise CalendarError("http_status", f"{self.url}: HTTP {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_FEED_BYTES:
                        raise CalendarError(
                            "too_large", f"{self.url}: more than {MAX_FEED_BYTES} bytes"
                        )
                    chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise CalendarError("timeout", f"{self.url}: no answer in {self.timeout} s") from exc
        except httpx.HTTPError as exc:
            raise CalendarError("unreachable", f"{self.url}: {exc}") from exc
        return b"".join(chunks)

    def _keep(self, data: bytes) -> None:
        """Write the copy whole or not at all: a crash mid-write must not spoil the last one.

        The copy goes first and its URL second: a crash between, after the
        URL option changed, leaves the old URL beside the new copy, which
        read() then leaves unused rather than take for the wrong feed.
        """
        try:
            self.copy.parent.mkdir(parents=True, exist_ok=True)
            _replace(self.copy, data)
            _replace(self.source, self.url.encode())
        except OSError as exc:
            log.warning("calendar copy %s not kept: %s", self.copy, exc.strerror or exc)


def _replace(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class IcalType(CalendarType):
    name = "ical"
    description = "closures from an iCal feed (.ics), a URL fetched daily or a file"
    options_model = IcalOptions

    def open(self, options: BaseModel, context: CalendarContext) -> Calendar:
        assert isinstance(options, IcalOptions)
        if options.path is not None:
            return IcalFile(options.path, context.timezone, options.timed_events)
        return IcalUrl(options, context)
