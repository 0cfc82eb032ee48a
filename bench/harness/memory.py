"""The peak RSS of a process, sampled by a runner thread (catches peaks mid-phase)."""

from __future__ import annotations

import threading

import psutil


class RssSampler:
    """`with RssSampler(process) as peak:` ... `peak.take_peak()` per phase."""

    def __init__(self, process: psutil.Process, interval: float = 0.05) -> None:
        self._process = process
        self._interval = interval
        self._peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                rss = int(self._process.memory_info().rss)
            except psutil.Error:
                return
            with self._lock:
                self._peak = max(self._peak, rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def take_peak(self) -> int:
        """The peak since the last call."""
        with self._lock:
            peak, self._peak = self._peak, 0
        return peak
