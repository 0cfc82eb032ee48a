"""Processes of a benchmark: a spawned contender behind a pipe, and stopping programs.

Stopping a program and reading its log's end are devpeers.process's (the
peers stop the same way); `stop_program` and `tail` are the harness's names
for them.

A contender is a function run in its own `multiprocessing` (spawn) process,
so it shares no GIL with the runner: it sends `Ready(pid)` first, then
answers each command the runner sends with one reply.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import SpawnContext
from typing import Any, TypeVar

import psutil

from devpeers.process import log_tail as tail
from devpeers.process import stop_process as stop_program

T = TypeVar("T")

REPLY_SECONDS = 600.0


@dataclass(frozen=True)
class Ready:
    """A contender's first message: it is set up, and this is its pid."""

    pid: int


def quiet_interrupt() -> None:
    """For a contender: Ctrl-C reaches the whole process group; the runner cleans up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Contender:
    """A contender process and the runner's end of its pipe.

    `target(conn, *args)` runs in the child; this waits for its Ready (up to
    `start_seconds`) and stops the child if it does not come.
    """

    def __init__(
        self,
        name: str,
        ctx: SpawnContext,
        target: Callable[..., None],
        args: tuple[Any, ...],
        start_seconds: float = 60.0,
        reply_seconds: float = REPLY_SECONDS,
    ) -> None:
        self.name = name
        self.reply_seconds = reply_seconds
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child, *args), name=name, daemon=True)
        self.process.start()
        child.close()
        try:
            ready = self.request(None, timeout=start_seconds)
            if not isinstance(ready, Ready):
                raise RuntimeError(f"{name}: unexpected greeting {ready!r}")
        except BaseException:
            self.close()  # the caller never gets an object to close
            raise
        self.ps = psutil.Process(ready.pid)

    def request(self, command: object, timeout: float | None = None) -> object:
        """Send `command` (None: send nothing) and wait for the next reply."""
        timeout = self.reply_seconds if timeout is None else timeout
        if command is not None:
            self.conn.send(command)
        if not self.conn.poll(timeout):
            raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s")
        try:
            reply: object = self.conn.recv()
        except EOFError:
            self.process.join(5)
            raise RuntimeError(
                f"{self.name} process died (exit code {self.process.exitcode})"
            ) from None
        return reply

    def ask(self, command: object, reply_type: type[T], timeout: float | None = None) -> T:
        reply = self.request(command, timeout)
        if not isinstance(reply, reply_type):
            raise RuntimeError(f"{self.name}: unexpected reply {reply!r}")
        return reply

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def close(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


__all__ = ["REPLY_SECONDS", "Contender", "Ready", "quiet_interrupt", "stop_program", "tail"]
