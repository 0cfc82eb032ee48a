"""A region on a real distributed store: what the central stores and the agents cost per site.

What runs (devpeers/region.py, the same as tests/test_region.py, larger):

* `--municipalities` x `--sites` daemons (default 5 x 4 = 20), one process
  per site, each with `--devices` devices (default 30: a printer and a
  hotspot on a snmpsim agent of the daemon's own, 21 PCs and 7 laptops
  played by the demo's simulators over one shared Mosquitto);
* one Prometheus agent per municipality, running the shipped
  deploy/prometheus/agent.yml (15 s scrape), remote-writing into
* a single-node VictoriaMetrics, with vmalert evaluating the shipped
  recording rules, and a Prometheus server with
  `--web.enable-remote-write-receiver` evaluating every shipped rule file.

Method: start everything but the agents; read the stores' own /metrics
(the "empty" baseline); start the agents; wait until every site's series
are in both stores, then `--warmup` seconds; read every process's /metrics
and the stores' bytes on disk; wait `--minutes`; read them again. Rates
are differences over that window. Last, every dashboard panel's query runs
once against each store (must parse), timed.

Run: .venv/bin/python bench/region.py [--municipalities 5] [--sites 4] [--devices 30]
     [--minutes 5] [--warmup 60] [--json PATH | --no-json] [--keep]
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from harness.describe import code_version, load_average, machine, program_version
from harness.load import cpu_seconds
from harness.results import add_json_options, write_results
from harness.signals import exit_on_sigterm, run_script
from harness.tables import table

from devpeers.http_service import HttpService, QueryError
from devpeers.process import installed_program
from devpeers.region import Region, dashboard_queries

EXTRAPOLATE_TO = 300
DAY = 86_400


@dataclass(frozen=True)
class Reading:
    at: float
    metrics: dict[str, float]


@dataclass(frozen=True)
class Load:
    """One process's cost over the window."""

    cpu_per_second: float
    rss_bytes: float
    rss_empty_bytes: float | None


def read(service: HttpService) -> Reading:
    return Reading(time.monotonic(), service.own_metrics())


def rate(before: Reading, after: Reading, name: str) -> float:
    return (after.metrics.get(name, 0.0) - before.metrics.get(name, 0.0)) / (after.at - before.at)


def load(before: Reading, after: Reading, empty: Reading | None) -> Load:
    return Load(
        rate(before, after, "process_cpu_seconds_total"),
        after.metrics["process_resident_memory_bytes"],
        empty.metrics["process_resident_memory_bytes"] if empty else None,
    )


def process_trees(pids: list[int]) -> list[psutil.Process]:
    """These processes and their children (the daemons' snmpsim agents)."""
    found = []
    for pid in pids:
        process = psutil.Process(pid)
        found += [process, *process.children(recursive=True)]
    return found


def compacted_bytes(region: Region) -> dict[str, int]:
    """Bytes as stored for good: VictoriaMetrics flushed and merged, the receiver's
    head written as blocks (a snapshot; its WAL is rewritten every 2 hours)."""
    region.victoria.compact()
    return {
        "victoria-metrics": region.victoria.disk_bytes(),
        "receiver": region.receiver.snapshot_bytes(),
    }


def time_queries(region: Region) -> dict[str, dict[str, Any]]:
    queries = dashboard_queries()
    found = {}
    for name, store in region.stores.items():
        errors, empty = [], 0
        started = time.monotonic()
        for query in queries:
            try:
                if not store.query(query.expr):
                    empty += 1
            except QueryError as exc:
                errors.append(f"{query.where}: {exc}")
        found[name] = {
            "queries": len(queries),
            "seconds": round(time.monotonic() - started, 3),
            "empty": empty,
            "errors": errors,
        }
    return found


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    region = Region(workdir, args.municipalities, args.sites, args.devices, start_agents=False)
    sites = args.municipalities * args.sites
    with region:
        empty = {"victoria-metrics": read(region.victoria), "receiver": read(region.receiver)}
        disk_empty = {
            "victoria-metrics": region.victoria.disk_bytes(),
            "receiver": region.receiver.disk_bytes(),
        }
        region.start_agents()
        arrived_by = time.monotonic() + 120 + 3 * sites
        for name in region.stores:
            region.wait_for_every_site(name, "ocrfleet_device_info", arrived_by)
        time.sleep(args.warmup)

        services: dict[str, HttpService] = {
            "victoria-metrics": region.victoria,
            "vmalert": region.vmalert,
            "receiver": region.receiver,
        }
        services |= {agent.name: agent for agent in region.agents}
        compacted_before = compacted_bytes(region)
        before = {name: read(service) for name, service in services.items()}
        disk_before = {
            "victoria-metrics": region.victoria.disk_bytes(),
            "receiver": region.receiver.disk_bytes(),
        }
        daemons = process_trees(list(region.daemon_pids()))
        daemons_cpu_before = cpu_seconds(daemons)
        window_start = time.monotonic()
        time.sleep(args.minutes * 60)
        window = time.monotonic() - window_start
        after = {name: read(service) for name, service in services.items()}
        disk_after = {
            "victoria-metrics": region.victoria.disk_bytes(),
            "receiver": region.receiver.disk_bytes(),
        }
        daemons_cpu = (cpu_seconds(daemons) - daemons_cpu_before) / window

        missing = {
            name: region.sites_missing(store, "ocrfleet_device_info")
            for name, store in region.stores.items()
        }
        compacted_after = compacted_bytes(region)
        series_per_site = [
            float(s["value"][1])
            for s in region.receiver.promql.query('count by (daemon) ({job="ocrfleet"})')
        ]
        queries = time_queries(region)

    agents = [name for name in services if name.startswith("agent ")]
    agent_samples = sum(
        rate(before[a], after[a], "prometheus_remote_storage_samples_total") for a in agents
    )
    agent_loads = [load(before[a], after[a], None) for a in agents]
    inserted = {
        "victoria-metrics": rate(
            before["victoria-metrics"], after["victoria-metrics"], "vm_rows_inserted_total"
        ),
        "receiver": rate(
            before["receiver"], after["receiver"], "prometheus_tsdb_head_samples_appended_total"
        ),
    }
    stores: dict[str, dict[str, Any]] = {}
    for name in ("victoria-metrics", "receiver"):
        stores[name] = asdict(load(before[name], after[name], empty.get(name)))
        stores[name]["samples_per_second"] = inserted[name]
        stores[name]["disk_bytes_per_day"] = (disk_after[name] - disk_before[name]) / window * DAY
        stores[name]["disk_bytes_empty"] = disk_empty[name]
        stores[name]["disk_bytes_end"] = disk_after[name]
        samples = stores[name]["samples_per_second"] * window
        stores[name]["compacted_bytes_per_sample"] = (
            compacted_after[name] - compacted_before[name]
        ) / samples
    stores["receiver"]["head_series"] = after["receiver"].metrics["prometheus_tsdb_head_series"]
    stores["victoria-metrics"]["data_size_bytes"] = after["victoria-metrics"].metrics.get(
        "vm_data_size_bytes", 0.0
    )
    stores["vmalert"] = asdict(load(before["vmalert"], after["vmalert"], None))
    return {
        "sites": sites,
        "devices_per_site": args.devices,
        "agents": len(agents),
        "window_seconds": round(window, 1),
        "missing_sites": {k: [s.daemon for s in v] for k, v in missing.items()},
        "series_per_site": {
            "min": min(series_per_site, default=0.0),
            "max": max(series_per_site, default=0.0),
            "mean": sum(series_per_site) / max(1, len(series_per_site)),
        },
        # Each agent sends every sample once to each of the two stores.
        "scraped_samples_per_second": agent_samples / 2,
        "agents_cpu_per_second": sum(a.cpu_per_second for a in agent_loads),
        "agents_rss_bytes": sum(a.rss_bytes for a in agent_loads),
        "daemons_cpu_per_second": daemons_cpu,
        "stores": stores,
        "dashboard_queries": queries,
    }


def mb(value: float) -> str:
    return f"{value / 1e6:,.1f} MB"


def report(result: dict[str, Any]) -> str:
    sites = result["sites"]
    per_site = 1 / sites
    host = result["machine"]
    lines = [
        f"Command: `{result['command']}`",
        f"Started {result['date']} UTC; code {result['code']}; {host['cpus']} cores "
        "(shared with other work).",
        f"1-min load average {host['loadavg_1min_start']:.2f} at start, "
        f"{host['loadavg_1min_end']:.2f} at end; {host['prometheus']}; "
        f"{host['victoria_metrics']}.",
        "",
        f"{sites} sites x {result['devices_per_site']} devices, {result['agents']} agents, "
        f"window {result['window_seconds']} s. Sites missing at the end: "
        f"{result['missing_sites']}.",
        "",
    ]
    rows: list[tuple[str, str, str, str]] = []

    def figure(label: str, total: float, fmt: str = "{:,.2f}") -> None:
        variable = total * per_site
        rows.append(
            (label, fmt.format(total), fmt.format(variable), fmt.format(variable * EXTRAPOLATE_TO))
        )

    series = result["series_per_site"]
    rows.append(
        (
            "series per site (min/mean/max)",
            "",
            f"{series['min']:.0f} / {series['mean']:.0f} / {series['max']:.0f}",
            "",
        )
    )
    figure("samples/s scraped", result["scraped_samples_per_second"])
    figure("agents: CPU s/s", result["agents_cpu_per_second"], "{:.4f}")
    rows.append(
        (
            "agents: RSS",
            f"{mb(result['agents_rss_bytes'])} ({result['agents']} agents)",
            mb(result["agents_rss_bytes"] * per_site),
            "(one agent per municipality)",
        )
    )
    for name in ("victoria-metrics", "receiver"):
        store = result["stores"][name]
        figure(f"{name}: samples/s inserted", store["samples_per_second"])
        figure(f"{name}: CPU s/s", store["cpu_per_second"], "{:.4f}")
        fixed = store["rss_empty_bytes"] or 0.0
        variable = (store["rss_bytes"] - fixed) * per_site
        rows.append(
            (
                f"{name}: RSS (empty: {mb(fixed)})",
                mb(store["rss_bytes"]),
                mb(variable),
                mb(fixed + variable * EXTRAPOLATE_TO),
            )
        )
        per_day = store["disk_bytes_per_day"]
        rows.append(
            (
                f"{name}: disk growth per day, fresh",
                mb(per_day),
                mb(per_day * per_site),
                mb(per_day * per_site * EXTRAPOLATE_TO),
            )
        )
        per_sample = store["compacted_bytes_per_sample"]
        rows.append((f"{name}: bytes per sample, compacted", f"{per_sample:.2f}", "", ""))
        compacted_per_day = per_sample * store["samples_per_second"] * DAY
        rows.append(
            (
                f"{name}: disk per day, compacted",
                mb(compacted_per_day),
                mb(compacted_per_day * per_site),
                mb(compacted_per_day * per_site * EXTRAPOLATE_TO),
            )
        )
    figure("vmalert: CPU s/s", result["stores"]["vmalert"]["cpu_per_second"], "{:.4f}")
    figure("daemons and their snmpsim: CPU s/s", result["daemons_cpu_per_second"], "{:.3f}")
    header = (
        "Figure",
        f"Measured at {sites} sites",
        "Per site",
        f"Extrapolated to {EXTRAPOLATE_TO}",
    )
    lines += table(header, "llll", rows)
    lines.append("")
    for name, timing in result["dashboard_queries"].items():
        lines.append(
            f"Dashboard queries on {name}: {timing['queries']} in {timing['seconds']} s, "
            f"{timing['empty']} empty, {len(timing['errors'])} errors "
            + "; ".join(timing["errors"])
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--municipalities", type=int, default=5)
    parser.add_argument("--sites", type=int, default=4, help="sites per municipality")
    parser.add_argument("--devices", type=int, default=30, help="devices per site")
    parser.add_argument("--minutes", type=float, default=5.0, help="measuring window")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds after arrival")
    add_json_options(parser, "region")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data)")
    args = parser.parse_args()
    exit_on_sigterm()
    prometheus = installed_program("prometheus", "prometheus")
    command = shlex.join([".venv/bin/python", "bench/region.py", *sys.argv[1:]])
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    load_start = load_average()
    # Read before the run: the tree may change while it runs.
    code = code_version()
    workdir = Path(tempfile.mkdtemp(prefix="ocrfleet-region-"))
    try:
        figures = run(args, workdir)
    finally:
        if args.keep:
            print(f"logs and data kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "command": command,
        "date": started,
        "code": code,
        "machine": machine(
            load_start,
            prometheus=program_version([prometheus, "--version"]),
            # Debian's build prints nothing for -version; its package knows.
            victoria_metrics=program_version(
                ["dpkg-query", "-W", "-f=victoria-metrics ${Version}\n", "victoria-metrics"]
            ),
        ),
        **figures,
    }
    print(report(result))
    write_results(args, "region", result)
    failed = any(result["missing_sites"].values()) or any(
        timing["errors"] for timing in result["dashboard_queries"].values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    run_script(main)
