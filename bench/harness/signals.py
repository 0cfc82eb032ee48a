"""SIGTERM and Ctrl-C end a benchmark through its cleanup (finally blocks, context managers)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from typing import NoReturn


def _terminate(signum: int, frame: object) -> NoReturn:
    # SystemExit unwinds through the finally blocks that stop brokers, agents and daemons.
    raise SystemExit(128 + signum)


def exit_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, _terminate)


def run_script(main: Callable[[], int]) -> NoReturn:
    """Exit with main()'s code; Ctrl-C prints "interrupted" and exits 130, after the cleanup."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
