"""The guide's norms: the arithmetic, `ocrfleet norms`, and the ocrfleet_norm_* metrics."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ocrfleet.cli.common import load_catalog
from ocrfleet.cli.main import main
from ocrfleet.clock import ManualClock
from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.config.models import Config
from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import DeviceState
from ocrfleet.internet.judge import InternetJudge
from ocrfleet.metrics.fleetview import FleetViews
from ocrfleet.norms.collector import NormsCollector
from ocrfleet.norms.figures import at_least_one_per, devices_required, norm_figures
from ocrfleet.norms.live import live_states, metrics_url, parse_states
from ocrfleet.state import FleetState
from tests.test_docs import EXAMPLE_SECRETS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
BRUSSELS = ZoneInfo("Europe/Brussels")
# A Monday morning: every site below is open; the Sunday after: all closed.
MONDAY = datetime(2026, 10, 5, 10, 0, tzinfo=BRUSSELS).timestamp()
SUNDAY = datetime(2026, 10, 11, 10, 0, tzinfo=BRUSSELS).timestamp()
HOURS = {"mon": ["09:00-17:00"]}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib honours http_proxy; the servers here are on loopback.
    monkeypatch.setenv("no_proxy", "*")


def _pcs(count: int, free: int, kind: str = "pc") -> list[dict[str, Any]]:
    return [
        {"id": f"{kind}-{n:02d}", "kind": kind, "reservable": n > free} for n in range(1, count + 1)
    ]


def _site(site_id: str, core: str, devices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": site_id,
        "name": site_id.title(),
        "village_core": core,
        "opening_hours": HOURS,
        "devices": devices,
    }


def _load(adults: int, sites: list[dict[str, Any]]) -> LoadedConfig:
    data = {"municipality": {"name": "Testdorp", "adult_population": adults}, "sites": sites}
    return load_config(data, load_catalog().kinds)


def vlaminggem() -> LoadedConfig:
    """The guide's example town: 11,793 adults, four cores, 11 PCs and 10 lesson laptops."""
    hotspot = {"id": "wifi-01", "kind": "hotspot", "options": {"host": "192.0.2.1"}}
    return _load(
        11_793,
        [
            _site("library", "Vlaminggem", [*_pcs(3, 2), *_pcs(10, 0, "laptop"), hotspot]),
            _site("welfare", "Vlaminggem", _pcs(2, 1)),
            _site("zonnedorp", "Zonnedorp", _pcs(2, 2)),
            _site("boskerke", "Boskerke", _pcs(2, 2)),
            _site("overbrugge", "Overbrugge", _pcs(2, 2)),
        ],
    )


def seat_kinds() -> frozenset[str]:
    return frozenset(name for name, kind in load_catalog().kinds.items() if kind.is_seat)


# -- the arithmetic -----------------------------------------------------------


def test_at_least_one_per_rounds_up_exactly_on_integers() -> None:
    assert [at_least_one_per(n, 2_500) for n in (0, 1, 2_500, 2_501, 5_000, 11_793)] == [
        0,
        1,
        1,
        2,
        2,
        5,
    ]
    assert devices_required(11_793, 4) == 5
    assert devices_required(11_793, 7) == 7
    assert devices_required(0, 0) == 0


def test_vlaminggem_figures_match_the_guide() -> None:
    loaded = vlaminggem()
    figures = norm_figures(loaded.config, loaded.devices, seat_kinds())
    devices = figures.devices
    assert devices.exact == pytest.approx(4.7172)
    assert (devices.by_population, devices.by_village_cores, devices.required) == (5, 4, 5)
    # Lesson laptops and reservable PCs are public devices too; the hotspot is not.
    assert devices.configured == 21
    assert dict(devices.configured_by_kind) == {"laptop": 10, "pc": 11}
    assert devices.ok and devices.now is None and devices.ok_now is None
    assert [(c.name, c.configured) for c in figures.village_cores] == [
        ("Boskerke", 2),
        ("Overbrugge", 2),
        ("Vlaminggem", 15),
        ("Zonnedorp", 2),
    ]
    assert [(s.site, s.seats, s.unreserved) for s in figures.unreserved] == [
        ("library", 13, 2),
        ("welfare", 2, 1),
        ("zonnedorp", 2, 2),
        ("boskerke", 2, 2),
        ("overbrugge", 2, 2),
    ]
    assert figures.guidance.exact == pytest.approx(2.3586)
    assert figures.guidance.half_days_per_week == 3
    assert figures.guidance.hours_per_week == 15.0  # 3 x (4 h + 1 h coordination)
    lessons = figures.lessons
    assert lessons.half_days_per_month == 3
    assert (
        lessons.teaching_hours_per_month,
        lessons.preparation_hours_per_month,
        lessons.coordination_hours_per_month,
        lessons.hours_per_month,
    ) == (12.0, 12.0, 12.0, 36.0)
    assert lessons.hours_per_week == pytest.approx(36 * 12 / 52)
    assert figures.staff_hours_per_week == pytest.approx(
        {
            "technical_maintenance": 21 * 12 / 52,
            "visitor_support": 10.5,
            "opening_closing": 10.5,
            "guidance": 15.0,
            "group_lessons": 36 * 12 / 52,
        }
    )


def test_only_seat_kinds_count_as_public_devices() -> None:
    loaded = vlaminggem()
    figures = norm_figures(loaded.config, loaded.devices, {"pc"})
    assert figures.devices.configured == 11
    assert figures.staff_hours_per_week["visitor_support"] == 5.5


def test_no_adults_leaves_one_device_per_village_core_and_no_staff_time_for_people() -> None:
    loaded = _load(0, [_site("a", "A", _pcs(1, 1)), _site("b", "B", _pcs(1, 1))])
    figures = norm_figures(loaded.config, loaded.devices, seat_kinds())
    assert (figures.devices.by_population, figures.devices.required) == (0, 2)
    assert figures.devices.ok
    assert figures.guidance.half_days_per_week == 0
    assert figures.lessons.half_days_per_month == 0
    assert figures.staff_hours_per_week["guidance"] == 0.0
    assert figures.staff_hours_per_week["group_lessons"] == 0.0
    assert figures.staff_hours_per_week["visitor_support"] == 1.0


def test_sites_without_seats_fall_short_and_have_no_unreserved_seat_rule() -> None:
    printer = {"id": "printer-01", "kind": "printer", "options": {"host": "192.0.2.2"}}
    loaded = _load(2_600, [_site("a", "A", [printer]), _site("b", "B", [])])
    figures = norm_figures(loaded.config, loaded.devices, seat_kinds())
    assert (figures.devices.required, figures.devices.configured) == (2, 0)
    assert not figures.devices.ok
    assert [(c.name, c.ok) for c in figures.village_cores] == [("A", False), ("B", False)]
    assert figures.unreserved == ()
    assert figures.staff_hours_per_week["technical_maintenance"] == 0.0


def test_a_site_whose_every_seat_is_reservable_falls_short() -> None:
    loaded = _load(100, [_site("a", "A", _pcs(3, 0))])
    (site,) = norm_figures(loaded.config, loaded.devices, seat_kinds()).unreserved
    assert (site.seats, site.unreserved, site.ok) == (3, 0, False)


def test_usable_now_counts_up_and_closed_seats_apart() -> None:
    loaded = _load(5_001, [_site("a", "A", _pcs(3, 1)), _site("b", "B", _pcs(1, 1))])
    states = {
        DeviceKey("a", "pc-01"): DeviceState.DOWN,
        DeviceKey("a", "pc-02"): DeviceState.UP,
        DeviceKey("a", "pc-03"): DeviceState.SCHEDULED_OFF,
        # b/pc-01 missing: the daemon does not report it
    }
    figures = norm_figures(loaded.config, loaded.devices, seat_kinds(), states)
    devices = figures.devices
    assert devices.now is not None
    assert (devices.now.up, devices.now.scheduled_off, devices.now.total) == (1, 1, 2)
    assert (devices.required, devices.ok, devices.ok_now) == (3, True, False)
    site_a, site_b = figures.unreserved
    assert site_a.now is not None and site_a.now.total == 0  # its one free PC is down
    assert (site_a.ok, site_a.ok_now) == (True, False)
    assert site_b.ok_now is False
    core_a = figures.village_cores[0]
    assert (core_a.name, core_a.ok_now) == ("A", True)


# -- reading the daemon's /metrics --------------------------------------------

METRICS_TEXT = """\
# HELP ocrfleet_device_state The device's state
# TYPE ocrfleet_device_state gauge
ocrfleet_device_state{site="a",device="pc-01",kind="pc",state="up",reason="answering"} 1.0
ocrfleet_device_state{site="a",device="pc-02",kind="pc",state="scheduled_off",reason="closed"} 1.0
ocrfleet_device_state{site="a",device="pc-03",kind="pc",state="sleeping",reason="x"} 1.0
ocrfleet_device_state{site="b",device="pc-01",kind="pc",state="down",reason="offline"} 1.0
# HELP ocrfleet_device_up up
# TYPE ocrfleet_device_up gauge
ocrfleet_device_up{site="a",device="pc-03",kind="pc"} 1.0
"""


def test_metrics_url_reaches_a_daemon_on_every_address_through_loopback() -> None:
    assert metrics_url("0.0.0.0", 9330) == "http://127.0.0.1:9330/metrics"
    assert metrics_url("::", 9330) == "http://[::1]:9330/metrics"
    assert metrics_url("fd00::5", 80) == "http://[fd00::5]:80/metrics"
    assert metrics_url("ocr.example.org", 9330) == "http://ocr.example.org:9330/metrics"
    assert metrics_url("127.0.0.1", 0) is None


def test_parse_states_keeps_known_states_of_ocrfleet_device_state_only() -> None:
    assert parse_states(METRICS_TEXT) == {
        DeviceKey("a", "pc-01"): DeviceState.UP,
        DeviceKey("a", "pc-02"): DeviceState.SCHEDULED_OFF,
        DeviceKey("b", "pc-01"): DeviceState.DOWN,
    }


class _Metrics:
    """A tiny real HTTP server answering every GET with `body`."""

    def __init__(self, body: str, status: int = 200) -> None:
        body_bytes = body.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body_bytes)))
                self.end_headers()
                self.wfile.write(body_bytes)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Metrics:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def dead_url() -> str:
    # A port nobody listens on: bound, then released.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/metrics"


def test_live_states_from_a_real_server_and_why_not_without_one(dead_url: str) -> None:
    with _Metrics(METRICS_TEXT) as server:
        live = live_states(server.url)
    assert live.error is None and live.states is not None
    assert live.states[DeviceKey("a", "pc-02")] is DeviceState.SCHEDULED_OFF
    gone = live_states(dead_url)
    assert (gone.url, gone.states) == (dead_url, None)
    assert gone.error
    with _Metrics("not found", status=404) as server:
        assert live_states(server.url).error == "HTTP 404"
    with _Metrics('{"ok": true}') as server:
        assert live_states(server.url).error == "not a Prometheus metrics page"
    assert live_states(None).error == "http.port is 0; give --metrics-url"


# -- the CLI ------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["norms", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _row(out: str, rule: str) -> list[str]:
    for line in out.splitlines():
        if line.startswith(rule + "  "):
            return re.split(r" {2,}", line[len(rule) :].strip())
    raise AssertionError(f"no row {rule!r} in:\n{out}")


@pytest.fixture
def example_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in EXAMPLE_SECRETS.items():
        monkeypatch.setenv(name, value)


def _example_states() -> str:
    # The example config at a moment the main library is open with one free
    # PC down, and the other sites closed.
    lines = ["# TYPE ocrfleet_device_state gauge"]
    states = {
        ("vlaminggem-library", "pc-01"): "down",
        ("vlaminggem-library", "pc-02"): "up",
        ("vlaminggem-library", "pc-03"): "up",
        ("vlaminggem-welfare", "pc-01"): "scheduled_off",
        ("vlaminggem-welfare", "pc-02"): "scheduled_off",
        ("zonnedorp-library", "pc-01"): "scheduled_off",
        ("zonnedorp-library", "pc-02"): "scheduled_off",
        ("boskerke-service-centre", "pc-01"): "down",
        ("boskerke-service-centre", "pc-02"): "down",
        ("overbrugge-neighbourhood-house", "pc-01"): "scheduled_off",
        ("overbrugge-neighbourhood-house", "pc-02"): "scheduled_off",
    }
    states |= {("vlaminggem-library", f"laptop-{n:02d}"): "down" for n in range(1, 11)}
    for (site, device), state in states.items():
        lines.append(
            f'ocrfleet_device_state{{site="{site}",device="{device}",state="{state}"}} 1.0'
        )
    return "\n".join(lines) + "\n"


@pytest.mark.usefixtures("example_secrets")
def test_cli_on_the_example_config_with_a_live_daemon(capsys: pytest.CaptureFixture[str]) -> None:
    with _Metrics(_example_states()) as server:
        code, out, err = cli(capsys, "-c", str(EXAMPLE), "--metrics-url", server.url)
    assert code == 0, err
    assert out.startswith("Vlaminggem: 11,793 adults, 4 village cores, 5 sites\n")
    assert f"now: as the daemon at {server.url} reports it" in out
    assert _row(out, "public devices") == [
        "guide: Norms — Devices",
        "5",
        "21",
        "2 up, 6 closed",
        "OK",
    ]
    assert _row(out, "device in village core Boskerke")[-2:] == ["0 up, 0 closed", "short now"]
    assert _row(out, "unreserved seat at vlaminggem-library") == [
        "guide: What a room has — Reservation",
        "1",
        "2 of 13",
        "1 up, 0 closed",
        "OK",
    ]
    assert _row(out, "one-to-one guidance") == [
        "guide: Norms — One-to-one guidance",
        "3 half-days/week",
        "15.0",
    ]
    assert _row(out, "technical maintenance")[-2:] == ["1 h/device/month x 21", "4.8"]
    assert _row(out, "total") == ["49.2"]
    assert "11,793 adults / 2,500 = 4.72, rounded up: 5" in out
    for secret in EXAMPLE_SECRETS.values():
        assert secret not in out


@pytest.mark.usefixtures("example_secrets")
def test_cli_json_on_the_example_config_without_a_daemon(
    capsys: pytest.CaptureFixture[str], dead_url: str
) -> None:
    code, out, err = cli(capsys, "-c", str(EXAMPLE), "--json", "--metrics-url", dead_url)
    assert code == 0, err
    report = json.loads(out)
    assert set(report) == {
        "municipality",
        "daemon",
        "devices",
        "village_cores",
        "unreserved_seats",
        "guidance",
        "group_lessons",
        "device_tasks",
        "staff_hours_per_week",
    }
    assert report["municipality"] == {
        "name": "Vlaminggem",
        "adult_population": 11_793,
        "village_cores": ["Boskerke", "Overbrugge", "Vlaminggem", "Zonnedorp"],
        "sites": 5,
    }
    assert report["daemon"]["url"] == dead_url
    assert report["daemon"]["reachable"] is False and report["daemon"]["error"]
    assert report["devices"] == {
        "source": "guide: Norms — Devices",
        "exact": 4.7172,
        "by_population": 5,
        "by_village_cores": 4,
        "required": 5,
        "configured": 21,
        "configured_by_kind": {"laptop": 10, "pc": 11},
        "now": None,
        "ok": True,
        "ok_now": None,
    }
    assert report["unreserved_seats"][1] == {
        "site": "vlaminggem-welfare",
        "name": "Buurthuis op de zorgcampus",
        "source": "guide: What a room has — Reservation",
        "required": 1,
        "seats": 2,
        "configured": 1,
        "now": None,
        "ok": True,
        "ok_now": None,
    }
    assert report["guidance"]["half_days_per_week"] == 3
    assert report["guidance"]["hours_per_week"] == 15.0
    assert report["group_lessons"]["hours_per_month"] == 36.0
    assert report["group_lessons"]["hours_per_week"] == 8.3077
    assert report["staff_hours_per_week"] == {
        "technical_maintenance": 4.8462,
        "visitor_support": 10.5,
        "opening_closing": 10.5,
        "guidance": 15.0,
        "group_lessons": 8.3077,
        "total": 49.1538,
    }
    assert [task["task"] for task in report["device_tasks"]] == [
        "technical_maintenance",
        "visitor_support",
        "opening_closing",
    ]


@pytest.mark.usefixtures("example_secrets")
def test_cli_reads_the_daemon_where_the_config_says_it_listens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = cli(capsys, "-c", str(EXAMPLE), "--json")
    assert code == 0
    # listen = "0.0.0.0": reached on loopback; whether a daemon answers there is not ours.
    assert json.loads(out)["daemon"]["url"] == "http://127.0.0.1:9330/metrics"


def test_cli_on_the_demo_with_a_live_daemon(capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "# TYPE ocrfleet_device_state gauge\n"
        'ocrfleet_device_state{site="zonnedorp-library",device="pc-01",state="up"} 1.0\n'
        'ocrfleet_device_state{site="vlaminggem-library",device="laptop-01",state="up"} 1.0\n'
    )
    with _Metrics(text) as server:
        code, out, err = cli(capsys, "--json", "--metrics-url", server.url)
    assert code == 0, err
    report = json.loads(out)
    assert report["daemon"] == {"url": server.url, "reachable": True, "error": None}
    assert report["devices"]["now"] == {"up": 2, "scheduled_off": 0, "usable": 2, "no_internet": 0}
    assert (report["devices"]["ok"], report["devices"]["ok_now"]) == (True, False)
    assert report["devices"]["configured_by_kind"] == {"laptop": 10, "pc": 11}


def test_cli_does_not_count_seats_at_a_site_without_internet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/internet.md: the guide counts public computers with an internet connection."""
    text = (
        "# TYPE ocrfleet_device_state gauge\n"
        'ocrfleet_device_state{site="zonnedorp-library",device="pc-01",state="up"} 1.0\n'
        'ocrfleet_device_state{site="zonnedorp-library",device="pc-02",state="up"} 1.0\n'
        'ocrfleet_device_state{site="vlaminggem-library",device="laptop-01",state="up"} 1.0\n'
        "# TYPE ocrfleet_site_internet_up gauge\n"
        'ocrfleet_site_internet_up{site="zonnedorp-library"} 0.0\n'
        'ocrfleet_site_internet_up{site="vlaminggem-library"} 1.0\n'
    )
    with _Metrics(text) as server:
        code, out, err = cli(capsys, "--json", "--metrics-url", server.url)
        assert code == 0, err
        report = json.loads(out)
        assert report["devices"]["now"] == {
            "up": 1,
            "scheduled_off": 0,
            "usable": 1,
            "no_internet": 2,
        }
        # Only the municipal norm leaves them out: a village core's and a site's
        # seats without reservation stay about the devices (docs/internet.md).
        [zonnedorp] = [c for c in report["village_cores"] if c["village_core"] == "Zonnedorp"]
        assert zonnedorp["now"] == {"up": 2, "scheduled_off": 0, "usable": 2, "no_internet": 0}
        assert zonnedorp["ok_now"] is True
        [library] = [s for s in report["unreserved_seats"] if s["site"] == "zonnedorp-library"]
        assert library["now"]["no_internet"] == 0
        assert (library["now"]["usable"], library["ok_now"]) == (2, True)
        code, out, err = cli(capsys, "--metrics-url", server.url)
    assert code == 0, err
    assert "1 up, 0 closed, 2 no internet" in next(
        line for line in out.splitlines() if line.startswith("public devices")
    )


def test_cli_on_the_demo_without_a_daemon(
    capsys: pytest.CaptureFixture[str], dead_url: str
) -> None:
    code, out, err = cli(capsys, "--metrics-url", dead_url)
    assert code == 0, err
    assert f"now: unknown (daemon not reachable at {dead_url}: " in out
    assert _row(out, "public devices")[-2:] == ["unknown", "OK"]


def test_cli_on_the_demo_looks_for_the_demo_daemon(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--json")
    assert code == 0
    assert json.loads(out)["daemon"]["url"] == "http://127.0.0.1:9330/metrics"


def test_cli_says_unknown_when_the_daemon_has_none_of_the_seats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _Metrics(METRICS_TEXT) as server:
        code, out, _ = cli(capsys, "--json", "--metrics-url", server.url)
    assert code == 0
    daemon = json.loads(out)["daemon"]
    assert daemon["reachable"] is False
    assert daemon["error"] == "reports none of the configured seats"
    with _Metrics(METRICS_TEXT) as server:
        code, out, _ = cli(capsys, "--metrics-url", server.url)
    assert f"now: unknown (the daemon at {server.url} reports none of the configured seats)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metrics-url", "localhost:9330"], "expected an http:// or https:// URL"),
        (["--metrics-url", "http://127.0.0.1:99999/metrics"], "Port out of range"),
        (["--metrics-url", "http://[::1/metrics"], "Invalid IPv6 URL"),
        (["-c", "/nonexistent/ocrfleet.toml"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = cli(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("ocrfleet norms: ") and message in err


def test_an_invalid_config_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[municipality]\nname = "X"\nadult_population = -1\n')
    code, _, err = cli(capsys, "-c", str(path))
    assert code == 2
    assert err.count("\n") == 1
    assert "municipality.adult_population" in err and "check-config" in err


# -- the metrics --------------------------------------------------------------


def _collector(
    config: Callable[[], Config], state: FleetState, clock: ManualClock
) -> NormsCollector:
    kinds = load_catalog().kinds
    views = FleetViews(config, lambda: state, kinds, InternetJudge(kinds), clock)
    return NormsCollector(views.current, kinds)


def _scrape(collector: NormsCollector) -> dict[tuple[str, tuple[str, ...]], float]:
    found = {}
    for family in collector.collect():
        for sample in family.samples:
            found[(sample.name, tuple(sample.labels.values()))] = sample.value
    return found


def test_collector_exports_the_figures_and_the_seats_usable_now() -> None:
    loaded = vlaminggem()
    state = FleetState(loaded.devices, {})
    clock = ManualClock(MONDAY)
    state.record_heartbeat(DeviceKey("library", "pc-01"), MONDAY)
    state.record_heartbeat(DeviceKey("welfare", "pc-02"), MONDAY)
    collector = _collector(lambda: loaded.config, state, clock)
    got = _scrape(collector)
    assert got[("ocrfleet_norm_adult_population", ())] == 11_793
    assert got[("ocrfleet_norm_devices_required", ())] == 5
    assert got[("ocrfleet_norm_devices_configured", ())] == 21
    assert got[("ocrfleet_norm_devices_usable", ("up",))] == 2
    assert got[("ocrfleet_norm_devices_usable", ("scheduled_off",))] == 0
    assert got[("ocrfleet_norm_village_core_devices", ("Vlaminggem",))] == 15
    assert got[("ocrfleet_norm_guidance_half_day_slots_per_week", ())] == 3
    assert got[("ocrfleet_norm_group_lesson_half_day_slots_per_month", ())] == 3
    weekly = "ocrfleet_norm_weekly_staff_time_seconds"
    staff = {k[1][0]: v / 3600 for k, v in got.items() if k[0] == weekly}
    assert staff == pytest.approx(
        {
            "technical_maintenance": 21 * 12 / 52,
            "visitor_support": 10.5,
            "opening_closing": 10.5,
            "guidance": 15.0,
            "group_lessons": 36 * 12 / 52,
        }
    )
    assert got[("ocrfleet_norm_unreserved_seats", ("library",))] == 2
    assert got[("ocrfleet_norm_unreserved_seats", ("welfare",))] == 1
    assert got[("ocrfleet_norm_unreserved_seats_usable", ("library", "up"))] == 1
    # welfare's one free PC was never heard from; its reservable one is up.
    assert got[("ocrfleet_norm_unreserved_seats_usable", ("welfare", "up"))] == 0

    clock.set(SUNDAY)  # every site closed: silent seats are scheduled_off, not gone
    got = _scrape(collector)
    assert got[("ocrfleet_norm_devices_usable", ("up",))] == 2
    assert got[("ocrfleet_norm_devices_usable", ("scheduled_off",))] == 19
    assert got[("ocrfleet_norm_unreserved_seats_usable", ("welfare", "scheduled_off"))] == 1


def test_collector_follows_a_new_configuration() -> None:
    configs = [vlaminggem()]
    state = FleetState(configs[0].devices, {})
    collector = _collector(lambda: configs[-1].config, state, ManualClock(MONDAY))
    assert _scrape(collector)[("ocrfleet_norm_devices_required", ())] == 5
    smaller = _load(30_000, [_site("a", "A", _pcs(1, 0))])
    configs.append(smaller)
    state.replace_devices(smaller.devices, {})
    got = _scrape(collector)
    assert got[("ocrfleet_norm_devices_required", ())] == 12
    assert got[("ocrfleet_norm_devices_configured", ())] == 1
    assert got[("ocrfleet_norm_unreserved_seats", ("a",))] == 0
    assert ("ocrfleet_norm_unreserved_seats", ("library",)) not in got


def test_docs_list_every_top_level_json_key(
    capsys: pytest.CaptureFixture[str], dead_url: str
) -> None:
    text = (ROOT / "docs" / "norms.md").read_text(encoding="utf-8")
    section = text[text.index("\n## JSON output\n") : text.index("\n## Metrics\n")]
    documented = set(re.findall(r"^\| `(\w+)(?:\[\])?` \|", section, re.MULTILINE))
    code, out, _ = cli(capsys, "--json", "--metrics-url", dead_url)
    assert code == 0
    assert documented == set(json.loads(out))
