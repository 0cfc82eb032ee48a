"""How busy the machine is around a measurement, since it may be shared.

* other load: cores kept busy by processes other than the benchmark's own
  (from /proc/stat, less our processes' CPU time);
* the probe: a fixed bit of pure Python, timed. It rises when the VM's host
  is busy, which no load figure inside the VM shows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import psutil

# Other load (cores) above which a phase counts as disturbed.
QUIET_LOAD = 0.15


def cpu_seconds(processes: Sequence[psutil.Process]) -> float:
    """User + system time of the processes (all their threads)."""
    total = 0.0
    for process in processes:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def busy_cpu() -> float:
    """CPU seconds the whole machine spent busy, including time stolen by the hypervisor."""
    times = psutil.cpu_times()
    # guest time is already inside user time on Linux, so it is not added.
    return sum(
        getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal")
    )


def speed_probe() -> float:
    """Milliseconds for a fixed bit of pure Python; it rises when a busy host slows this VM.

    The guest cannot see such a host as load, so this is the only sign of it.
    """
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        total = 0
        for i in range(20_000):
            total += i * i
        best = min(best, time.perf_counter() - t0)
    return best * 1000


class OtherLoad:
    """`with OtherLoad(ours) as load:` -> load.seconds (wall) and load.cores (others' load)."""

    def __init__(self, ours: Sequence[psutil.Process]) -> None:
        self._ours = list(ours)
        self.seconds = 0.0
        self.cores = 0.0

    def __enter__(self) -> OtherLoad:
        self._busy0, self._ours0 = busy_cpu(), cpu_seconds(self._ours)
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0
        others = (busy_cpu() - self._busy0) - (cpu_seconds(self._ours) - self._ours0)
        self.cores = max(0.0, others) / self.seconds if self.seconds > 0 else 0.0
