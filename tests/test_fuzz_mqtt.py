"""Garbage over MQTT: the daemon must reject it, count it, and stay bounded and alive.

End to end, hypothesis-generated topics and payloads go through a real
Mosquitto into one running daemon per test; unit level, `Ingest.handle` gets
even wilder input (any string as topic) and must never raise.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import load_config
from ocrfleet.metrics.daemon import REJECT_REASONS
from ocrfleet.metrics.fleet import FleetCollector
from ocrfleet.mqtt.ingest import Ingest
from ocrfleet.mqtt.routes import RouteTable
from ocrfleet.state import FleetState
from ocrfleet.store.connections import StoreConnections
from ocrfleet.store.writer import StoreWriter
from ocrfleet_agent.payloads import Health, InvalidPayload, SessionMessage
from tests.support.daemon import RunningApp, Samples, catalog, site_config, value, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.publisher import TestPublisher, health

ROOT = "ocrfleet"
SITE = "lib"
DEVICES = [{"id": "pc-01", "kind": "pc"}, {"id": "lap-01", "kind": "laptop"}]
DEVICE_KINDS = {d["id"]: d["kind"] for d in DEVICES}
CHANNELS = ("availability", "health", "session")
SUBSCRIPTIONS = [f"{ROOT}/+/+/{channel}" for channel in CHANNELS]
CONFIGURED_TOPICS = [f"{ROOT}/{SITE}/{d['id']}/{c}" for d in DEVICES for c in CHANNELS]
PC = {"site": SITE, "device": "pc-01", "kind": "pc"}
LAPTOP = {"site": SITE, "device": "lap-01", "kind": "laptop"}
# Labels whose values come from a valid payload (one series per device at a time).
PAYLOAD_LABELS = ("os", "agent_version")
STATE_FAMILIES = frozenset({"ocrfleet_device_state"})

FUZZ_SETTINGS = settings(
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- strategies -----------------------------------------------------------------

# Characters a broker accepts in a topic: no control characters, surrogates,
# unassigned code points / non-characters (Mosquitto disconnects for those),
# and no wildcards (paho refuses to publish them; they get their own strategy).
topic_char = st.characters(blacklist_categories=("Cs", "Cc", "Cn"), blacklist_characters="+#/")
level = st.text(topic_char, max_size=12)
level_ascii = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.$ ", max_size=10)

topics = st.one_of(
    st.sampled_from(CONFIGURED_TOPICS),
    # Shaped like a device topic, but for devices and sites nobody configured.
    st.builds(
        lambda a, b, c: f"{ROOT}/{a}/{b}/{c}",
        st.one_of(level, level_ascii, st.just(SITE)),
        st.one_of(level, level_ascii, st.sampled_from(sorted(DEVICE_KINDS))),
        st.sampled_from([*CHANNELS, "status", "health/", ""]),
    ),
    st.lists(st.one_of(level, level_ascii), min_size=1, max_size=8).map("/".join),
    st.builds(
        lambda n, c: f"{ROOT}/{'x' * n}/pc-01/{c}",
        st.integers(100, 20_000),
        st.sampled_from(CHANNELS),
    ),
    st.builds(lambda a, b: f"{ROOT}/{a}/{b}/health/extra", level, level),
    st.builds(lambda a: f"/{ROOT}/{SITE}/{a}/health", level),
).filter(bool)

wildcard_topics = st.builds(
    lambda a, w, b: f"{a}{w}{b}", level, st.sampled_from(["+", "#", "/+/", "/#"]), level
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and ±Infinity included: json.dumps writes them as NaN/Infinity
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)

SESSION_START = {"v": 1, "event": "start", "session_id": "fz", "started_at": 1000.0}
SESSION_END = {**SESSION_START, "event": "end", "ended_at": 1300.0}
BASES: list[dict[str, Any]] = [health(), SESSION_START, SESSION_END]
FIELDS = sorted({key for base in BASES for key in base} | {"extra", ""})


def dumps(data: object, ascii_only: bool = True) -> bytes:
    return json.dumps(data, ensure_ascii=ascii_only).encode("utf-8")


def _with_field(base: dict[str, Any], key: str, field_value: object) -> bytes:
    return dumps({**base, key: field_value})


def _without_field(base: dict[str, Any], key: str) -> bytes:
    return dumps({k: v for k, v in base.items() if k != key})


def _nested_lists(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _nested_objects(depth: int) -> bytes:
    return b'{"v":' * depth + b"1" + b"}" * depth


payloads = st.one_of(
    st.binary(max_size=200),
    st.builds(dumps, json_values, st.booleans()),
    # Near misses: a valid payload with one field of a wrong type or value.
    st.builds(_with_field, st.sampled_from(BASES), st.sampled_from(FIELDS), json_values),
    st.builds(
        _with_field,
        st.sampled_from(BASES),
        st.sampled_from(FIELDS),
        st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1.0, 2**64, "1", [], {}]),
    ),
    st.builds(_without_field, st.sampled_from(BASES), st.sampled_from(FIELDS)),
    # Huge strings, inside JSON and raw.
    st.builds(
        lambda n, key: _with_field(health(), key, "x" * n),
        st.integers(10_000, 200_000),
        st.sampled_from(["os", "agent_version", "extra", "session_id"]),
    ),
    st.integers(10_000, 200_000).map(lambda n: b"A" * n),
    # Nested junk.
    st.integers(1, 5_000).map(_nested_lists),
    st.integers(1, 5_000).map(_nested_objects),
    st.builds(lambda base, junk: dumps(base) + junk, st.sampled_from(BASES), st.binary(max_size=8)),
    st.sampled_from(
        [b"online", b"offline", b" online\n", b"ONLINE", b"", b"on line", b"\x00", b"null", b"{}"]
    ),
    st.sampled_from([dumps(base) for base in BASES]),
)


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int


qos = st.sampled_from([0, 1])
# Half the messages go to configured devices, where the payload decides.
messages = st.one_of(
    st.builds(Message, st.sampled_from(CONFIGURED_TOPICS), payloads, qos),
    st.builds(Message, topics, payloads, qos),
)


# -- what the daemon should make of a message ------------------------------------


@dataclass(frozen=True)
class Expected:
    delivered: bool
    accepted_channel: str | None = None
    topic_reason: str | None = None  # bad_topic / unknown_channel / unknown_device

    @property
    def rejected(self) -> bool:
        return self.delivered and self.accepted_channel is None


def expected_outcome(topic: str, payload: bytes) -> Expected:
    if not any(paho.topic_matches_sub(sub, topic) for sub in SUBSCRIPTIONS):
        return Expected(delivered=False)
    if topic not in CONFIGURED_TOPICS:
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != ROOT or not all(parts):
            return Expected(True, topic_reason="bad_topic")
        if parts[3] not in CHANNELS:
            return Expected(True, topic_reason="unknown_channel")
        return Expected(True, topic_reason="unknown_device")
    channel = topic.rsplit("/", 1)[1]
    if channel == "availability":
        ok = payload.strip() in (b"online", b"offline")
    else:
        parse = Health.parse if channel == "health" else SessionMessage.parse
        try:
            parse(payload)
        except InvalidPayload:
            ok = False
        else:
            ok = True
    return Expected(True, accepted_channel=channel if ok else None)


# -- reading the daemon's counters ---------------------------------------------------


def accepted(samples: Samples, channel: str) -> float:
    return value(samples, "ocrfleet_mqtt_messages_total", channel=channel) or 0.0


def rejected(samples: Samples, reason: str | None = None) -> float:
    reasons = [reason] if reason else list(REJECT_REASONS)
    return sum(
        value(samples, "ocrfleet_mqtt_messages_rejected_total", reason=r) or 0.0 for r in reasons
    )


SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def series(samples: Samples) -> set[SeriesKey]:
    """Every series, with labels that legitimately vary with a valid payload blanked."""
    keys = set()
    for name, labels in samples:
        # A device's state and its reason follow valid availability messages
        # (an "offline" among the garbage is valid): bounded words, not garbage.
        varying = (*PAYLOAD_LABELS, "state", "reason") if name in STATE_FAMILIES else PAYLOAD_LABELS
        normalized = tuple((k, "*" if k in varying else v) for k, v in labels)
        keys.add((name, normalized))
    return keys


# -- end to end ---------------------------------------------------------------------


@dataclass
class Fleet:
    daemon: RunningApp
    publisher: TestPublisher
    marker_count: int = 0

    def scrape(self) -> Samples:
        return self.daemon.scrape()

    def marker(self) -> None:
        """A valid QoS 1 session event, new each time: it is counted, and it comes last."""
        self.marker_count += 1
        end = {**SESSION_END, "session_id": f"marker-{self.marker_count}"}
        self.publisher.publish(f"{ROOT}/{SITE}/lap-01/session", end, qos=1)


@pytest.fixture
def fleet(broker: Mosquitto, tmp_path: Path) -> Iterator[Fleet]:
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=DEVICES, site=SITE)
    with RunningApp(config) as daemon:
        publisher = TestPublisher(broker.port, "fuzzer")
        try:
            yield Fleet(daemon, publisher)
        finally:
            publisher.close()


def warm_up(fleet: Fleet) -> Samples:
    """Make every series a configured device can have exist, and return a scrape."""
    for device in DEVICE_KINDS:
        fleet.publisher.publish(f"{ROOT}/{SITE}/{device}/availability", "online", qos=1)
        fleet.publisher.publish(f"{ROOT}/{SITE}/{device}/health", health(frozen=True), qos=1)
        fleet.publisher.publish(
            f"{ROOT}/{SITE}/{device}/session", {**SESSION_END, "session_id": "warm"}, qos=1
        )
    wait_for(
        lambda: (
            value(fleet.scrape(), "ocrfleet_sessions_total", **LAPTOP) == 1.0
            and value(fleet.scrape(), "ocrfleet_sessions_total", **PC) == 1.0
            and value(fleet.scrape(), "ocrfleet_pc_cpu_ratio", **LAPTOP) is not None
        ),
        what="warm-up messages",
    )
    return fleet.scrape()


def publish_batch(fleet: Fleet, batch: list[Message]) -> list[Expected]:
    outcomes = []
    for message in batch:
        fleet.publisher.publish(message.topic, message.payload, qos=message.qos)
        outcomes.append(expected_outcome(message.topic, message.payload))
    fleet.marker()
    outcomes.append(Expected(True, accepted_channel="session"))
    return outcomes


def test_garbage_over_mqtt_is_rejected_and_counted(fleet: Fleet) -> None:
    baseline = warm_up(fleet)
    baseline_series = series(baseline)
    totals = {"examples": 0, "messages": 0, "rejected": 0}

    # No shrinking end to end: every shrink step waits on the daemon, and a
    # failing batch is short enough to read as it is.
    @settings(FUZZ_SETTINGS, max_examples=60, phases=[Phase.generate])
    @given(batch=st.lists(messages, min_size=1, max_size=25))
    def publish_garbage(batch: list[Message]) -> None:
        before = fleet.scrape()
        outcomes = publish_batch(fleet, batch)
        want_rejected = sum(o.rejected for o in outcomes)
        want_accepted = {
            c: sum(o.accepted_channel == c for o in outcomes) + accepted(before, c)
            for c in CHANNELS
        }
        want_reasons = {
            r: sum(o.topic_reason == r for o in outcomes) + rejected(before, r)
            for r in ("bad_topic", "unknown_channel", "unknown_device")
        }

        def all_counted() -> bool:
            now = fleet.scrape()
            return (
                all(accepted(now, c) >= n for c, n in want_accepted.items())
                and rejected(now) >= rejected(before) + want_rejected
            )

        wait_for(all_counted, timeout=10, what="every message of the batch counted")
        after = fleet.scrape()
        assert rejected(after) - rejected(before) == want_rejected, batch
        for channel, n in want_accepted.items():
            assert accepted(after, channel) == n, (channel, batch)
        for reason, n in want_reasons.items():
            assert rejected(after, reason) == n, (reason, batch)
        totals["examples"] += 1
        totals["messages"] += len(batch)
        totals["rejected"] += want_rejected

    publish_garbage()
    assert totals["examples"] >= 10
    assert totals["rejected"] > 0, "the strategies produced nothing to reject"

    # Still alive, still connected, still bounded.
    assert fleet.daemon.error is None
    samples = fleet.scrape()
    assert value(samples, "ocrfleet_mqtt_connected") == 1.0
    assert series(samples) <= baseline_series, series(samples) - baseline_series
    for name, labels in samples:
        label_map = dict(labels)
        if "site" in label_map:
            assert label_map["site"] == SITE, labels
        if "device" in label_map:
            assert label_map["device"] in DEVICE_KINDS, labels
        # Other families have their own `reason` (device state) and
        # `channel` (notification channels) labels.
        mqtt = name.startswith("ocrfleet_mqtt_")
        if "reason" in label_map and mqtt:
            assert label_map["reason"] in REJECT_REASONS, labels
        if "channel" in label_map and mqtt:
            assert label_map["channel"] in CHANNELS, labels

    # A valid health message is still accepted and rendered.
    fleet.publisher.publish(f"{ROOT}/{SITE}/pc-01/health", health(cpu_ratio=0.77), qos=1)
    wait_for(
        lambda: value(fleet.scrape(), "ocrfleet_pc_cpu_ratio", **PC) == 0.77,
        what="a valid health message after the garbage",
    )


def test_wildcard_topics_cannot_be_published(fleet: Fleet) -> None:
    """paho refuses them locally; the daemon never sees such a topic (and counts nothing)."""
    before = fleet.scrape()

    @settings(FUZZ_SETTINGS, max_examples=50)
    @given(topic=wildcard_topics)
    def refuse(topic: str) -> None:
        with pytest.raises(ValueError):
            fleet.publisher.client.publish(topic, b"{}", qos=1)

    refuse()
    fleet.marker()
    wait_for(lambda: accepted(fleet.scrape(), "session") == accepted(before, "session") + 1)
    assert rejected(fleet.scrape()) == rejected(before)
    assert fleet.publisher.client.is_connected()


# -- unit level: Ingest.handle never raises -------------------------------------------


class IngestRig:
    def __init__(self, tmp_path: Path) -> None:
        kinds = catalog().kinds
        config = site_config(1883, tmp_path / "never-opened.sqlite", devices=DEVICES, site=SITE)
        loaded = load_config(config, kinds)
        self.keys = {d.key for d in loaded.devices}
        timeouts = {d.key: kinds[d.kind].heartbeat_timeout(d.options) for d in loaded.devices}
        self.state = FleetState(loaded.devices, timeouts)
        self.routes = RouteTable(ROOT, loaded.devices, kinds)
        # Never started: session events just wait in its (large) queue.
        self.writer = StoreWriter(
            StoreConnections(tmp_path / "never-opened.sqlite"), lambda *a: None, 1_000_000
        )
        self.clock = ManualClock()
        self.ingest = Ingest(self.state, self.routes, self.writer, self.clock, lambda kind: "pc")
        self.collector = FleetCollector(lambda: self.state, kinds, lambda kind: "pc", self.clock)
        self.acks = 0
        self.lock = threading.Lock()

    def ack(self) -> None:
        with self.lock:
            self.acks += 1

    def handled(self) -> int:
        stats = self.ingest.stats
        return sum(stats.accepted.values()) + sum(stats.rejected.values())


any_topic = st.one_of(
    topics,
    wildcard_topics,
    st.text(),  # anything at all, including control characters
    st.text(st.characters(blacklist_categories=())),  # even lone surrogates
    st.builds(lambda a: f"{ROOT}/{SITE}/pc-01/{a}", st.text(max_size=10)),
    st.just("\ufffd"),  # what the subscriber passes for an undecodable topic
)


def test_ingest_handle_never_raises(tmp_path: Path) -> None:
    rig = IngestRig(tmp_path)

    @settings(FUZZ_SETTINGS, max_examples=300)
    @given(topic=any_topic, payload=payloads, with_ack=st.booleans(), step=st.floats(0, 1e6))
    def handle(topic: str, payload: bytes, with_ack: bool, step: float) -> None:
        rig.clock.advance(step)
        before = rig.handled()
        route = rig.routes.routes.get(topic)
        taken = rig.ingest.handle(topic, payload, rig.ack if with_ack else None)
        assert isinstance(taken, bool)
        if taken:
            assert route is not None
            assert route.channel == "session"
        assert rig.acks == 0, "handle never acknowledges by itself"
        assert rig.handled() == before + 1, "each message is counted exactly once"
        stats = rig.ingest.stats
        assert set(stats.rejected) <= set(REJECT_REASONS)
        assert set(stats.accepted) <= set(CHANNELS)
        assert set(rig.state.devices) == rig.keys
        assert set(rig.state.last_seen()) <= rig.keys
        # Rendering whatever was accepted must not raise either.
        families = list(rig.collector.collect())
        for family in families:
            for sample in family.samples:
                assert sample.labels.get("site", SITE) == SITE
                assert sample.labels.get("device", "pc-01") in DEVICE_KINDS

    handle()


# -- regressions: non-finite and oversized numbers in payloads ----------------------


def _processed(fleet: Fleet, channel: str, before: Samples) -> bool:
    now = fleet.scrape()
    return accepted(now, channel) > accepted(before, channel) or rejected(now) > rejected(before)


def test_nan_end_time_does_not_reopen_session_after_restart(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """Regression (bug at commit dc8df92): an end event with `"ended_at": NaN` was accepted;
    SQLite stores NaN as NULL, so the session stayed open in the store and the PC showed
    as in use again after a daemon restart."""
    config = site_config(broker.port, tmp_path / "s.sqlite", devices=DEVICES, site=SITE)
    topic = f"{ROOT}/{SITE}/pc-01/session"
    t0 = float(int(time.time()) - 600)  # recent, so no stale-session sweep closes it
    with RunningApp(config) as daemon:
        publisher = TestPublisher(broker.port, "nan-agent")
        publisher.publish(topic, {**SESSION_START, "session_id": "n1", "started_at": t0})
        wait_for(lambda: value(daemon.scrape(), "ocrfleet_pc_in_use", **PC) == 1.0)
        before = daemon.scrape()
        end = b'{"v":1,"event":"end","session_id":"n1","started_at":%.1f,"ended_at":NaN}' % t0
        publisher.publish(topic, end)
        publisher.close()
        wait_for(
            lambda: (
                rejected(daemon.scrape()) > rejected(before)
                or (value(daemon.scrape(), "ocrfleet_pc_in_use", **PC) == 0.0)
            )
        )
        ended_while_running = value(daemon.scrape(), "ocrfleet_pc_in_use", **PC) == 0.0
    with RunningApp(config) as restarted:
        in_use_after_restart = value(restarted.scrape(), "ocrfleet_pc_in_use", **PC)
    # Either the message is refused (session still open, consistently), or the
    # session ended and stays ended across a restart.
    assert in_use_after_restart == (0.0 if ended_while_running else 1.0)


def test_nan_start_time_is_rejected_or_recorded(fleet: Fleet) -> None:
    """Regression (bug at commit dc8df92): a start event with `"started_at": NaN` was
    counted as accepted, but the store's INSERT OR IGNORE skipped the NULL row, so the
    session silently never existed."""
    before = fleet.scrape()
    start = b'{"v":1,"event":"start","session_id":"n2","started_at":NaN}'
    fleet.publisher.publish(f"{ROOT}/{SITE}/pc-01/session", start)
    fleet.marker()  # processed after the NaN event (same client, QoS 1, same writer queue)
    wait_for(lambda: value(fleet.scrape(), "ocrfleet_sessions_total", **LAPTOP) == 1.0)
    after = fleet.scrape()
    was_rejected = rejected(after) == rejected(before) + 1
    assert was_rejected or value(after, "ocrfleet_pc_in_use", **PC) == 1.0


def test_infinite_end_time_is_rejected_or_kept_out_of_duration_sum(fleet: Fleet) -> None:
    """Regression (bug at commit dc8df92): `"ended_at": 1e400` (parsed as Infinity) was
    accepted, and ocrfleet_session_duration_seconds_sum became +Inf for good."""
    before = fleet.scrape()
    end = b'{"v":1,"event":"end","session_id":"i1","started_at":1000.0,"ended_at":1e400}'
    fleet.publisher.publish(f"{ROOT}/{SITE}/pc-01/session", end)
    fleet.marker()
    wait_for(lambda: value(fleet.scrape(), "ocrfleet_sessions_total", **LAPTOP) == 1.0)
    wait_for(lambda: _processed(fleet, "session", before))
    after = fleet.scrape()
    total = value(after, "ocrfleet_session_duration_seconds_sum", site=SITE, kind="pc")
    assert total is None or math.isfinite(total)


def test_oversized_disk_free_is_rejected_or_rendered(fleet: Fleet) -> None:
    """Regression (bug at commit dc8df92): `"disk_free_bytes": 10**400` was accepted;
    float() overflowed in PcKind.samples and every pc metric of the device vanished."""
    before = fleet.scrape()
    payload = json.dumps(health(cpu_ratio=0.5)).replace(
        '"disk_free_bytes": 50000000000', f'"disk_free_bytes": {10**400}'
    )
    assert str(10**400) in payload
    fleet.publisher.publish(f"{ROOT}/{SITE}/pc-01/health", payload, qos=1)
    wait_for(lambda: _processed(fleet, "health", before))
    after = fleet.scrape()
    was_rejected = rejected(after, "invalid") == rejected(before, "invalid") + 1
    assert was_rejected or value(after, "ocrfleet_pc_cpu_ratio", **PC) == 0.5
