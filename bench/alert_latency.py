"""Alert latency: from a fault on a device to the webhook receiving its notification.

The whole daemon runs as it does in production, `python -m ocrfleet.cli.main
run -c FILE`, in its own process, with one site that is always open and two
devices:

* printer: an snmpsim agent serving the `mono_laser` recording, whose
  hrPrinterDetectedErrorState cell is a `writecache` cell. The benchmark SETs
  it to `jammed` and back to nothing over SNMP, so the fault appears on the
  running agent at a known instant and the daemon finds it at its next poll.
  Alert `printer_condition` (condition `jammed`).
* pc: a `pc` device on Mosquitto; the benchmark publishes its availability
  `offline` (retained, QoS 1, as the agent's Last Will is) and `online` again.
  The device is down the moment the daemon reads the message, so there is no
  poll to wait for. Alert `pc_offline`.

Each alert is routed to its own webhook channel; both POST to one local HTTP
receiver that notes each request's arrival time. The poll interval (5 s, the
least the printer kind allows) and the tolerance (`for`, 10 s; `resolve_after`
0) are fixed; the evaluation interval is what varies: one daemon per value
(15 s, the default, and 1 s unless told otherwise), all of them at the same
time, each with its own agent, topics and receiver paths.

A round: wait a random time, set the fault (T0: time.time() once the SET is
answered or the PUBACK is in), wait for the firing notification (T1: its
arrival), wait a random time, clear the fault, wait for the resolved one.
latency = T1 - T0; excess = latency - allowance, where the allowance is what
the settings alone explain: poll interval + `for` when firing, poll interval +
`resolve_after` when resolving (no poll interval for the pc). The random waits
span a whole poll and evaluation cycle, so faults land at random phases of
both. Target: an excess of at most 2 s.

Run: .venv/bin/python bench/alert_latency.py [--rounds N] [--evaluation-intervals 15,1]
         [--paths printer,pc] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as paho
import tomli_w
from harness import ROOT
from harness.describe import code_state, machine, program_version
from harness.processes import stop_program, tail
from harness.results import add_json_options, write_results
from harness.signals import exit_on_sigterm, run_script
from harness.tables import check_lines, table
from paho.mqtt.enums import CallbackAPIVersion

from devpeers.daemon import scrape, value
from devpeers.mosquitto import Mosquitto, free_port, mosquitto_binary
from devpeers.process import spawn_logged
from devpeers.snmpsim import SnmpSimulator
from ocrfleet.snmp.ber import ResponseDecoder, encode_oid

RECORDING = ROOT / "tests" / "fixtures" / "snmp" / "printers" / "mono_laser.snmprec"
# hrPrinterDetectedErrorState of hrDeviceIndex 1, the recording's printer.
ERROR_STATE = "1.3.6.1.2.1.25.3.5.1.2.1"
# BITS, bit 0 the most significant bit of the first octet: bit 5 is `jammed`.
JAMMED = bytes((0x04, 0x00))
CLEAR = bytes((0x00, 0x00))
COMMUNITY = "bench-printer"
SITE = "lib"
PRINTER = "mfp"
PC = "pc-01"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
POLL_INTERVAL = 5.0  # the least PrinterOptions allows
TOLERANCE = 10.0  # `for` of both rules
RESOLVE_AFTER = 0.0
TARGET_EXCESS = 2.0
PATHS = ("printer", "pc")
# Far beyond any round, so the pc goes down only when told `offline`.
HEARTBEAT_TIMEOUT = 86_400.0
STARTUP_SECONDS = 90.0

# BER tags of the SET request built below: ocrfleet's own codec only encodes reads.
_INTEGER, _OCTET_STRING, _SEQUENCE, _SET_REQUEST = 0x02, 0x04, 0x30, 0xA3


# -- the HTTP receiver ------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    path: str
    arrived: float  # time.time() once the whole request was read
    method: str
    key: str  # the Idempotency-Key header, "" when absent
    body: Any  # parsed JSON, or None when it was not JSON


class Receiver:
    """A plain HTTP server on loopback that answers 200 and notes when each request arrived.

    tests/support/http_receiver.py records no arrival time; here the time is
    the whole measurement, so it is taken in the handler itself, before the
    answer is written.
    """

    def __init__(self) -> None:
        self._arrived = threading.Condition()
        self._by_path: dict[str, list[Delivery]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                arrived = time.time()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                key = self.headers.get("Idempotency-Key") or ""
                receiver._record(Delivery(self.path, arrived, self.command, key, body))
                answer = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _record(self, delivery: Delivery) -> None:
        with self._arrived:
            self._by_path.setdefault(delivery.path, []).append(delivery)
            self._arrived.notify_all()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def deliveries(self, path: str | None = None) -> list[Delivery]:
        with self._arrived:
            if path is not None:
                return list(self._by_path.get(path, []))
            return [d for found in self._by_path.values() for d in found]

    def wait_for(self, path: str, count: int, timeout: float, stop: threading.Event) -> bool:
        """True once `path` has had `count` requests; False on timeout or stop."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._by_path.get(path, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0 or stop.is_set():
                    return False
                # Bounded, so a stop request is seen within a fraction of a second.
                self._arrived.wait(min(left, 0.2))
            return True


# -- faults -----------------------------------------------------------------


def _tlv(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return bytes((tag, length)) + body
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(octets))) + octets + body


def _integer(number: int) -> bytes:
    return _tlv(_INTEGER, number.to_bytes(number.bit_length() // 8 + 1, "big", signed=True))


def snmp_set_octets(
    port: int, community: str, oid: str, data: bytes, timeout: float = 1.0, tries: int = 3
) -> None:
    """One SNMPv2c SET of an OCTET STRING; returns once the agent has answered it without error.

    A plain blocking socket: the moment the answer is in is T0, and nothing
    else (no event loop, no library's own scheduling) should sit between the
    answer and that timestamp.
    """
    decoder = ResponseDecoder()
    request_id = random.randrange(1, 2**31 - 1)
    binding = _tlv(_SEQUENCE, encode_oid(oid) + _tlv(_OCTET_STRING, data))
    pdu = _tlv(
        _SET_REQUEST, _integer(request_id) + _integer(0) + _integer(0) + _tlv(_SEQUENCE, binding)
    )
    message = _tlv(_SEQUENCE, _integer(1) + _tlv(_OCTET_STRING, community.encode()) + pdu)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for _ in range(tries):
            sock.sendto(message, ("127.0.0.1", port))
            try:
                while True:
                    answer = decoder.decode(sock.recv(65_535))
                    if answer.request_id == request_id:
                        break
            except TimeoutError:
                continue
            if answer.error_status:
                raise RuntimeError(f"SET {oid} refused: error-status {answer.error_status}")
            return
    raise RuntimeError(f"SET {oid}: no answer from 127.0.0.1:{port}")


class Fault(Protocol):
    name: str
    alertname: str
    device: str
    poll_interval: float  # 0 when the device's state changes the moment it reports

    def set(self) -> None: ...

    def clear(self) -> None: ...


class PrinterJam:
    """A jam appearing on, and cleared from, a running snmpsim agent (writecache + SET)."""

    name = "printer"
    alertname = "printer_condition"
    device = PRINTER
    poll_interval = POLL_INTERVAL

    def __init__(self, port: int) -> None:
        self._port = port

    def set(self) -> None:
        snmp_set_octets(self._port, COMMUNITY, ERROR_STATE, JAMMED)

    def clear(self) -> None:
        snmp_set_octets(self._port, COMMUNITY, ERROR_STATE, CLEAR)


class PcOffline:
    """A PC whose availability goes `offline` and back `online`, retained at QoS 1."""

    name = "pc"
    alertname = "pc_offline"
    device = PC
    poll_interval = 0.0

    def __init__(self, broker_port: int, topic_root: str) -> None:
        self.topic = f"{topic_root}/{SITE}/{PC}/availability"
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-{topic_root}-pc", clean_session=True
        )
        self._client.connect("127.0.0.1", broker_port, keepalive=30)
        self._client.loop_start()

    def _publish(self, payload: str) -> None:
        info = self._client.publish(self.topic, payload, qos=1, retain=True)
        # Returns at the PUBACK: the broker has the message.
        info.wait_for_publish(10)
        if not info.is_published():
            raise RuntimeError(f"no PUBACK for {payload!r} on {self.topic}")

    def set(self) -> None:
        self._publish("offline")

    def clear(self) -> None:
        self._publish("online")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


# -- measurements -----------------------------------------------------------


def _rfc3339(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Transition:
    """One fault change (set or cleared) and the notification it led to."""

    status: str  # the alert status expected: firing or resolved
    pause: float  # random wait before the change
    changed_at: float  # T0
    allowance: float
    arrived: float | None = None  # T1
    key: str | None = None
    # From the body: when the daemon first saw the problem (startsAt) or
    # resolved it (endsAt); and from its outbox, when it queued the notification.
    seen_at: float | None = None
    queued_at: float | None = None
    problem: str | None = None

    @property
    def latency(self) -> float | None:
        return None if self.arrived is None else self.arrived - self.changed_at

    @property
    def excess(self) -> float | None:
        latency = self.latency
        return None if latency is None else latency - self.allowance


@dataclass
class PathRun:
    evaluation_interval: float
    path: str
    url_path: str
    rounds: list[tuple[Transition, Transition | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _expected(delivery: Delivery, fault: Fault, status: str) -> str | None:
    """Why `delivery` is not the one notification of `fault`'s alert in `status`, or None."""
    body = delivery.body
    if delivery.method != "POST" or not isinstance(body, dict):
        return f"{delivery.method} without a JSON object body"
    if not delivery.key:
        return "no Idempotency-Key"
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or len(alerts) != 1:
        return f"{len(alerts) if isinstance(alerts, list) else 'no'} alerts instead of 1"
    alert = alerts[0]
    labels = alert.get("labels", {})
    if labels.get("alertname") != fault.alertname or labels.get("device") != fault.device:
        return f"unexpected alert {labels}"
    if alert.get("status") != status:
        return f"{alert.get('status')} instead of {status}"
    return None


def play(
    fault: Fault,
    run: PathRun,
    receiver: Receiver,
    rounds: int,
    pause_max: float,
    timeout: float,
    rng: random.Random,
    stop: threading.Event,
) -> None:
    """The rounds of one fault path against one daemon; fills `run`."""
    got = 0

    def change(status: str) -> Transition | None:
        nonlocal got
        pause = rng.uniform(0, pause_max)
        if stop.wait(pause):
            return None
        if status == "firing":
            act, allowance = fault.set, fault.poll_interval + TOLERANCE
        else:
            act, allowance = fault.clear, fault.poll_interval + RESOLVE_AFTER
        try:
            act()
        except (RuntimeError, OSError) as exc:
            # Recorded rather than raised: a thread's exception would only be printed.
            step = Transition(status, pause, time.time(), allowance)
            step.problem = f"could not change the fault: {exc}"
            return step
        step = Transition(status, pause, time.time(), allowance)
        if not receiver.wait_for(run.url_path, got + 1, timeout, stop):
            step.problem = f"no {status} notification within {timeout:.0f} s"
            return step
        delivery = receiver.deliveries(run.url_path)[got]
        got += 1
        step.arrived, step.key = delivery.arrived, delivery.key
        step.problem = _expected(delivery, fault, status)
        if step.problem is None:
            alert = delivery.body["alerts"][0]
            seen = alert["startsAt"] if status == "firing" else alert["endsAt"]
            step.seen_at = _rfc3339(seen)
        return step

    for index in range(rounds):
        fired = change("firing")
        if fired is None:
            return
        if fired.problem is not None:
            run.problems.append(f"round {index + 1}: {fired.problem}")
            run.rounds.append((fired, None))
            return
        resolved = change("resolved")
        if resolved is None:
            run.rounds.append((fired, None))
            return
        run.rounds.append((fired, resolved))
        if resolved.problem is not None:
            run.problems.append(f"round {index + 1}: {resolved.problem}")
            return
        print(
            f"  {run.evaluation_interval:g} s {run.path} round {index + 1}/{rounds}:"
            f" firing after {fired.latency:.2f} s (excess {fired.excess:+.2f}),"
            f" resolved after {resolved.latency:.2f} s (excess {resolved.excess:+.2f})",
            flush=True,
        )


# -- one daemon per evaluation interval --------------------------------------


def daemon_config(
    number: int,
    evaluation_interval: float,
    broker_port: int,
    agent_port: int,
    http_port: int,
    store: Path,
    receiver_url: str,
    paths: Sequence[str],
) -> dict[str, Any]:
    devices: list[dict[str, Any]] = []
    channels: dict[str, Any] = {}
    routes: list[dict[str, Any]] = []
    if "printer" in paths:
        devices.append(
            {
                "id": PRINTER,
                "kind": "printer",
                "options": {
                    "host": "127.0.0.1",
                    "port": agent_port,
                    "snmp": {"version": "2c", "community": COMMUNITY},
                    "poll_interval": POLL_INTERVAL,
                    "timeout": 1,
                    "retries": 1,
                },
            }
        )
        channels["printer-desk"] = {"type": "webhook", "url": f"{receiver_url}/run{number}/printer"}
        routes.append(
            {
                "match": {"alertname": "printer_condition", "condition": "jammed"},
                "channels": ["printer-desk"],
            }
        )
    if "pc" in paths:
        devices.append(
            {"id": PC, "kind": "pc", "options": {"heartbeat_timeout": HEARTBEAT_TIMEOUT}}
        )
        channels["pc-desk"] = {"type": "webhook", "url": f"{receiver_url}/run{number}/pc"}
        routes.append({"match": {"alertname": "pc_offline"}, "channels": ["pc-desk"]})
    return {
        "municipality": {"name": "Benchdorp", "adult_population": 5000},
        "sites": [
            {
                "id": SITE,
                "name": "Library",
                "village_core": "Benchdorp",
                "opening_hours": ALWAYS_OPEN,
                "devices": devices,
            }
        ],
        "mqtt": {
            "host": "127.0.0.1",
            "port": broker_port,
            "client_id": f"ocrfleet-bench-{number}",
            "topic_root": f"run{number}",
        },
        "http": {"listen": "127.0.0.1", "port": http_port},
        "store": {"path": str(store)},
        "alerting": {
            "evaluation_interval": evaluation_interval,
            "channels": channels,
            # Everything else (the seat rules when the pc is down, supplies)
            # goes to the daemon's log, not to the receiver.
            "routes": routes,
            "rules": {
                "printer_condition": {"for": TOLERANCE, "resolve_after": RESOLVE_AFTER},
                "pc_offline": {"for": TOLERANCE, "resolve_after": RESOLVE_AFTER},
            },
        },
    }


def _writecache_recording() -> str:
    """mono_laser, with its error state in a writecache cell the benchmark can SET."""
    lines = []
    for line in RECORDING.read_text().splitlines():
        if line.startswith(ERROR_STATE + "|"):
            line = f"{ERROR_STATE}|4:writecache|hexvalue={CLEAR.hex()}"
        lines.append(line)
    if f"{ERROR_STATE}|4:writecache|hexvalue={CLEAR.hex()}" not in lines:
        raise RuntimeError(f"{RECORDING.name} has no {ERROR_STATE}")
    return "\n".join(lines) + "\n"


class DaemonRun:
    """An snmpsim agent, a daemon subprocess and the fault paths for one evaluation interval."""

    def __init__(
        self,
        number: int,
        evaluation_interval: float,
        work: Path,
        broker: Mosquitto,
        receiver: Receiver,
        paths: Sequence[str],
    ) -> None:
        self.number = number
        self.evaluation_interval = evaluation_interval
        self.work = work / f"run{number}"
        self.paths = paths
        self._broker = broker
        self._receiver = receiver
        self.store = self.work / "ocrfleet.sqlite"
        self.log = self.work / "daemon.log"
        self.http_port = free_port()
        self.agent: SnmpSimulator | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.faults: dict[str, Fault] = {}
        self._pc: PcOffline | None = None

    def start(self) -> None:
        data = self.work / "snmpsim-data"
        data.mkdir(parents=True)
        (data / f"{COMMUNITY}.snmprec").write_text(_writecache_recording())
        # One agent per daemon: writecache keeps values by OID alone, so two
        # daemons' printers must not share a process.
        self.agent = SnmpSimulator(data, self.work / "snmpsim")
        self.agent.start()
        if "printer" in self.paths:
            self.faults["printer"] = PrinterJam(self.agent.port)
            self.faults["printer"].clear()
        if "pc" in self.paths:
            self._pc = PcOffline(self._broker.port, f"run{self.number}")
            # Retained, so the daemon finds the pc up the moment it subscribes.
            self._pc.clear()
            self.faults["pc"] = self._pc
        config = daemon_config(
            self.number,
            self.evaluation_interval,
            self._broker.port,
            self.agent.port,
            self.http_port,
            self.store,
            self._receiver.url,
            self.paths,
        )
        path = self.work / "ocrfleet.toml"
        path.write_text(tomli_w.dumps(config), encoding="utf-8")
        self.process = spawn_logged(
            [sys.executable, "-m", "ocrfleet.cli.main", "run", "-c", str(path)],
            self.log,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def wait_ready(self) -> None:
        """Until every device is up and two evaluations have seen them so."""
        url = f"http://127.0.0.1:{self.http_port}/metrics"
        deadline = time.monotonic() + STARTUP_SECONDS
        devices = [("printer", PRINTER), ("pc", PC)]
        evaluations_when_up: float | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"daemon {self.number} exited:\n{tail(self.log, 30)}")
            try:
                samples = scrape(url)
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
                continue
            up = all(
                value(samples, "ocrfleet_device_up", site=SITE, device=device, kind=kind) == 1.0
                for kind, device in devices
                if kind in self.paths
            )
            evaluations = value(samples, "ocrfleet_alert_evaluations_total") or 0.0
            if up and evaluations_when_up is None:
                evaluations_when_up = evaluations
            if evaluations_when_up is not None and evaluations >= evaluations_when_up + 2:
                return
            time.sleep(0.2)
        raise RuntimeError(f"daemon {self.number} not ready:\n{tail(self.log, 30)}")

    def stop(self) -> int | None:
        code = None
        if self.process is not None:
            code = stop_program(self.process, timeout=20)
            self.process = None
        if self._pc is not None:
            self._pc.close()
            self._pc = None
        if self.agent is not None:
            self.agent.stop()
            self.agent = None
        return code

    def outbox(self) -> dict[str, dict[str, Any]]:
        """The daemon's outbox rows by id (the Idempotency-Key), read after it stopped."""
        if not self.store.exists():
            return {}
        db = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT id, channel, created_at, state, attempts, finished_at FROM outbox"
            ).fetchall()
        finally:
            db.close()
        return {
            row[0]: {
                "channel": row[1],
                "created_at": row[2],
                "state": row[3],
                "attempts": row[4],
                "finished_at": row[5],
            }
            for row in rows
        }


# -- the run -----------------------------------------------------------------


def run(args: argparse.Namespace, stop: threading.Event) -> tuple[list[PathRun], dict[str, Any]]:
    runs: list[DaemonRun] = []
    path_runs: list[PathRun] = []
    extra: dict[str, Any] = {"unexpected": [], "outbox": {}, "exit_codes": {}}
    with tempfile.TemporaryDirectory(prefix="alert-latency-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")
        receiver = Receiver()
        try:
            broker.start()
            receiver.start()
            for number, interval in enumerate(args.evaluation_intervals, start=1):
                daemon = DaemonRun(number, interval, work, broker, receiver, args.paths)
                runs.append(daemon)
                daemon.start()
            for daemon in runs:
                daemon.wait_ready()
            early = receiver.deliveries()
            if early:
                extra["unexpected"] += [f"before the first round: {d.path}" for d in early]
            print(
                f"{len(runs)} daemons ready (evaluation intervals"
                f" {', '.join(f'{d.evaluation_interval:g} s' for d in runs)}); rounds start",
                flush=True,
            )
            threads = []
            for daemon in runs:
                pause_max = max(POLL_INTERVAL, daemon.evaluation_interval)
                timeout = POLL_INTERVAL + TOLERANCE + 2 * daemon.evaluation_interval + 30
                for name in args.paths:
                    path_run = PathRun(
                        daemon.evaluation_interval, name, f"/run{daemon.number}/{name}"
                    )
                    path_runs.append(path_run)
                    # One generator per path and daemon, so --seed replays each one's waits.
                    rng = random.Random(f"{args.seed}/{daemon.number}/{name}")
                    thread = threading.Thread(
                        target=play,
                        args=(
                            daemon.faults[name],
                            path_run,
                            receiver,
                            args.rounds,
                            pause_max,
                            timeout,
                            rng,
                            stop,
                        ),
                        name=f"run{daemon.number}-{name}",
                        daemon=True,
                    )
                    threads.append(thread)
                    thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)
            # Anything still on its way (a repeat, a late duplicate) gets the
            # time of one more poll and evaluation to arrive.
            grace = POLL_INTERVAL + max(d.evaluation_interval for d in runs) + 2
            print(f"rounds done; {grace:.0f} s for late deliveries", flush=True)
            stop.wait(grace)
        finally:
            stop.set()
            for daemon in runs:
                extra["exit_codes"][daemon.number] = daemon.stop()
            receiver.stop()
            broker.stop()
        for daemon in runs:
            extra["outbox"][daemon.number] = daemon.outbox()
        extra["deliveries"] = receiver.deliveries()
        extra["logs"] = {
            daemon.number: tail(daemon.log, 200) for daemon in runs if daemon.log.exists()
        }
    return path_runs, extra


# -- results -----------------------------------------------------------------


def _quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _spread(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "min": min(values),
        "median": statistics.median(values),
        "p95": _quantile(values, 0.95),
        "max": max(values),
    }


def summarise(
    args: argparse.Namespace,
    path_runs: list[PathRun],
    extra: dict[str, Any],
    code: str,
    changed: list[str],
    load_start: float,
    started: float,
) -> dict[str, Any]:
    deliveries: list[Delivery] = extra["deliveries"]
    outboxes: dict[int, dict[str, dict[str, Any]]] = extra["outbox"]
    queued = {key: row for rows in outboxes.values() for key, row in rows.items()}
    by_key: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        by_key.setdefault(delivery.key, []).append(delivery)
    expected_paths = {run.url_path for run in path_runs}
    unexpected = list(extra["unexpected"])
    unexpected += [
        f"{d.method} {d.path} (no path of this benchmark)"
        for d in deliveries
        if d.path not in expected_paths
    ]
    groups = []
    all_rounds_complete = True
    exactly_once = True
    for run in path_runs:
        steps = [s for fired, resolved in run.rounds for s in (fired, resolved) if s is not None]
        for step in steps:
            if step.key is not None and step.key in queued:
                step.queued_at = queued[step.key]["created_at"]
        complete = [
            (f, r)
            for f, r in run.rounds
            if r is not None and f.problem is None and r.problem is None
        ]
        if len(complete) != args.rounds:
            all_rounds_complete = False
        on_path = [d for d in deliveries if d.path == run.url_path]
        keys_by_status: dict[str, set[str]] = {"firing": set(), "resolved": set()}
        for step in steps:
            if step.key:
                keys_by_status[step.status].add(step.key)
        repeats = {
            key: len(by_key[key]) for key in {d.key for d in on_path} if len(by_key[key]) > 1
        }
        accounted = {s.key for s in steps if s.key}
        strays = [d for d in on_path if d.key not in accounted]
        once = (
            len(keys_by_status["firing"]) == args.rounds
            and len(keys_by_status["resolved"]) == args.rounds
            and not repeats
            and not strays
            and len(on_path) == 2 * args.rounds
        )
        exactly_once = exactly_once and once
        if strays:
            unexpected.append(f"{run.url_path}: {len(strays)} deliveries no round waited for")
        for status in ("firing", "resolved"):
            done = [f if status == "firing" else r for f, r in complete]
            latencies = [s.latency for s in done if s.latency is not None]
            excesses = [s.excess for s in done if s.excess is not None]
            seen = [s.seen_at - s.changed_at for s in done if s.seen_at is not None]
            # startsAt and endsAt carry microseconds only: a resolution queued
            # in the evaluation that saw it would otherwise show as -0.000001 s.
            waited = [
                max(s.queued_at - s.seen_at, 0.0)
                for s in done
                if s.queued_at is not None and s.seen_at is not None
            ]
            delivered = [
                s.arrived - s.queued_at
                for s in done
                if s.arrived is not None and s.queued_at is not None
            ]
            excess = _spread(excesses)
            groups.append(
                {
                    "evaluation_interval": run.evaluation_interval,
                    "path": run.path,
                    "status": status,
                    "rounds": len(done),
                    "allowance": done[0].allowance if done else None,
                    "latency": _spread(latencies),
                    "excess": excess,
                    "meets_target": excess is not None and excess["max"] <= TARGET_EXCESS,
                    "seen": _spread(seen),
                    "tolerance_wait": _spread(waited),
                    "delivery": _spread(delivered),
                    "distinct_keys": len(keys_by_status[status]),
                }
            )
        extra.setdefault("paths", {})[run.url_path] = {
            "repeated_keys": repeats,
            "deliveries_on_path": len(on_path),
            "problems": run.problems,
        }
    rows = [row for rows in outboxes.values() for row in rows.values()]
    webhook_rows = [row for row in rows if row["channel"] != "log"]
    checks = {
        "every round completed, in order, without a wrong delivery": all_rounds_complete
        and not any(run.problems for run in path_runs),
        "each firing and each resolution arrived exactly once (distinct Idempotency-Keys)": (
            exactly_once
        ),
        "nothing else was delivered to the receiver": not unexpected,
        # `attempts` counts the failed tries only.
        "every webhook notification delivered on its first try": all(
            row["state"] == "delivered" and row["attempts"] == 0 for row in webhook_rows
        ),
        "the daemons stopped cleanly": all(code == 0 for code in extra["exit_codes"].values()),
    }
    return {
        "date": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "seconds": time.time() - started,
        "code": code,
        "changed_files": changed,
        "machine": machine(
            load_start,
            **{
                "snmpsim": version("snmpsim"),
                "paho-mqtt": version("paho-mqtt"),
                "mosquitto": _mosquitto_version(),
            },
        ),
        "settings": {
            "poll_interval": POLL_INTERVAL,
            "for": TOLERANCE,
            "resolve_after": RESOLVE_AFTER,
            "evaluation_intervals": args.evaluation_intervals,
            "rounds": args.rounds,
            "paths": list(args.paths),
            "seed": args.seed,
            "random_wait_max": {str(i): max(POLL_INTERVAL, i) for i in args.evaluation_intervals},
        },
        "target_excess": TARGET_EXCESS,
        "groups": groups,
        "rounds": [
            {
                "evaluation_interval": run.evaluation_interval,
                "path": run.path,
                "rounds": [
                    {
                        status: None
                        if step is None
                        else {**asdict(step), "latency": step.latency, "excess": step.excess}
                        for status, step in (("firing", fired), ("resolved", resolved))
                    }
                    for fired, resolved in run.rounds
                ],
                "problems": run.problems,
            }
            for run in path_runs
        ],
        "paths": extra.get("paths", {}),
        "unexpected": unexpected,
        "webhook_outbox": {
            "rows": len(webhook_rows),
            "failed_tries": sum(row["attempts"] for row in webhook_rows),
        },
        "daemon_exit_codes": extra["exit_codes"],
        "checks": checks,
    }


def _mosquitto_version() -> str:
    try:
        return program_version([mosquitto_binary(), "-h"])
    except RuntimeError:  # not installed
        return "?"


def _four(spread: dict[str, float] | None, signed: bool = False) -> str:
    if spread is None:
        return "n/a"
    form = "{:+.2f}" if signed else "{:.2f}"
    return " / ".join(form.format(spread[k]) for k in ("min", "median", "p95", "max"))


def _three(spread: dict[str, float] | None) -> str:
    if spread is None:
        return "n/a"
    return " / ".join(f"{spread[k]:.2f}" for k in ("min", "median", "max"))


def report(result: dict[str, Any]) -> str:
    machine = result["machine"]
    settings = result["settings"]
    lines = [
        f"code {result['code']}, {result['date']}; {machine['cpus']} CPUs, Python"
        f" {machine['python']}, {machine['mosquitto']}, snmpsim {machine['snmpsim']};"
        f" 1-min load average {machine['loadavg_1min_start']:.2f} at start,"
        f" {machine['loadavg_1min_end']:.2f} at end; {result['seconds'] / 60:.1f} min",
        f"poll interval {settings['poll_interval']:g} s, for {settings['for']:g} s,"
        f" resolve_after {settings['resolve_after']:g} s, {settings['rounds']} rounds per path",
        "",
        "Latency = fault set (cleared) → webhook received the firing (resolved) notification;"
        " excess = latency - allowance. Seconds, min / median / p95 / max.",
        "",
    ]
    rows = []
    for group in result["groups"]:
        poll = settings["poll_interval"] if group["path"] == "printer" else 0.0
        tolerance = settings["for"] if group["status"] == "firing" else settings["resolve_after"]
        name = "for" if group["status"] == "firing" else "resolve_after"
        allowance = (
            f"poll {poll:g} + {name} {tolerance:g} = {poll + tolerance:g} s"
            if poll
            else f"{name} {tolerance:g} s"
        )
        verdict = "yes" if group["meets_target"] else "**no**"
        rows.append(
            (
                f"{group['evaluation_interval']:g} s",
                group["path"],
                group["status"],
                group["rounds"],
                allowance,
                _four(group["latency"]),
                _four(group["excess"], signed=True),
                verdict,
            )
        )
    header: tuple[str, ...] = (
        "evaluation interval",
        "path",
        "notification",
        "rounds",
        "allowance",
        "latency",
        "excess",
        f"max excess ≤ {TARGET_EXCESS:g} s",
    )
    lines += table(header, "rllrlrrl", rows)
    lines += [
        "",
        "Where the time went (min / median / max, s): seen = fault → the first evaluation that"
        " saw it (startsAt; for a resolution, the resolving evaluation, endsAt); tolerance"
        " wait = seen → the evaluation that queued the notification; delivery = queued"
        " (outbox created_at) → received.",
        "",
    ]
    header = ("evaluation interval", "path", "notification", "seen", "tolerance wait", "delivery")
    waits = [
        (
            f"{group['evaluation_interval']:g} s",
            group["path"],
            group["status"],
            _three(group["seen"]),
            _three(group["tolerance_wait"]),
            _three(group["delivery"]),
        )
        for group in result["groups"]
    ]
    lines += table(header, "rllrrr", waits)
    lines.append("")
    for run in result["rounds"]:
        for problem in run["problems"]:
            lines.append(f"{run['evaluation_interval']:g} s {run['path']}: {problem}")
    for item in result["unexpected"]:
        lines.append(f"unexpected: {item}")
    lines += check_lines(result["checks"])
    return "\n".join(lines)


def _intervals(text: str) -> list[float]:
    try:
        found = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of seconds: {text!r}") from None
    if not found or min(found) <= 0:
        raise argparse.ArgumentTypeError("evaluation intervals must be positive seconds")
    return found


def _paths(text: str) -> list[str]:
    found = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [p for p in found if p not in PATHS]
    if not found or unknown:
        raise argparse.ArgumentTypeError(f"paths are {', '.join(PATHS)}; not {unknown}")
    return found


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=10, help="rounds per path (default 10)")
    parser.add_argument(
        "--evaluation-intervals",
        type=_intervals,
        default=[15.0, 1.0],
        help="seconds, comma-separated; one daemon each, run side by side (default 15,1)",
    )
    parser.add_argument(
        "--paths",
        type=_paths,
        default=list(PATHS),
        help="printer (SNMP jam), pc (MQTT offline), or both (default printer,pc)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the random waits")
    add_json_options(parser, "alert_latency")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    missing = [
        name
        for name, found in (
            ("mosquitto", shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()),
            (
                "snmpsim",
                (Path(sys.executable).parent / "snmpsim-command-responder").exists()
                or shutil.which("snmpsim-command-responder"),
            ),
        )
        if not found
    ]
    if missing:
        print(f"{' and '.join(missing)} not installed; `make test` installs both.", file=sys.stderr)
        return 2
    exit_on_sigterm()
    load_start = os.getloadavg()[0]
    started = time.time()
    # Read before the run: the tree may change while it runs.
    code, changed = code_state()
    print(
        f"{args.rounds} rounds per path ({', '.join(args.paths)}), evaluation intervals"
        f" {', '.join(f'{i:g} s' for i in args.evaluation_intervals)}; code {code};"
        f" load average {load_start:.2f}",
        flush=True,
    )
    stop = threading.Event()
    path_runs, extra = run(args, stop)
    result = summarise(args, path_runs, extra, code, changed, load_start, started)
    print()
    print(report(result))
    if not all(result["checks"].values()):
        for number, log in extra["logs"].items():
            if "Traceback" in log or "ERROR" in log:
                print(f"\ndaemon {number}'s log, last lines:\n{log[-3000:]}", file=sys.stderr)
    write_results(args, "alert_latency", result)
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    run_script(main)
