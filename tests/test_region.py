"""A region on a real distributed store: daemons -> Prometheus agents -> central stores.

Four sites' daemons (two municipalities of two sites, four devices each,
played like the demo's) run as processes of their own. Each municipality's
Prometheus agent runs the shipped deploy/prometheus/agent.yml and
remote-writes into a VictoriaMetrics and into a Prometheus receiving remote
writes. The shipped recording rules run centrally on both (vmalert for
VictoriaMetrics, the receiver's own rule engine for Prometheus, which also
evaluates the alert rules), and every dashboard panel's query is run on both.

Needs prometheus, victoria-metrics (with vmalert) and mosquitto, which
`make test` installs; missing, the test is skipped, except under CI.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from devpeers.http_service import PromQL, QueryError
from devpeers.prometheus_agent import SHIPPED_AGENT_CONFIG, SHIPPED_RULES
from devpeers.region import (
    Query,
    Region,
    dashboard_queries,
    recording_rule_files,
    recording_rules,
)
from tests.support.programs import installed

MUNICIPALITIES = 2
SITES_PER_MUNICIPALITY = 2
DEVICES_PER_SITE = 4
# The agents scrape every 15 s (agent.yml) and send within 5 s; three
# scrapes plus start-up is well inside this on a busy machine.
ARRIVAL_SECONDS = 100.0

# Queries that may rightly return nothing in a fresh, healthy region, and why.
# Everything else must return data; all must parse.
MAY_BE_EMPTY = {
    r"ocrfleet_room_sensor_": "the region's sites have no room sensors",
    r"ocrfleet_alert_firing|ocrfleet_alerts_firing": "no alert need be firing",
    r"ocrfleet_poll_errors_total": "no poll need fail",
    r"ocrfleet_maintenance_due\{[^}]*\} == 1": "no maintenance need be due",
    r"ocrfleet_maintenance_last_timestamp_seconds": "no maintenance has been logged",
    r"ocrfleet_printer_supply_empty_forecast_seconds": "a forecast needs days of supply levels",
    r"ocrfleet_printer_condition\{[^}]*\} == 1": "no printer need report a condition",
    # Visitors seated before the region started keep their seats for half an hour or more.
    r"(rate|increase)\(ocrfleet_session_duration_seconds_(bucket|sum)": (
        "no session need have ended lately"
    ),
}


def may_be_empty(query: Query) -> bool:
    return any(re.search(pattern, query.expr) for pattern in MAY_BE_EMPTY)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    installed("prometheus", "prometheus")
    installed("victoria-metrics", "victoria-metrics")
    installed("vmalert", "victoria-metrics")
    installed("mosquitto", "mosquitto")
    workdir = tmp_path_factory.mktemp("region")
    with Region(workdir, MUNICIPALITIES, SITES_PER_MUNICIPALITY, DEVICES_PER_SITE) as started:
        # Two scrapes of every site in both stores: rates and increases need two samples.
        deadline = time.monotonic() + ARRIVAL_SECONDS
        for name in started.stores:
            started.wait_for_every_site(
                name, "count_over_time(ocrfleet_device_info[2m]) >= 2", deadline
            )
        yield started


def test_every_site_arrives_with_municipality_and_site_in_both_stores(region: Region) -> None:
    for name, store in region.stores.items():
        counts = {
            (s["metric"]["municipality"], s["metric"]["site"], s["metric"]["daemon"]): s["value"][1]
            for s in store.query("count by (municipality, site, daemon) (ocrfleet_device_info)")
        }
        expected = {(s.municipality, s.site, s.daemon): str(DEVICES_PER_SITE) for s in region.sites}
        assert counts == expected, name
        # The daemon's own site label is kept, never renamed by the scrape job.
        assert store.query('count({__name__=~"ocrfleet_.+", exported_site!=""})') == [], name
        up = store.query('up{job="ocrfleet"}')
        assert sorted(s["metric"]["daemon"] for s in up) == sorted(s.daemon for s in region.sites)
        assert {s["value"][1] for s in up} == {"1"}, name


def test_agents_run_the_shipped_scrape_job_and_settings(region: Region) -> None:
    shipped = yaml.safe_load(SHIPPED_AGENT_CONFIG.read_text())
    for agent in region.agents:
        assert agent.config["scrape_configs"] == shipped["scrape_configs"]
        assert agent.config["global"]["scrape_interval"] == shipped["global"]["scrape_interval"]
        for write in agent.config["remote_write"]:
            assert write["queue_config"] == shipped["remote_write"][0]["queue_config"]


def test_site_ids_repeat_across_municipalities_and_stay_apart(region: Region) -> None:
    # Every municipality has a "library": grouping by (municipality, site) keeps them apart.
    library = region.stores["receiver"].query(
        'site:ocrfleet_seats_configured:count{site="library"}'
    )
    assert sorted(s["metric"]["municipality"] for s in library) == ["gem01", "gem02"]


def _interval_of_groups() -> dict[str, str | None]:
    found = {}
    for path in recording_rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                found[rule["record"]] = group.get("interval")
    return found


def test_recording_rules_are_evaluated_centrally_per_site(region: Region) -> None:
    intervals = _interval_of_groups()
    deadline = time.monotonic() + ARRIVAL_SECONDS
    for rule in recording_rules():
        record = rule.where.split(": ")[1]
        if re.search("|".join(MAY_BE_EMPTY), rule.expr):
            continue
        for name in region.stores:
            # Day-long groups run every 5 minutes, longer than a test may
            # wait: their expression is run instead of reading the result.
            region.wait_for_every_site(name, rule.expr if intervals[record] else record, deadline)


def test_every_rule_file_loads_and_evaluates_without_error(region: Region) -> None:
    files = {str(path) for path in SHIPPED_RULES.glob("*.yml")}
    groups = region.receiver.rule_groups()
    assert {group["file"] for group in groups} == files
    broken = [
        f"{group['name']}/{rule['name']}: {rule.get('lastError')}"
        for group in groups
        for rule in group["rules"]
        if rule.get("health") == "err"
    ]
    assert broken == []
    vm_groups = region.vmalert.groups()
    assert {str(group["file"]) for group in vm_groups} == {
        str(path) for path in recording_rule_files()
    }
    vm_broken = [
        f"{group['name']}/{rule['name']}: {rule.get('lastError')}"
        for group in vm_groups
        for rule in group["rules"]
        if rule.get("lastError")
    ]
    assert vm_broken == []


def _run(store: PromQL, query: Query) -> str | None:
    """What is wrong with `query` on `store`, or None."""
    try:
        result = store.query(query.expr)
    except QueryError as exc:
        return f"{query.where}: {exc}\n    {query.expr}"
    if not result and not may_be_empty(query):
        return f"{query.where}: no data\n    {query.expr}"
    return None


@pytest.mark.parametrize("store_name", ["victoria-metrics", "receiver"])
def test_every_dashboard_query_parses_and_returns_data(region: Region, store_name: str) -> None:
    queries = dashboard_queries()
    assert len(queries) > 50, "the dashboards' queries were not found"
    store = region.stores[store_name]
    problems = [problem for q in queries if (problem := _run(store, q)) is not None]
    assert problems == [], "\n".join(problems)


DASHBOARDS = Path(__file__).resolve().parent.parent / "grafana" / "dashboards"


def _sites_table(workdir: Path, municipality: str) -> list[Query]:
    """The fleet overview's *Sites* queries, with `municipality` selected."""
    workdir.mkdir()
    source = DASHBOARDS / "overview.json"
    text = source.read_text().replace("${municipality}", municipality)
    (workdir / source.name).write_text(text.replace("$municipality", municipality))
    return [q for q in dashboard_queries(workdir) if q.where == "overview.json: 'Sites'"]


@pytest.mark.parametrize("selected", ["All", "gem01"])
def test_the_sites_table_keeps_each_municipalitys_library_apart(
    region: Region, tmp_path: Path, selected: str
) -> None:
    # Every municipality has a `library`: one row each, never their sum.
    every = {(s.municipality, s.site) for s in region.sites}
    wanted = every if selected == "All" else {row for row in every if row[0] == selected}
    queries = _sites_table(tmp_path / "dashboards", ".*" if selected == "All" else selected)
    assert len(queries) >= 7
    for name, store in region.stores.items():
        seen: set[tuple[str, str]] = set()
        for query in queries:
            rows = [
                (s["metric"].get("municipality", ""), s["metric"].get("site", ""))
                for s in store.query(query.expr)
            ]
            assert len(rows) == len(set(rows)), f"{name}: {query.expr}: {rows}"
            assert set(rows) <= wanted, f"{name}: {query.expr}: {rows}"
            seen |= set(rows)
        assert seen == wanted, name
