"""The third-party example of docs/plugins.md, a people counter read over HTTP, end to end.

The test writes the distribution's files from the document's section,
installs it as pip would (its package and a .dist-info with the entry point
on the path), and runs it: loaded through its entry point in a daemon
polling a real HTTP server on 127.0.0.1, by `ocrfleet plugins`, `probe` and
`export-monitoring`, with promtool on its rules and a real Prometheus
running its dashboard's queries.

The code between the two `example plugin` marker lines is the body of the
module the document shows, kept here too so that mypy and ruff check it;
test_docs_show_this_code keeps the two the same.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ocrfleet.apiversion import API_VERSION
from ocrfleet.plugin import (
    Aggregation,
    AlertRule,
    DeviceDownRule,
    DeviceKind,
    FigureSpec,
    HttpDeviceOptions,
    MetricSpec,
    MonitoringAsset,
    PollError,
    Sample,
    hookimpl,
    packaged_assets,
)
from tests.support.daemon import (
    RunningApp,
    Samples,
    catalog,
    series_of,
    site_config,
    value,
    wait_for,
)
from tests.support.imports import imported_names
from tests.support.mosquitto import Mosquitto, free_port
from tests.support.prometheus import Prometheus

if TYPE_CHECKING:
    from ocrfleet.plugin import DeviceInfo, DeviceView, HttpClient

# --- example plugin: begin ---

OCRFLEET_PLUGIN_API = "1.4"

ENTRIES = "ocrfleet_people_counter_entries_total"
EXITS = "ocrfleet_people_counter_exits_total"
OCCUPANCY = "ocrfleet_people_counter_occupancy"
BATTERY = "ocrfleet_people_counter_battery_ratio"


class PeopleCounterOptions(HttpDeviceOptions):
    """The `options` table of a people counter: `url` and the other HTTP options, and this."""

    count_path: str = Field(
        default="api/v1/count", description="the count document, relative to `url`"
    )


class CountDocument(BaseModel):
    """The counter's answer. Fields it does not declare (serial, firmware, ...) are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    entries: int = Field(alias="in", ge=0)
    exits: int = Field(alias="out", ge=0)
    occupancy: int
    battery: float | None = Field(default=None, ge=0, le=1)


class PeopleCounterKind(DeviceKind):
    name: ClassVar[str] = "people_counter"
    description: ClassVar[str] = "door people counter read over HTTP (GET api/v1/count, JSON)"
    source: ClassVar[str | None] = "http"
    options_model: ClassVar[type[BaseModel]] = PeopleCounterOptions
    # Nobody services a door counter every month; it only needs new batteries.
    monthly_maintenance: ClassVar[bool] = False
    metric_specs: ClassVar[Sequence[MetricSpec]] = (
        MetricSpec(ENTRIES, "People counted coming in since the counter was reset.", "counter"),
        MetricSpec(EXITS, "People counted going out since the counter was reset.", "counter"),
        MetricSpec(OCCUPANCY, "People inside now, as the counter reckons it."),
        MetricSpec(BATTERY, "Counter battery, 0-1; absent for a counter on mains power."),
    )
    figure_specs: ClassVar[Sequence[FigureSpec]] = (
        FigureSpec("visitors", "Visitors", ENTRIES, Aggregation.INCREASE),
    )

    async def poll(self, device: DeviceInfo, client: HttpClient, previous: object | None) -> object:
        options: PeopleCounterOptions = device.options
        document = await client.get_json(options.count_path)
        try:
            return CountDocument.model_validate(document)
        except ValidationError as exc:
            error = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in error["loc"]) or "document"
            raise PollError("protocol", f"{options.count_path}: {where}: {error['msg']}") from None

    def samples(self, device: DeviceView) -> Iterable[Sample]:
        count = device.reading
        if not isinstance(count, CountDocument):
            return  # not polled yet
        # Counters stay while the counter does not answer; what it said
        # about now (occupancy, battery) is no longer current.
        yield Sample(ENTRIES, count.entries)
        yield Sample(EXITS, count.exits)
        if device.failure is not None:
            return
        # An exit counted twice must not show fewer than nobody inside.
        yield Sample(OCCUPANCY, max(count.occupancy, 0))
        if count.battery is not None:
            yield Sample(BATTERY, count.battery)

    def describe(self, reading: object) -> str:
        if not isinstance(reading, CountDocument):
            return repr(reading)
        battery = f"{reading.battery:.0%}" if reading.battery is not None else "mains"
        return (
            f"{reading.entries} in, {reading.exits} out, {reading.occupancy} inside, "
            f"battery {battery}"
        )


@hookimpl
def ocrfleet_device_kinds() -> Sequence[DeviceKind]:
    return [PeopleCounterKind()]


@hookimpl
def ocrfleet_alert_rules() -> Sequence[AlertRule]:
    return [
        DeviceDownRule(
            kind="people_counter",
            name="people_counter_down",
            category="hardware",
            summary="people counter {device} does not answer ({reason})",
        )
    ]


@hookimpl
def ocrfleet_monitoring_assets() -> Sequence[MonitoringAsset]:
    return packaged_assets("ocrfleet_people_counter")


# --- example plugin: end ---

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "plugins.md"
SECTION = "Example: a people counter over HTTP"
MODULE = "ocrfleet_people_counter"
PLUGIN_NAME = "people_counter"
COUNT_PATH = "/api/v1/count"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# What the made-up counter of the document answers.
COUNT = {"serial": "DC-0042", "in": 1234, "out": 1200, "occupancy": 34, "battery": 0.8}

_FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w+\n(.*?)\n```\n", re.DOTALL)


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {SECTION}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def documented_files() -> dict[str, str]:
    """The distribution's files, by path, as the document shows them."""
    return {path: body + "\n" for path, body in _FILE_BLOCK.findall(section())}


def documented_module() -> str:
    return documented_files()[f"{MODULE}/__init__.py"]


# -- a real counter -----------------------------------------------------------------------


class CountServer:
    """A people counter's web server on 127.0.0.1: each path answers what it was told."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[int, bytes]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._running = False

    def answer(self, path: str, body: object, status: int = 200) -> None:
        with self._lock:
            self._answers[path] = (status, json.dumps(body).encode())

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    status, body = server._answers.get(
                        self.path, (404, b'{"error": "no such path"}')
                    )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test's output is for failures

        return Handler

    def start(self) -> None:
        self._thread.start()
        self._running = True

    def stop(self) -> None:
        """Stop listening: the port refuses connections from now on."""
        if self._running:
            self._server.shutdown()
            self._running = False
        self._server.server_close()

    def __enter__(self) -> CountServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the distribution, installed --------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    """The distribution written from the document, on the path as an installed one is."""

    path: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """An `ocrfleet` command in a fresh interpreter that finds the distribution."""
        return subprocess.run(
            [sys.executable, "-m", "ocrfleet", *args],
            env={**os.environ, "PYTHONPATH": str(self.path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def install(root: Path) -> None:
    """Write the documented files under `root` and a .dist-info as pip would."""
    files = documented_files()
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    project = tomllib.loads(files["pyproject.toml"])["project"]
    name, version = project["name"], project["version"]
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    points = "".join(
        f"{key} = {target}\n" for key, target in project["entry-points"]["ocrfleet"].items()
    )
    (info / "entry_points.txt").write_text(f"[ocrfleet]\n{points}")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installed]:
    root = tmp_path / "ocrfleet-people-counter"
    install(root)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    yield Installed(root)
    # Loaded through the entry point; gone with the path it came from.
    sys.modules.pop(MODULE, None)


def counter(device_id: str, url: str, **options: Any) -> dict[str, Any]:
    return {
        "id": device_id,
        "kind": "people_counter",
        "options": {"url": url, "poll_interval": 5, "timeout": 1, **options},
    }


def daemon_config(
    broker: Mosquitto, tmp_path: Path, devices: list[dict[str, Any]]
) -> dict[str, Any]:
    config = site_config(broker.port, tmp_path / "s.sqlite", devices)
    # Open all day: a counter that fails is then down, not off for the night.
    config["sites"][0]["opening_hours"] = ALWAYS_OPEN
    config["alerting"] = {
        "evaluation_interval": 0.5,
        "rules": {"people_counter_down": {"for": 0, "resolve_after": 0}},
    }
    return config


def labels(device: str) -> dict[str, str]:
    return {"site": "lib", "device": device, "kind": "people_counter"}


def state(samples: Samples, device: str) -> tuple[str, str] | None:
    """The device's (state, reason) from ocrfleet_device_state."""
    for series in series_of(samples, "ocrfleet_device_state"):
        if series["device"] == device:
            return series["state"], series["reason"]
    return None


def firing(samples: Samples, alertname: str, device: str) -> bool:
    return any(
        s["alertname"] == alertname and s["device"] == device
        for s in series_of(samples, "ocrfleet_alert_firing")
    )


# -- the document's code --------------------------------------------------------------------


def test_the_module_imports_nothing_of_ocrfleet_but_the_plugin_api() -> None:
    tree = ast.parse(documented_module())
    modules = {module for module, _ in imported_names(tree)}
    assert {m for m in modules if m.split(".")[0] == "ocrfleet"} == {"ocrfleet.plugin"}
    # And nothing of another plugin, nor of the tests.
    assert not {m for m in modules if m.startswith(("ocrfleet_", "tests"))}


def test_docs_show_this_code() -> None:
    documented = documented_module()
    source = Path(__file__).read_text(encoding="utf-8")
    region = source.split("# --- example plugin: begin ---\n", 1)[1]
    region = region.split("# --- example plugin: end ---", 1)[0]
    # The document's module: a docstring and its imports, then the same code as here.
    body = documented.index(f'\nOCRFLEET_PLUGIN_API = "{API_VERSION}"\n')
    assert documented[body:].strip() == region.strip()
    assert imported_names(ast.parse(documented)) <= imported_names(ast.parse(source))


def test_the_distribution_ships_its_monitoring_files() -> None:
    files = documented_files()
    pyproject = tomllib.loads(files["pyproject.toml"])
    assert pyproject["project"]["entry-points"]["ocrfleet"] == {PLUGIN_NAME: MODULE}
    patterns = pyproject["tool"]["setuptools"]["package-data"][MODULE]
    shipped = [
        name.removeprefix(f"{MODULE}/")
        for name in files
        if name.startswith(f"{MODULE}/monitoring/")
    ]
    assert len(shipped) == 3
    for name in shipped:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


# -- installed and running ---------------------------------------------------------------


def test_it_loads_through_its_entry_point(installed: Installed) -> None:
    plugins = catalog()  # only the installed plugins: this one among them
    assert plugins.kind_owner[PLUGIN_NAME] == PLUGIN_NAME
    kind = plugins.kinds[PLUGIN_NAME]
    assert kind.source == "http" and issubclass(kind.options_model, HttpDeviceOptions)
    assert not kind.monthly_maintenance
    assert plugins.rule_owner["people_counter_down"] == PLUGIN_NAME

    listed = installed.run("plugins")
    assert listed.returncode == 0, listed.stderr
    header = f"{PLUGIN_NAME} 0.1.0 (plugin API {API_VERSION})"
    block = listed.stdout.split(f"{header}\n", 1)[1].split("\n", 4)[:4]
    assert block == [
        f"  kinds: {PLUGIN_NAME}",
        "  rules: people_counter_down",
        f"    {PLUGIN_NAME}: {kind.description}",
        "      source: http",
    ]
    assert "\n".join([header, *block]) in section()


def test_a_plugin_for_another_api_version_is_refused(installed: Installed) -> None:
    module = installed.path / MODULE / "__init__.py"
    module.write_text(
        module.read_text().replace('OCRFLEET_PLUGIN_API = "1.4"', 'OCRFLEET_PLUGIN_API = "2.0"')
    )
    result = installed.run("plugins")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"ocrfleet: plugin '{PLUGIN_NAME}' was written for plugin API 2.0, "
        f"but this ocrfleet offers plugin API {API_VERSION}"
    )


def test_counters_polled_end_to_end(
    installed: Installed, broker: Mosquitto, tmp_path: Path
) -> None:
    with CountServer() as door, CountServer() as hall:
        door.answer(COUNT_PATH, COUNT)
        # A counter that answers, but not a count document.
        hall.answer("/status", {"in": "many", "out": 3, "occupancy": 1})
        gone = f"http://127.0.0.1:{free_port()}/"  # nobody listens there
        devices = [
            counter("door", door.url),
            counter("hall", hall.url, count_path="status"),
            counter("gone", gone),
        ]
        with RunningApp(daemon_config(broker, tmp_path, devices), catalog()) as daemon:

            def all_polled() -> bool:
                samples = daemon.scrape()
                return (
                    state(samples, "door") == ("up", "answering")
                    and state(samples, "hall") == ("down", "protocol")
                    and state(samples, "gone") == ("down", "refused")
                )

            wait_for(all_polled, timeout=30, what="a poll of every counter")
            samples = daemon.scrape()
            door_labels = labels("door")
            assert value(samples, "ocrfleet_device_up", **door_labels) == 1.0
            assert value(samples, "ocrfleet_people_counter_entries_total", **door_labels) == 1234
            assert value(samples, "ocrfleet_people_counter_exits_total", **door_labels) == 1200
            assert value(samples, "ocrfleet_people_counter_occupancy", **door_labels) == 34
            assert value(samples, "ocrfleet_people_counter_battery_ratio", **door_labels) == 0.8
            for device in ("hall", "gone"):
                assert value(samples, "ocrfleet_device_up", **labels(device)) == 0.0
                names = {name for name, _ in samples if name.startswith("ocrfleet_people_counter_")}
                for name in names:
                    assert [s for s in series_of(samples, name) if s["device"] == device] == []
            polls = {"source": "http", "kind": PLUGIN_NAME}
            assert value(samples, "ocrfleet_poll_errors_total", **polls, reason="protocol")
            assert value(samples, "ocrfleet_poll_errors_total", **polls, reason="refused")
            wait_for(
                lambda: firing(daemon.scrape(), "people_counter_down", "gone"),
                what="people_counter_down for the counter nobody answers for",
            )

            # The counter breaks: HTTP 500. Down with the reason; its counters
            # stay, what it said about now goes.
            door.answer(COUNT_PATH, {"error": "sensor fault"}, status=500)
            wait_for(
                lambda: state(daemon.scrape(), "door") == ("down", "protocol"),
                timeout=20,
                what="the counter answering 500 to be down",
            )
            samples = daemon.scrape()
            assert value(samples, "ocrfleet_people_counter_entries_total", **door_labels) == 1234
            assert value(samples, "ocrfleet_people_counter_occupancy", **door_labels) is None
            assert value(samples, "ocrfleet_people_counter_battery_ratio", **door_labels) is None

            # Repaired, with more visitors since.
            door.answer(COUNT_PATH, {**COUNT, "in": 1240, "occupancy": 40})
            wait_for(
                lambda: (
                    value(daemon.scrape(), "ocrfleet_people_counter_occupancy", **door_labels) == 40
                ),
                timeout=20,
                what="the repaired counter to be read again",
            )
            samples = daemon.scrape()
            assert state(samples, "door") == ("up", "answering")
            assert value(samples, "ocrfleet_people_counter_entries_total", **door_labels) == 1240

            # Its web server stops: nothing listens any more.
            door.stop()
            wait_for(
                lambda: state(daemon.scrape(), "door") == ("down", "refused"),
                timeout=20,
                what="the stopped counter to be down",
            )


def test_probe_reads_a_counter(installed: Installed) -> None:
    with CountServer() as door:
        door.answer(COUNT_PATH, COUNT)
        result = installed.run("probe", PLUGIN_NAME, door.url)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "1234 in, 1200 out, 34 inside, battery 80%\n"
        assert "\n1234 in, 1200 out, 34 inside, battery 80%\n" in section()

        result = installed.run("probe", PLUGIN_NAME, door.url, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {
            "entries": 1234,
            "exits": 1200,
            "occupancy": 34,
            "battery": 0.8,
        }

        door.answer(COUNT_PATH, {"error": "sensor fault"}, status=500)
        result = installed.run("probe", PLUGIN_NAME, door.url)
        assert result.returncode == 1
        assert result.stderr == (
            f"ocrfleet probe: {door.url} did not answer: protocol: "
            f"{door.url}api/v1/count: HTTP 500\n"
        )


def test_its_rules_are_exported_and_pass_promtool(
    installed: Installed, tmp_path: Path, promtool: str
) -> None:
    out = tmp_path / "monitoring"
    result = installed.run("export-monitoring", "--out", str(out))
    assert result.returncode == 0, result.stderr
    files = documented_files()
    # (where the command writes it, the package's folder, the file)
    written = [
        ("grafana/dashboards", "dashboards", "people-counters.json"),
        ("prometheus/rules", "rules", "ocrfleet-people-counter-alerts.yml"),
        ("prometheus/tests", "rule_tests", "people_counter_alerts_test.yml"),
    ]
    for folder, shipped, name in written:
        assert (out / folder / name).read_text() == files[f"{MODULE}/monitoring/{shipped}/{name}"]

    rules = out / "prometheus" / "rules" / "ocrfleet-people-counter-alerts.yml"
    check = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    test = out / "prometheus" / "tests" / "people_counter_alerts_test.yml"
    tested = subprocess.run(
        [promtool, "test", "rules", str(test)], capture_output=True, text=True, timeout=60
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def _dashboard_queries() -> list[tuple[str, str]]:
    board = json.loads(documented_files()[f"{MODULE}/monitoring/dashboards/people-counters.json"])
    return [
        (panel["title"], target["expr"]) for panel in board["panels"] for target in panel["targets"]
    ]


def test_the_dashboard_queries_show_the_counters(
    installed: Installed, broker: Mosquitto, tmp_path: Path
) -> None:
    board = json.loads(documented_files()[f"{MODULE}/monitoring/dashboards/people-counters.json"])
    assert "ocrfleet" in board["tags"]
    variables = {variable["name"] for variable in board["templating"]["list"]}
    assert variables == {"datasource", "site"}
    with CountServer() as door:
        door.answer(COUNT_PATH, COUNT)
        config = daemon_config(broker, tmp_path, [counter("door", door.url)])
        with (
            RunningApp(config, catalog()) as daemon,
            Prometheus(tmp_path / "prometheus", [daemon.metrics_url]) as prometheus,
        ):

            def scraped_twice() -> bool:
                # increase() needs two samples in its range.
                series = prometheus.query(
                    "count_over_time(ocrfleet_people_counter_entries_total[1m])"
                )
                return bool(series) and float(series[0]["value"][1]) >= 2

            wait_for(scraped_twice, timeout=30, what="two scrapes of a polled counter")
            for title, expr in _dashboard_queries():
                query = expr.replace("$__range", "1h").replace("$site", ".*")
                assert prometheus.query(query), f"{title}: {query} has no data"
