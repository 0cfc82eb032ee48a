"""The agent's optional internet check, against a real HTTPS "internet" and a real Mosquitto.

The check runs in its own thread: whatever the page does (answer, refuse,
hang), the agent's health reports keep coming, carrying the last finished
check.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ocrfleet_agent.cli import build_parser, internet_options, main, run_arguments
from ocrfleet_agent.internet import (
    InternetChecker,
    InternetSettings,
    check_internet,
    internet_settings,
)
from ocrfleet_agent.journal import Journal
from ocrfleet_agent.mqtt import AgentConnection, AgentIdentity, BrokerSettings
from ocrfleet_agent.payloads import Health, InternetReport
from ocrfleet_agent.probes import HealthProbe
from ocrfleet_agent.runner import AgentRunner
from ocrfleet_agent.sources import LoggedInSource
from tests.support.daemon import RunningApp, site_config, value, wait_for
from tests.support.internet import InternetServer
from tests.support.mosquitto import Mosquitto

HEALTH_TOPIC = "ocrfleet/lib/pc-01/health"
WAIT = 30.0  # seconds before a wait gives up: a bound on failure, never a measure


@pytest.fixture
def internet(tmp_path: Path) -> Iterator[InternetServer]:
    with InternetServer(tmp_path / "internet") as server:
        yield server


def settings_for(server: InternetServer, **changes: object) -> InternetSettings:
    # Checks back to back: the 30 s minimum is the command line's (tested below).
    base = InternetSettings(
        url=server.url, resolve="localhost", interval=0.3, timeout=5.0, ca_file=server.ca_file
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- one check ----------------------------------------------------------------------


def test_a_check_that_fetches_the_page(internet: InternetServer) -> None:
    report = check_internet(settings_for(internet))
    assert report.ok, report
    assert report.status == 200 and report.error is None and report.detail is None
    assert report.latency_ms is not None and report.dns_ms is not None
    assert report.latency_ms >= report.dns_ms >= 0
    assert InternetReport.checked(*report) == report, "what the agent sends, its parser accepts"
    assert internet.requests == 1


def test_a_check_of_a_stopped_server_fails_to_connect(internet: InternetServer) -> None:
    internet.stop()
    report = check_internet(settings_for(internet))
    assert (report.ok, report.error, report.status, report.latency_ms) == (
        False,
        "connect",
        None,
        None,
    )
    assert report.dns_ms is not None, "the name was found; the line is cut"
    assert report.detail and "refused" in report.detail.lower()


def test_a_name_that_does_not_resolve(internet: InternetServer) -> None:
    report = check_internet(settings_for(internet, resolve="nonexistent.invalid"))
    assert (report.ok, report.error, report.dns_ms) == (False, "dns", None)
    assert report.detail and report.detail.startswith("nonexistent.invalid: ")
    assert internet.requests == 0, "no page fetched when the look-up failed"
    url = f"https://nonexistent.invalid:{internet.port}/"
    by_url = check_internet(settings_for(internet, url=url, resolve="nonexistent.invalid"))
    assert by_url.error == "dns"


def test_a_certificate_from_an_unknown_authority(internet: InternetServer) -> None:
    report = check_internet(settings_for(internet, ca_file=None))
    assert (report.ok, report.error) == (False, "tls")
    assert report.detail and "certificate verify failed" in report.detail
    assert internet.requests == 0, "nothing is asked of a server that is not trusted"


def test_a_server_that_does_not_answer_in_time(internet: InternetServer) -> None:
    internet.slow(3600)
    report = check_internet(settings_for(internet, timeout=1.0))
    assert (report.ok, report.error, report.status) == (False, "timeout", None)
    assert internet.requests == 1, "the request was sent; no answer came"


def test_a_checker_holds_no_result_before_its_first_check(internet: InternetServer) -> None:
    checker = InternetChecker(settings_for(internet))
    assert checker.latest() is None
    probe = HealthProbe(internet=checker.latest)
    assert probe.read().internet is None
    assert "internet" not in json.loads(probe.read().to_json()), "absent, not null"


# -- configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--internet-url", "http://www.vlaminggem.be/"],
            "--internet-url: 'http://www.vlaminggem.be/' is not an https:// URL",
        ),
        (["--internet-url", "www.vlaminggem.be"], "--internet-url: 'www.vlaminggem.be' is not an"),
        (["--internet-url", "https:///path"], "--internet-url: 'https:///path' has no host name"),
        (["--internet-url", "https://example.org:99999/"], "--internet-url: "),
        (
            ["--internet-url", "https://www.vlaminggem.be/bibliothèque"],
            "--internet-url: 'https://www.vlaminggem.be/bibliothèque' holds a space, a control "
            "or a non-ASCII character; percent-encode the path",
        ),
        (
            ["--internet-url", "https://www.vlaminggem.be/open uren"],
            "--internet-url: 'https://www.vlaminggem.be/open uren' holds a space",
        ),
        (
            ["--internet-url", "https://example.org/", "--internet-interval", "10"],
            "--internet-interval: at least 30 seconds, not 10",
        ),
        (
            ["--internet-url", "https://example.org/", "--internet-timeout", "0"],
            "--internet-timeout: more than 0 and at most 60 seconds, not 0",
        ),
        (
            ["--internet-url", "https://example.org/", "--internet-timeout", "nan"],
            "--internet-timeout: ",
        ),
        (["--internet-resolve", "example.org"], "--internet-resolve: only with --internet-url"),
        (
            [
                "--internet-url",
                "https://example.org/",
                "--internet-resolve",
                "https://example.org/",
            ],
            "--internet-resolve: 'https://example.org/' is a URL: give its host name alone",
        ),
        (
            ["--internet-url", "https://example.org/", "--internet-resolve", "example.org:443"],
            "--internet-resolve: 'example.org:443' is no host name or IP address",
        ),
        (
            ["--internet-url", "https://example.org/", "--internet-resolve", "user@example.org"],
            "--internet-resolve: 'user@example.org' is no host name or IP address",
        ),
        (
            ["--internet-url", "https://example.org/", "--internet-resolve", ""],
            "--internet-resolve: must not be empty",
        ),
        (
            ["--internet-url", "https://example.org/", "--internet-ca-file", "/nonexistent/ca.pem"],
            "--internet-ca-file: /nonexistent/ca.pem is no readable PEM file",
        ),
    ],
)
def test_bad_internet_options_are_refused_naming_the_option(
    options: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["run", "--site", "lib", "--journal", str(tmp_path / "j.json"), *options]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ocrfleet-agent: {message}"), err
    assert "Traceback" not in err


def test_a_ca_file_that_is_no_certificate_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(ValueError, match=r"^--internet-ca-file: .* is no readable PEM file"):
        internet_settings("https://example.org/", ca_file=bad)


def test_options_and_their_defaults(tmp_path: Path) -> None:
    parser = build_parser()
    args = parser.parse_args(["run", "--site", "lib", "--internet-url", "https://a.example/x?y=1"])
    settings = internet_options(args)
    assert settings == InternetSettings("https://a.example/x?y=1", "a.example", 300.0, 10.0, None)
    assert (settings.host, settings.port, settings.target) == ("a.example", 443, "/x?y=1")
    assert internet_options(parser.parse_args(["run", "--site", "lib"])) is None
    # install writes the check into the service's command line.
    ca = tmp_path / "ca.pem"
    argv = [
        "install",
        "--site",
        "lib",
        "--internet-url",
        "https://a.example/",
        "--internet-resolve",
        "dns.example",
        "--internet-interval",
        "60",
        "--internet-ca-file",
        str(ca),
    ]
    written = run_arguments(parser.parse_args(argv), tmp_path / "j.json")
    assert written[written.index("--internet-url") :] == [
        "--internet-url",
        "https://a.example/",
        "--internet-resolve",
        "dns.example",
        "--internet-interval",
        "60",
        "--internet-timeout",
        "10",
        "--internet-ca-file",
        str(ca.resolve()),
    ]
    assert parser.parse_args(written)


# -- the agent, its health reports and a real broker --------------------------------


class HealthReports:
    """Every health report the agent publishes, parsed, in order of arrival."""

    def __init__(self, port: int) -> None:
        self._queue: queue.Queue[Health] = queue.Queue()
        self._subscribed = threading.Event()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id="health-reports")
        self._client.on_connect = lambda client, *_: client.subscribe(HEALTH_TOPIC, qos=0)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = lambda _c, _u, message: self._queue.put(
            Health.parse(bytes(message.payload))
        )
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        assert self._subscribed.wait(WAIT), "no SUBACK"

    def next(self) -> Health:
        try:
            return self._queue.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"no health report within {WAIT:g} s") from None

    def until(self, wanted: Callable[[Health], bool], what: str) -> list[Health]:
        """The reports up to and including the first `wanted` one."""
        seen: list[Health] = []
        give_up = time.monotonic() + WAIT
        while not seen or not wanted(seen[-1]):
            assert time.monotonic() < give_up, f"never {what} in {len(seen)} reports"
            seen.append(self.next())
        return seen

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


class RunningAgent:
    """The agent's own runner and checker, as `ocrfleet-agent run` wires them."""

    def __init__(self, port: int, settings: InternetSettings, journal: Path) -> None:
        connection = AgentConnection(
            BrokerSettings(host="127.0.0.1", port=port, client_id="ocrfleet-agent-lib-pc-01"),
            AgentIdentity("ocrfleet", "lib", "pc-01"),
        )
        self.checker = InternetChecker(settings)
        self.runner = AgentRunner(
            connection,
            Journal(journal),
            LoggedInSource(count=lambda: 0),
            HealthProbe(internet=self.checker.latest).read,
            interval=0.1,
            session_check_interval=0.05,
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.runner.run, args=(self._stop,), daemon=True)

    def __enter__(self) -> RunningAgent:
        self.checker.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.checker.stop()
        self._stop.set()
        self.runner.wake()
        self._thread.join(WAIT)
        assert not self._thread.is_alive(), "the runner did not stop"


@pytest.fixture
def reports(broker: Mosquitto) -> Iterator[HealthReports]:
    collector = HealthReports(broker.port)
    try:
        yield collector
    finally:
        collector.close()


def failed_with(error: str) -> Callable[[Health], bool]:
    return lambda health: health.internet is not None and health.internet.error == error


def test_health_reports_carry_the_check_then_the_outage(
    broker: Mosquitto, reports: HealthReports, internet: InternetServer, tmp_path: Path
) -> None:
    with RunningAgent(broker.port, settings_for(internet), tmp_path / "j.json"):
        seen = reports.until(lambda h: h.internet is not None, "a check in a report")
        assert all(h.internet is None for h in seen[:-1]), "nothing made up before the first"
        first = seen[-1].internet
        assert first is not None and first.ok, first
        assert first.status == 200 and first.latency_ms is not None and first.latency_ms > 0

        internet.stop()
        outage = reports.until(failed_with("connect"), "a failed connection")[-1].internet
        assert outage is not None
        assert (outage.ok, outage.latency_ms, outage.status) == (False, None, None)
        assert outage.checked_at > first.checked_at

        internet.start()
        back = reports.until(lambda h: h.internet is not None and h.internet.ok, "back")[-1]
        assert back.internet is not None and back.internet.checked_at > outage.checked_at


def test_health_keeps_coming_while_the_page_hangs(
    broker: Mosquitto, reports: HealthReports, internet: InternetServer, tmp_path: Path
) -> None:
    internet.hold()  # before the agent starts: its first check is the one held
    # Only the release ends the held check: its own timeout lies beyond the
    # test, and so does the next check, so the first one to end is the held one.
    held = settings_for(internet, timeout=3600.0, interval=3600.0)
    with RunningAgent(broker.port, held, tmp_path / "j.json"):
        internet.wait_for_requests(1)
        arrived = time.time()
        # Reports the agent made while the server holds its request: taken
        # after the request arrived (their `ts`; time is compared here, never
        # waited for). Until the release, no check can have finished.
        meanwhile: list[Health] = []
        while len(meanwhile) < 3:
            health = reports.next()
            assert health.internet is None, "no check finished while the server holds it"
            if health.ts > arrived:
                meanwhile.append(health)
        assert internet.requests == 1, "one check at a time: none started while one hangs"
        internet.release()
        answered = reports.until(lambda h: h.internet is not None, "the held check's end")
        late = answered[-1].internet
        assert late is not None and late.ok and late.status == 200, late
        assert late.checked_at <= arrived, "the check that was held, not a later one"


def test_a_check_that_breaks_unexpectedly_is_reported_and_the_next_one_runs(
    broker: Mosquitto,
    reports: HealthReports,
    internet: InternetServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # internet_settings refuses this URL (above); built directly, it gets as
    # far as the request line, which http.client cannot write in ASCII.
    broken = settings_for(internet, url=f"{internet.url}bibliothèque")
    with (
        caplog.at_level("INFO", logger="ocrfleet_agent.internet"),
        RunningAgent(broker.port, broken, tmp_path / "j.json"),
    ):
        first = reports.until(lambda h: h.internet is not None, "a check in a report")
        report = first[-1].internet
        assert report is not None and (report.ok, report.error) == (False, "other"), report
        assert report.detail and report.detail.startswith("UnicodeEncodeError"), report
        # The thread lives on: the next check runs, and fails the same way.
        again = reports.until(
            lambda h: h.internet is not None and h.internet.checked_at > report.checked_at,
            "a later check",
        )[-1].internet
        assert again is not None and again.error == "other"
    tracebacks = [
        record
        for record in caplog.records
        if record.name == "ocrfleet_agent.internet" and record.exc_info
    ]
    assert len(tracebacks) == 1, "the traceback once, not every interval"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"resolve": "nonexistent.invalid"}, "dns"),
        ({"ca_file": None}, "tls"),
    ],
)
def test_health_reports_say_what_failed(
    broker: Mosquitto,
    reports: HealthReports,
    internet: InternetServer,
    tmp_path: Path,
    changes: dict[str, object],
    error: str,
) -> None:
    settings = settings_for(internet, **changes)
    with RunningAgent(broker.port, settings, tmp_path / "j.json"):
        seen = reports.until(lambda h: h.internet is not None, "a check in a report")
    report = seen[-1].internet
    assert report is not None and (report.ok, report.error) == (False, error)
    assert report.detail
    assert internet.requests == 0


def test_the_daemon_reads_the_agents_check(
    broker: Mosquitto, internet: InternetServer, tmp_path: Path
) -> None:
    labels = {"site": "lib", "device": "pc-01", "kind": "pc"}
    config = site_config(broker.port, tmp_path / "s.sqlite")
    agent = RunningAgent(broker.port, settings_for(internet), tmp_path / "j.json")
    with RunningApp(config) as daemon, agent:
        wait_for(
            lambda: value(daemon.scrape(), "ocrfleet_pc_internet_ok", **labels) == 1.0,
            what="the agent's check in the daemon's metrics",
        )
        latency = value(daemon.scrape(), "ocrfleet_pc_internet_latency_seconds", **labels)
        assert latency is not None and latency > 0
        internet.stop()
        wait_for(
            lambda: value(daemon.scrape(), "ocrfleet_pc_internet_ok", **labels) == 0.0,
            what="the failed check in the daemon's metrics",
        )


def test_the_systems_certificate_directory_is_trusted(
    internet: InternetServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system's CAs come from its hashed directory, read when a chain
    # needs one (not the whole bundle at once): a CA placed there is trusted.
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl program to hash the directory with")
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(internet.ca_file, certs / "internet-ca.pem")
    subprocess.run([openssl, "rehash", str(certs)], check=True)
    monkeypatch.setenv("SSL_CERT_DIR", str(certs))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert check_internet(settings_for(internet, ca_file=None)).ok
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))  # no certificates: not trusted
    assert check_internet(settings_for(internet, ca_file=None)).error == "tls"
