"""A real agent process for the fault tests: the agent's own runner, journal and
connection, with a scripted session source that plays visitors quickly.

Every event is also appended to a ledger file once its journal write is done,
so the test knows what the agent committed to deliver even after `kill -9`. An
event journaled but not yet in the ledger was never sent (sending comes
after), so at start-up whatever the journal holds is added to the ledger too.

Run: python -m tests.support.agent_process --port P --device D --dir DIR --sessions N

With --internet-url (and --internet-ca-file) it also runs the agent's own
internet check, every --internet-interval seconds (below the command line's
30 s minimum, so a test sees a change soon), and reports it with its health
every --health-interval seconds.

With --hold-session one visitor sits down at once and stays until the process
gets SIGUSR1, then leaves (the end is sent; the agent keeps running).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path

from ocrfleet_agent.internet import InternetChecker, InternetSettings
from ocrfleet_agent.journal import Journal
from ocrfleet_agent.mqtt import AgentConnection, AgentIdentity, BrokerSettings
from ocrfleet_agent.payloads import Health, SessionMessage
from ocrfleet_agent.runner import AgentRunner
from ocrfleet_agent.sessions import Usage


class LedgeredJournal(Journal):
    def __init__(self, path: Path, ledger: Path) -> None:
        super().__init__(path)
        self._ledger = ledger
        known = set(read_ledger(ledger))
        held = [*self.pending(), *([self.open_session] if self.open_session else [])]
        for message in held:
            if (message.session_id, message.event) not in known:
                self._append(message)

    def record(
        self, event: str, session_id: str, started_at: float, ended_at: float | None = None
    ) -> SessionMessage:
        message = super().record(event, session_id, started_at, ended_at)
        self._append(message)
        return message

    def _append(self, message: SessionMessage) -> None:
        with open(self._ledger, "a", encoding="utf-8") as out:
            out.write(message.to_json().decode() + "\n")
            out.flush()
            os.fsync(out.fileno())


def read_ledger(path: Path) -> dict[tuple[str, str], SessionMessage]:
    if not path.exists():
        return {}
    messages = [SessionMessage.parse(line) for line in path.read_text().splitlines() if line]
    return {(m.session_id, m.event): m for m in messages}


class VisitorScript:
    """In use and idle in turn, `period` seconds each, until `sessions` have ended."""

    name = "scripted"

    def __init__(self, journal: Journal, sessions: int, period: float) -> None:
        self._journal = journal
        self._left = sessions
        self._period = period
        self._switch_at = 0.0

    def read(self, now: float) -> Usage:
        in_use = self._journal.open_session is not None
        if now >= self._switch_at:
            self._switch_at = now + self._period
            if in_use or self._left > 0:
                if not in_use:
                    self._left -= 1
                return Usage(not in_use)
        return Usage(in_use)


class HeldSession:
    """One visitor in use from the start until `leave` is called."""

    name = "held"

    def __init__(self) -> None:
        self._left = threading.Event()

    def leave(self) -> None:
        self._left.set()

    def read(self, now: float) -> Usage:
        return Usage(not self._left.is_set())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--period", type=float, default=0.05)
    parser.add_argument("--health-interval", type=float, default=60.0)
    parser.add_argument("--internet-url")
    parser.add_argument("--internet-ca-file", type=Path)
    parser.add_argument("--internet-interval", type=float, default=0.5)
    parser.add_argument("--internet-timeout", type=float, default=5.0)
    parser.add_argument("--hold-session", action="store_true")
    args = parser.parse_args()
    checker = None
    if args.internet_url is not None:
        internet = InternetSettings(
            url=args.internet_url,
            resolve=InternetSettings(args.internet_url, "").host,
            interval=args.internet_interval,
            timeout=args.internet_timeout,
            ca_file=args.internet_ca_file,
        )
        checker = InternetChecker(internet)
        checker.start()
    ledger = args.dir / "ledger.jsonl"
    journal = LedgeredJournal(args.dir / "journal.json", ledger)
    # Counted by starts: a session open at a kill is ended after the restart.
    done = sum(1 for (_, event) in read_ledger(ledger) if event == "start")
    settings = BrokerSettings(
        host="127.0.0.1", port=args.port, client_id=f"agent-{args.device}", queue_size=100_000
    )
    connection = AgentConnection(settings, AgentIdentity("ocrfleet", "lib", args.device))
    held = HeldSession() if args.hold_session else None
    runner = AgentRunner(
        connection,
        journal,
        held or VisitorScript(journal, args.sessions - done, args.period),
        lambda: Health(
            ts=time.time(),
            cpu_ratio=0.1,
            memory_used_ratio=0.2,
            disk_free_bytes=1,
            uptime_seconds=1.0,
            os="test",
            agent_version="test",
            internet=checker.latest() if checker is not None else None,
        ),
        interval=args.health_interval,
        session_check_interval=args.period / 2,
        resend_interval=2.0,
    )
    stop = threading.Event()

    def request_stop(*_: object) -> None:
        stop.set()
        runner.wake()

    signal.signal(signal.SIGTERM, request_stop)
    if held is not None:

        def visitor_leaves(*_: object) -> None:
            held.leave()
            runner.wake()

        signal.signal(signal.SIGUSR1, visitor_leaves)
    runner.run(stop)


if __name__ == "__main__":
    main()
