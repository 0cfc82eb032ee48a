"""The Grafana dashboards: their structure, and every panel's query against a real Prometheus.

The live test runs the demo fleet, lets a Prometheus of its own scrape it every
second, and runs each panel's queries the way Grafana would, with the template
variables filled in.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.daemon import wait_for
from tests.support.mosquitto import free_port
from tests.support.prometheus import Prometheus, PrometheusError

ROOT = Path(__file__).resolve().parent.parent
GRAFANA = ROOT / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
PROVISIONING = GRAFANA / "provisioning"
METRICS_DOC = ROOT / "docs" / "metrics.md"
DASHBOARDS_DOC = ROOT / "docs" / "dashboards.md"

# Panels that may show no data in the test, which watches the demo fleet for
# a minute or two; keyed by (dashboard uid, panel title). Listed in
# docs/dashboards.md too. Each still has to run without error.
ALLOWED_EMPTY: dict[tuple[str, str], str] = {
    ("ocrfleet-printers", "Forecast to empty"): (
        "the forecast needs at least 2 days and 5 readings of a supply after a daemon start"
    ),
    ("ocrfleet-maintenance", "Last maintenance logged"): (
        "the demo's maintenance ledger starts empty; only a cartridge swap, which the demo "
        "may or may not play while the test watches, logs an entry by itself"
    ),
    ("ocrfleet-daemon", "Poll errors"): (
        "every demo printer and hotspot answers, and the family has no series before the "
        "first failed poll"
    ),
}

# The demo's simulated time runs this much faster than the clock, so that
# about a minute of the test covers more than the demo's longest closed
# stretch (Saturday 13:00 to Monday 09:00): visitors come, whatever the hour.
SPEEDUP = 3600
# Seconds of scrapes before querying: rate() over `RATE_INTERVAL` needs two
# samples and increase() over the data span a few more.
MIN_DATA = 60
RATE_INTERVAL = "1m"
INTERVAL = "15s"
STEP = 5.0

TIME_SERIES_PANELS = {"timeseries", "heatmap", "state-timeline"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def boards() -> dict[str, dict[str, Any]]:
    return {path.name: load(path) for path in sorted(DASHBOARDS.glob("*.json"))}


def all_uids() -> set[str]:
    return {board["uid"] for board in boards().values()}


@dataclass(frozen=True)
class PanelRef:
    uid: str
    title: str
    targets: tuple[tuple[str, str, bool], ...]  # (refId, expr, instant)

    @property
    def id(self) -> str:
        return f"{self.uid.removeprefix('ocrfleet-')}/{self.title}"


def panels() -> list[PanelRef]:
    return [
        PanelRef(
            board["uid"],
            panel["title"],
            tuple((t["refId"], t["expr"], bool(t.get("instant"))) for t in panel["targets"]),
        )
        for board in boards().values()
        for panel in board["panels"]
    ]


def yaml_load(path: Path) -> Any:
    # PyYAML comes with amqtt, without type stubs: reached through
    # import_module so mypy needs none.
    return yaml.safe_load(path.read_text())


# -- Structure ------------------------------------------------------------------------


def test_the_json_is_what_the_generator_writes() -> None:
    result = subprocess.run(
        [sys.executable, str(GRAFANA / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_seven_dashboards_exist_with_unique_uids() -> None:
    found = boards()
    uids = [board["uid"] for board in found.values()]
    assert len(set(uids)) == len(uids)
    assert set(uids) == {
        "ocrfleet-overview",
        "ocrfleet-site",
        "ocrfleet-printers",
        "ocrfleet-network",
        "ocrfleet-occupancy",
        "ocrfleet-maintenance",
        "ocrfleet-daemon",
    }
    titles = [board["title"] for board in found.values()]
    assert all(titles) and len(set(titles)) == len(titles)


@pytest.mark.parametrize("name", sorted(boards()))
def test_dashboard_structure(name: str) -> None:
    board = boards()[name]
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"])
    assert board["title"] and board["description"]
    assert board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    for name in ("municipality", "site"):
        variable = variables[name]
        assert variable["type"] == "query", name
        assert variable["multi"] is True and variable["includeAll"] is True, name
        # ".*" also matches an absent label: a Prometheus whose targets carry
        # no `municipality` (the demo's below) shows everything under "All".
        assert variable["allValue"] == ".*", name
    assert list(variables).index("municipality") < list(variables).index("site")
    assert '$municipality"' in variables["site"]["definition"]
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"

    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids)
    assert board["panels"], "a dashboard without panels"
    for panel in board["panels"]:
        where = f"{name}: {panel.get('title')!r}"
        assert panel["title"] and panel["description"], where
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, where
        assert panel["targets"], where
        refs = [t["refId"] for t in panel["targets"]]
        assert len(set(refs)) == len(refs), where
        for target in panel["targets"]:
            assert target["expr"].strip(), where
            assert target["datasource"] == panel["datasource"], where
            if panel["type"] not in TIME_SERIES_PANELS:
                assert target["instant"], f"{where}: a {panel['type']} shows one value"


_SELECTOR = re.compile(r"\b(ocrfleet_[a-z_]+)(\{[^}]*\})?")
_GROUPING = re.compile(r"\b(by|on|without|ignoring)\s*\(([^)]*)\)")


def test_every_query_keeps_municipalities_apart() -> None:
    # Site ids repeat across municipalities (each may have a `library`): in a
    # regional store a query that filtered or grouped by site alone would add
    # two municipalities' sites together.
    problems = []
    for ref in panels():
        for ref_id, expr, _ in ref.targets:
            where = f"{ref.id} {ref_id}"
            for metric, matchers in _SELECTOR.findall(expr):
                if 'municipality=~"$municipality"' not in matchers:
                    problems.append(f"{where}: {metric} not filtered by municipality")
            for keyword, labels in _GROUPING.findall(expr):
                names = {label.strip() for label in labels.split(",")}
                if keyword in ("by", "on") and "site" in names and "municipality" not in names:
                    problems.append(f"{where}: {keyword} ({labels}) without municipality")
                if keyword in ("without", "ignoring") and "municipality" in names:
                    problems.append(f"{where}: {keyword} ({labels}) drops municipality")
    assert not problems, "\n".join(problems)


def test_every_query_uses_documented_metrics_only() -> None:
    documented = set(re.findall(r"`(ocrfleet_[a-z_]+)`", METRICS_DOC.read_text()))
    used: set[str] = set()
    for ref in panels():
        for _, expr, _ in ref.targets:
            used |= set(re.findall(r"\bocrfleet_[a-z_]+", expr))
    for board in boards().values():
        for variable in board["templating"]["list"]:
            used |= set(re.findall(r"\bocrfleet_[a-z_]+", variable.get("definition", "")))
    histogram = re.compile(r"_(bucket|sum|count)$")
    unknown = {m for m in used if m not in documented and histogram.sub("", m) not in documented}
    assert not unknown
    assert "ocrfleet_device_state" in used


def _links(value: Any) -> Iterator[str]:
    """Every link URL anywhere in a panel or dashboard."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "url" and isinstance(item, str):
                yield item
            else:
                yield from _links(item)
    elif isinstance(value, list):
        for item in value:
            yield from _links(item)


def test_links_between_dashboards_resolve() -> None:
    uids = all_uids()
    for name, board in boards().items():
        targets = [re.match(r"/d/([^/?]+)", url) for url in _links(board)]
        assert all(targets), f"{name}: a link that is not /d/<uid>"
        linked = {m.group(1) for m in targets if m}
        assert linked <= uids, f"{name}: links to {linked - uids}"
        # Every dashboard reaches every other one from its header, a plugin's
        # too: Grafana lists the dashboards that carry the tag.
        assert "ocrfleet" in board["tags"], name
        [header] = board["links"]
        assert header["type"] == "dashboards" and header["tags"] == ["ocrfleet"], name
        assert header["includeVars"] and header["keepTime"], name
    overview = boards()["overview.json"]
    assert "ocrfleet-site" in {
        m.group(1) for u in _links(overview["panels"]) if (m := re.match(r"/d/([^/?]+)", u))
    }


def test_provisioning_points_at_the_dashboards() -> None:
    providers = yaml_load(PROVISIONING / "dashboards" / "ocrfleet.yml")
    assert providers["apiVersion"] == 1
    [provider] = providers["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    # The provider reads a directory on the Grafana host; the docs copy (or
    # mount) grafana/dashboards there.
    docs = DASHBOARDS_DOC.read_text()
    assert any("grafana/dashboards" in line and path in line for line in docs.splitlines()), (
        f"docs/dashboards.md does not put grafana/dashboards at {path}"
    )

    sources = yaml_load(PROVISIONING / "datasources" / "ocrfleet.yml")
    assert sources["apiVersion"] == 1
    [source] = sources["datasources"]
    assert source["type"] == "prometheus" and source["url"].startswith("http")
    for board in boards().values():
        current = {v["name"]: v for v in board["templating"]["list"]}["datasource"]["current"]
        assert current["value"] == source["uid"] and current["text"] == source["name"]


def test_the_allow_list_names_existing_panels_and_is_documented() -> None:
    existing = {(ref.uid, ref.title) for ref in panels()}
    assert set(ALLOWED_EMPTY) <= existing
    docs = DASHBOARDS_DOC.read_text()
    for _, title in ALLOWED_EMPTY:
        assert title in docs, f"{title!r} is not in docs/dashboards.md"


# -- Every query against a real Prometheus --------------------------------------------


@dataclass
class Live:
    prometheus: Prometheus
    started: float

    def span(self) -> int:
        return int(time.time() - self.started) + 1


@contextlib.contextmanager
def demo(workdir: Path) -> Iterator[str]:
    """`ocrfleet run` on its demo fleet; yields the metrics URL it prints."""
    workdir.mkdir(parents=True)
    log_path = workdir / "demo.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ocrfleet",
                "run",
                "--demo-http-port",
                str(free_port()),
                "--state-dir",
                str(workdir),
                "--demo-speedup",
                str(SPEEDUP),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        found: list[str] = []

        def printed_url() -> bool:
            assert process.poll() is None, log_path.read_text()
            found[:] = re.findall(r"metrics:\s+(http://\S+/metrics)", log_path.read_text())
            return bool(found)

        wait_for(printed_url, timeout=30, what="the demo's metrics URL")
        yield found[0]
    except BaseException:
        print(log_path.read_text())  # shown by pytest with the failure
        raise
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    work = tmp_path_factory.mktemp("dashboards")
    with demo(work / "demo") as url, Prometheus(work / "prometheus", [url]) as prometheus:
        live = Live(prometheus, time.time())
        # What the panels need before their queries can have data: enough
        # scrapes, the first SNMP polls, and visitor sessions that ended.
        needed = {
            "scrapes": f"count_over_time(ocrfleet_build_info[10m]) >= {MIN_DATA}",
            "hotspot readings": "count(ocrfleet_hotspot_clients) >= 5",
            "printer readings": "count(ocrfleet_printer_pages_total) >= 3",
            "finished sessions": "sum(ocrfleet_session_duration_seconds_count) > 0",
        }
        missing: list[str] = []

        def ready() -> bool:
            missing[:] = [what for what, expr in needed.items() if not prometheus.query(expr)]
            return not missing

        wait_for(ready, timeout=MIN_DATA + 90, what=f"demo data in Prometheus: {missing}")
        yield live


_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))")


def substitute(expr: str, span: int) -> str:
    """Fills in the template variables as Grafana would, with the site "All"."""
    values = {
        "__rate_interval": RATE_INTERVAL,
        "__interval": INTERVAL,
        "__range": f"{span}s",
        # The dashboards' allValue.
        "municipality": ".*",
        "site": ".*",
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in values, f"unknown variable ${name} in {expr}"
        return values[name]

    return _VARIABLE.sub(value, expr)


def has_data(series: list[dict[str, Any]]) -> bool:
    # histogram_quantile() of no observations is NaN: Grafana shows no value either.
    for item in series:
        points = item["values"] if "values" in item else [item["value"]]
        if any(not math.isnan(float(point[1])) for point in points):
            return True
    return False


@pytest.mark.timeout(MIN_DATA + 240)
def test_the_site_variable_lists_the_demo_sites(live: Live) -> None:
    sites = live.prometheus.label_values("site", "ocrfleet_device_info")
    assert len(sites) == 5 and "vlaminggem-library" in sites


@pytest.mark.timeout(MIN_DATA + 240)
@pytest.mark.parametrize("ref", panels(), ids=lambda ref: ref.id)
def test_panel_queries_run_and_have_data(live: Live, ref: PanelRef) -> None:
    empty = []
    for ref_id, expr, instant in ref.targets:
        query = substitute(expr, live.span())
        now = time.time()
        try:
            if instant:
                series = live.prometheus.query(query, at=now)
            else:
                series = live.prometheus.query_range(query, live.started, now, STEP)
        except PrometheusError as exc:
            pytest.fail(f"{ref.id} query {ref_id} fails: {exc}\n{query}")
        if not has_data(series):
            empty.append(f"{ref_id}: {query}")
    if (ref.uid, ref.title) not in ALLOWED_EMPTY:
        assert not empty, f"{ref.id}: no data for\n" + "\n".join(empty)
