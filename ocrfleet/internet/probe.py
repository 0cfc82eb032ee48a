"""The daemon's own check of the internet, for the sites its host sits in (`[internet.probe]`).

The check is the PC agent's (`ocrfleet_agent.internet.check_internet`, see
docs/internet.md), so a site checked from a PC and from the daemon's host
gets the same steps and verdicts: resolve a name, then fetch an HTTPS page
within one deadline, trusting the system's certificate authorities and
`ca_file`. What is the daemon's is here: the TLS context made once per
configuration, the check's outcome as an `InternetCheck`, and the runner.

The check runs in a thread of its own, never on the event loop: a name
look-up cannot be interrupted. One check at a time: while the last one
still runs (a look-up hanging past the timeout), the next is not started and
the site gets a timeout failure instead, so a hanging resolver cannot pile
up threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from ocrfleet.clock import Clock
from ocrfleet.config.internet import InternetProbeConfig
from ocrfleet.connectivity import CheckSource, InternetCheck
from ocrfleet_agent.internet import (
    Connect,
    InternetSettings,
    Lookup,
    check_internet,
    system_lookup,
    tls_context,
)

log = logging.getLogger(__name__)

# IT reads the detail on a dashboard; an exception's text can be long.
MAX_DETAIL = 200


def _words(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _settings(config: InternetProbeConfig) -> InternetSettings:
    # The configuration validated the URL and the name (the agent's rules).
    host = urlsplit(config.url).hostname or ""
    return InternetSettings(
        url=config.url,
        resolve=config.resolve or host,
        interval=config.interval,
        timeout=config.timeout,
        ca_file=config.ca_file,
    )


def check_once(
    config: InternetProbeConfig,
    now: Callable[[], float],
    context: ssl.SSLContext | None = None,
    *,
    lookup: Lookup = system_lookup,
    connect: Connect = socket.create_connection,
) -> InternetCheck:
    """The agent's check of `config`, as the daemon's `InternetCheck`.

    Blocking: run it in a thread. `context` is made beforehand (tls_context)
    so that loading the certificate authorities is not counted as latency.
    `lookup` and `connect` are the system's unless a test plays the network.
    """
    if context is None:
        context = tls_context(config.ca_file)
    report = check_internet(_settings(config), context, lookup=lookup, connect=connect)
    # Taken when the check ends, as the runner's own failures are: the
    # configuration's limits against staleness count on it (interval + timeout).
    checked_at = now()
    if report.ok and report.latency_ms is not None:
        return InternetCheck(
            ok=True,
            checked_at=checked_at,
            latency=report.latency_ms / 1000,
            source=CheckSource.PROBE,
        )
    return InternetCheck(
        ok=False, checked_at=checked_at, error=report.error or "other", detail=report.detail or ""
    )


class HttpsCheck:
    """check_once, with the TLS context made once per configuration, not once per check.

    A reload gives a new configuration, so a renewed `ca_file` is read again.
    """

    def __init__(
        self, *, lookup: Lookup = system_lookup, connect: Connect = socket.create_connection
    ) -> None:
        self._lookup = lookup
        self._connect = connect
        # Replaced whole; the probe runs one check at a time anyway.
        self._context: tuple[InternetProbeConfig, ssl.SSLContext] | None = None
        self.contexts_made = 0

    def __call__(self, config: InternetProbeConfig, now: Callable[[], float]) -> InternetCheck:
        kept = self._context
        if kept is None or kept[0] is not config:
            try:
                kept = (config, tls_context(config.ca_file))
            except (OSError, ssl.SSLError) as exc:
                # Checked when loaded; the file changed since.
                return InternetCheck(
                    ok=False,
                    checked_at=now(),
                    error="other",
                    detail=f"ca_file {config.ca_file}: {_words(exc)}"[:MAX_DETAIL],
                )
            self._context = kept
            self.contexts_made += 1
        return check_once(config, now, kept[1], lookup=self._lookup, connect=self._connect)


Check = Callable[[InternetProbeConfig, Callable[[], float]], InternetCheck]


class InternetProbe:
    """Runs `check_once` off the event loop, one at a time, and keeps the last outcome."""

    def __init__(
        self,
        config: Callable[[], InternetProbeConfig | None],
        clock: Clock,
        check: Check | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._check = check if check is not None else HttpsCheck()
        self._running: concurrent.futures.Future[InternetCheck] | None = None
        self.last: InternetCheck | None = None
        # Checks started in a thread, and checks not started because one still ran.
        self.started = 0
        self.skipped = 0

    def checks(self) -> Mapping[str, InternetCheck]:
        """The last check for each site the daemon's host sits in; empty before the first."""
        config = self._config()
        last = self.last
        if config is None or last is None:
            return {}
        return {site: last for site in config.sites}

    @property
    def in_flight(self) -> bool:
        return self._running is not None and not self._running.done()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no check runs (for a shutdown or a test); False after `timeout` s."""
        running = self._running
        if running is None:
            return True
        try:
            running.result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        return True

    async def run(self) -> InternetCheck | None:
        """One check, awaited for at most the configured timeout; None when not configured."""
        config = self._config()
        if config is None:
            return None
        if self.in_flight:
            self.skipped += 1
            self.last = InternetCheck(
                ok=False,
                checked_at=self._clock.now(),
                error="timeout",
                detail="the previous check is still running",
            )
            return self.last
        future: concurrent.futures.Future[InternetCheck] = concurrent.futures.Future()
        self._running = future
        self.started += 1
        # A daemon thread: a look-up that hangs must not hold up the daemon's exit.
        threading.Thread(
            target=self._in_thread, args=(config, future), name="internet-probe", daemon=True
        ).start()
        try:
            result = await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(future)), timeout=config.timeout
            )
        except TimeoutError:
            result = InternetCheck(
                ok=False,
                checked_at=self._clock.now(),
                error="timeout",
                detail=f"no answer within {config.timeout:g} s",
            )
        if not result.ok:
            log.info(
                "internet check of %s failed (%s): %s", config.url, result.error, result.detail
            )
        self.last = result
        return result

    def _in_thread(
        self, config: InternetProbeConfig, future: concurrent.futures.Future[InternetCheck]
    ) -> None:
        try:
            future.set_result(self._check(config, self._clock.now))
        except Exception as exc:  # any surprise is this check's failure, not the daemon's
            log.exception("internet check of %s crashed", config.url)
            future.set_result(
                InternetCheck(
                    ok=False, checked_at=self._clock.now(), error="other", detail=_words(exc)
                )
            )
