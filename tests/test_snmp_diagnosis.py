"""A printer whose agent answers truncated or garbage datagrams, or nothing, in a live daemon.

The agent (tests/support/bad_agent.py) relays to snmpsim and spoils its
answers on cue. The daemon must name each failure's reason in its poll
metrics, count the datagrams it dropped, and log a lasting failure when it
starts, at a steady interval while it lasts, and when it ends; its clock is
a ManualClock, so the interval passes without waiting for it.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ocrfleet.clock import ManualClock
from ocrfleet.devices import DeviceKey
from ocrfleet.poller import FAILURE_LOG_INTERVAL
from ocrfleet.snmp.diagnosis_metrics import DropReason
from tests.support.bad_agent import BadAgent, Spoil
from tests.support.daemon import RunningApp, site_config, snmp_device, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.snmpsim import SnmpSimulator

PRINTERS = Path(__file__).resolve().parent / "fixtures" / "snmp" / "printers"
KEY = DeviceKey("lib", "mfp")


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[BadAgent]:
    data = tmp_path / "snmp-data"
    data.mkdir()
    shutil.copy(PRINTERS / "colour_mfp.snmprec", data)
    with SnmpSimulator(data, tmp_path / "snmpsim") as simulator, BadAgent(simulator.port) as bad:
        yield bad


def test_each_failure_has_its_reason_its_count_and_a_steady_log(
    agent: BadAgent, broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ocrfleet.poller")
    device = snmp_device("mfp", "printer", agent.port, "colour_mfp")
    # Two tries of 2 s: each try gets its spoiled answer long before it runs
    # out, even on a busy machine. An hour between scheduled polls: only the
    # first one comes by itself, the rest are the test's.
    device["options"].update({"timeout": 2.0, "retries": 1, "poll_interval": 3600})
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=[device])
    clock = ManualClock()
    agent.spoil = Spoil.TRUNCATE
    with RunningApp(config, clock=clock) as daemon:
        app = daemon.app

        def polls() -> int:
            return sum(app.poller.stats.polls.values())

        def poll() -> None:
            daemon.call(lambda: app.poller.poll(KEY))

        def lines() -> list[str]:
            return [r.getMessage() for r in caplog.records if f"poll of {KEY}" in r.getMessage()]

        wait_for(lambda: polls() == 1, timeout=30, what="the first scheduled poll")
        started = _moment(clock.now())
        [first] = lines()
        assert first.startswith(
            f"snmp poll of {KEY} failed (truncated): no valid answer in 2 tries of 2 s;"
            f" 2 truncated answers from 127.0.0.1:{agent.port} (BER length"
        )
        assert "runs past the end of the 40-byte datagram" in first

        # Within the interval: counted, not logged.
        clock.advance(FAILURE_LOG_INTERVAL / 2)
        poll()
        assert len(lines()) == 1
        # The interval is up: one line with the count so far.
        clock.advance(FAILURE_LOG_INTERVAL / 2)
        poll()
        assert len(lines()) == 2
        assert lines()[1].startswith(
            f"snmp poll of {KEY} still failing (truncated): 3 polls since {started};"
            " last: no valid answer"
        )
        clock.advance(60)
        poll()
        assert len(lines()) == 2

        # Another reason is another failure: logged at once.
        agent.spoil = Spoil.GARBAGE
        clock.advance(60)
        poll()
        assert lines()[2] == (
            f"snmp poll of {KEY} failed (malformed): no valid answer in 2 tries of 2 s;"
            f" 2 malformed answers from 127.0.0.1:{agent.port} (not an SNMP message:"
            " byte 0 is 0x48, not a SEQUENCE)"
        )
        view = app.state.view(KEY)
        assert view is not None and view.failure is not None
        assert view.failure.reason == "malformed"

        agent.spoil = Spoil.SILENCE
        clock.advance(60)
        silent_since = _moment(clock.now())
        poll()
        assert lines()[3] == f"snmp poll of {KEY} failed (timeout): no response in 2 tries of 2 s"

        agent.spoil = Spoil.NOTHING
        clock.advance(60)
        poll()
        assert lines()[4] == (
            f"snmp poll of {KEY} answers again, after 1 failed poll (timeout) since {silent_since}"
        )
        assert len(lines()) == 5

        def errors(reason: str) -> float | None:
            return value(
                daemon.scrape(),
                "ocrfleet_poll_errors_total",
                source="snmp",
                kind="printer",
                reason=reason,
            )

        assert (errors("truncated"), errors("malformed"), errors("timeout")) == (4.0, 1.0, 1.0)
        # Every spoiled datagram the agent sent was counted once, by its reason.
        sent = agent.sent
        assert sent[Spoil.TRUNCATE] == 8 and sent[Spoil.GARBAGE] == 2

        def dropped() -> dict[str, float | None]:
            samples = daemon.scrape()
            return {
                reason: value(samples, "ocrfleet_snmp_answers_dropped_total", reason=reason)
                for reason in ("truncated", "malformed", "late", "unknown_request")
            }

        expected = {"truncated": 8.0, "malformed": 2.0, "late": 0.0, "unknown_request": 0.0}
        wait_for(lambda: dropped() == expected, what=f"dropped answers {expected}")


def _moment(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def test_the_snmp_doc_explains_every_drop_reason() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "snmp.md").read_text()
    start = text.index("\n## Dropped answers\n")
    section = text[start : text.index("\n## ", start + 1)]
    assert set(re.findall(r"^\| `([^`]+)`", section, re.MULTILINE)) == set(DropReason)
