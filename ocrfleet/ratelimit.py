"""Logging that cannot flood: a noisy source is told once per interval, with a count."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class RateLimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._monotonic = monotonic
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, key: str, message: str, *args: object, exc_info: bool = False) -> None:
        self._emit(logging.WARNING, key, message, args, exc_info)

    def error(self, key: str, message: str, *args: object, exc_info: bool = False) -> None:
        self._emit(logging.ERROR, key, message, args, exc_info)

    def _emit(
        self, level: int, key: str, message: str, args: tuple[object, ...], exc_info: bool
    ) -> None:
        now = self._monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            self._last[key] = now
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            message += " (%d similar messages suppressed)"
            args = (*args, suppressed)
        self._logger.log(level, message, *args, exc_info=exc_info)
