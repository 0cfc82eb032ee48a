"""A region on loopback: daemons per site, an agent per municipality, two central stores.

Each site's daemon is its own process (devpeers/region_site.py) on one
shared Mosquitto. Each municipality's Prometheus agent runs the shipped
agent.yml and remote-writes into both a VictoriaMetrics (with vmalert
evaluating the recording rules) and a Prometheus server receiving remote
writes (evaluating every shipped rule file). tests/test_region.py and
bench/region.py drive it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devpeers.http_service import HttpService, PromQL
from devpeers.mosquitto import Mosquitto
from devpeers.process import log_tail, spawn_logged, stop_process
from devpeers.prometheus_agent import (
    SHIPPED_RULES,
    PrometheusAgent,
    ReceivingPrometheus,
    Target,
)
from devpeers.region_site import site_config
from devpeers.victoriametrics import VictoriaMetrics, VmAlert

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "grafana" / "dashboards"
SITE_NAMES = ("library", "welfare", "service-centre", "neighbourhood-house", "school")
# What Grafana puts in for its macros: a 15 s scrape interval gives a
# $__rate_interval of 1m; the range of a dashboard opened over the last hour.
GRAFANA_MACROS = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
}
# A dashboard's own variables (municipality, site, ...) as "All": every value.
ALL_VALUES = ".*"


@dataclass(frozen=True)
class Site:
    municipality: str
    site: str

    @property
    def daemon(self) -> str:
        return f"{self.municipality}-{self.site}"


@dataclass(frozen=True)
class Query:
    """A PromQL expression from a shipped file, and where it comes from (for messages)."""

    where: str
    expr: str


def plan_sites(municipalities: int, sites_per_municipality: int) -> list[Site]:
    """Sites named like real ones: every municipality has a `library`, so ids repeat."""
    names = [
        SITE_NAMES[n] if n < len(SITE_NAMES) else f"site-{n + 1:02d}"
        for n in range(sites_per_municipality)
    ]
    return [Site(f"gem{m + 1:02d}", name) for m in range(municipalities) for name in names]


def dashboard_queries(directory: Path = DASHBOARDS) -> list[Query]:
    """Every panel target's expr in the dashboards, with Grafana's variables filled in."""

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    found = []
    for path in sorted(directory.glob("*.json")):
        dashboard = json.loads(path.read_text())
        variables = [
            re.compile(rf"\$\{{{re.escape(v['name'])}\}}|\${re.escape(v['name'])}\b")
            for v in dashboard.get("templating", {}).get("list", [])
            if v.get("type") in ("query", "custom")
        ]
        for panel in panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                if "expr" not in target:
                    continue
                expr = target["expr"]
                for macro, value in GRAFANA_MACROS.items():
                    expr = expr.replace(macro, value)
                for variable in variables:
                    expr = variable.sub(ALL_VALUES, expr)
                if "$" in re.sub(r"\$\d", "", expr):
                    raise ValueError(
                        f"{path.name}: {panel.get('title')!r}: unknown variable: {expr}"
                    )
                found.append(Query(f"{path.name}: {panel.get('title')!r}", expr))
    return found


def recording_rule_files(directory: Path = SHIPPED_RULES) -> list[Path]:
    return sorted(directory.glob("*-recording.yml"))


def recording_rules(directory: Path = SHIPPED_RULES) -> list[Query]:
    """Every recording rule as (record name, expr)."""
    found = []
    for path in recording_rule_files(directory):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                found.append(Query(f"{path.name}: {rule['record']}", rule["expr"]))
    return found


def wait_until(condition: Callable[[], bool], deadline: float, what: Callable[[], str]) -> None:
    """Poll `condition` until it holds; past `deadline` (monotonic), fail saying `what()`."""
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what()}")
        time.sleep(1.0)


class SiteDaemon:
    """One site's daemon process, its config written into `workdir`."""

    def __init__(self, workdir: Path, site: Site, devices: int, mqtt_port: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.site = site
        self.workdir = workdir
        self._port_file = workdir / "http-port"
        self.config_path = workdir / "config.json"
        config = site_config(
            municipality=site.municipality,
            site=site.site,
            devices=devices,
            mqtt_port=mqtt_port,
            store=workdir / "ocrfleet.sqlite",
        )
        self.config_path.write_text(json.dumps(config, indent=2))
        self.log_path = workdir / "daemon.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._port_file.read_text()}"

    def spawn(self, speedup: float) -> None:
        args = [
            sys.executable,
            "-m",
            "devpeers.region_site",
            str(self.config_path),
            str(self.workdir),
            f"--speedup={speedup}",
        ]
        self._process = spawn_logged(args, self.log_path, cwd=ROOT)

    def ready(self) -> bool:
        if self._process is None or self._process.poll() is not None:
            log_text = log_tail(self.log_path)
            raise RuntimeError(f"daemon {self.site.daemon} is not running:\n{log_text}")
        if not self._port_file.exists():
            return False
        try:
            with urllib.request.urlopen(f"http://{self.address}/metrics", timeout=2) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def stop(self) -> None:
        if self._process is None:
            return
        stop_process(self._process)
        self._process = None


class Region:
    """Start everything in `__enter__`, stop it all in `__exit__`."""

    def __init__(
        self,
        workdir: Path,
        municipalities: int,
        sites_per_municipality: int,
        devices_per_site: int,
        speedup: float = 60.0,
        evaluation_interval: str = "5s",
        start_agents: bool = True,
    ) -> None:
        self.workdir = workdir
        self.sites = plan_sites(municipalities, sites_per_municipality)
        self.devices_per_site = devices_per_site
        self._speedup = speedup
        self._interval = evaluation_interval
        self._start_agents = start_agents
        self._stack = ExitStack()
        self.daemons: list[SiteDaemon] = []
        self.agents: list[PrometheusAgent] = []

    def __enter__(self) -> Region:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _service(self, service: HttpService) -> None:
        service.start()
        self._stack.callback(service.stop)

    def _start(self) -> None:
        broker = Mosquitto(self.workdir / "mosquitto", persistence=False)
        broker.start()
        self._stack.callback(broker.stop)
        for site in self.sites:
            daemon = SiteDaemon(
                self.workdir / "sites" / site.daemon, site, self.devices_per_site, broker.port
            )
            self._stack.callback(daemon.stop)
            daemon.spawn(self._speedup)
            self.daemons.append(daemon)
        self.victoria = VictoriaMetrics(self.workdir / "victoria-metrics")
        self._service(self.victoria)
        self.vmalert = VmAlert(
            self.workdir / "vmalert",
            recording_rule_files(),
            self.victoria.url,
            self.victoria.url,
            self._interval,
        )
        self._service(self.vmalert)
        self.receiver = ReceivingPrometheus(
            self.workdir / "receiver", sorted(SHIPPED_RULES.glob("*.yml")), self._interval
        )
        self._service(self.receiver)
        # Daemons start their imports in parallel; wait for all before the agents scrape.
        deadline = time.monotonic() + 60 + 2 * len(self.daemons)
        wait_until(
            lambda: all(daemon.ready() for daemon in self.daemons),
            deadline,
            lambda: (
                "daemons not yet serving /metrics: "
                + ", ".join(d.site.daemon for d in self.daemons if not d.ready())
            ),
        )
        if self._start_agents:
            self.start_agents()

    def start_agents(self) -> None:
        """One agent per municipality (at `__enter__`, unless told to wait for this call)."""
        for municipality in sorted({site.municipality for site in self.sites}):
            targets = [
                Target(daemon.address, daemon.site.daemon)
                for daemon in self.daemons
                if daemon.site.municipality == municipality
            ]
            agent = PrometheusAgent(
                self.workdir / "agents" / municipality,
                municipality,
                targets,
                [self.victoria.write_url, self.receiver.write_url],
            )
            self._service(agent)
            self.agents.append(agent)

    @property
    def stores(self) -> dict[str, PromQL]:
        return {"victoria-metrics": self.victoria.promql, "receiver": self.receiver.promql}

    def sites_missing(self, store: PromQL, selector: str) -> list[Site]:
        """The planned sites with no series of `selector` in `store` (by municipality and site)."""
        found = {
            Site(s["metric"].get("municipality", ""), s["metric"].get("site", ""))
            for s in store.query(f"count by (municipality, site) ({selector})")
        }
        return [site for site in self.sites if site not in found]

    def wait_for_every_site(self, store_name: str, selector: str, deadline: float) -> None:
        """Wait until `selector` has series for every site in the store; fail naming the others."""
        store = self.stores[store_name]

        def lacking() -> str:
            sites = [site.daemon for site in self.sites_missing(store, selector)]
            return f"{store_name}: no {selector!r} for {sites}; logs under {self.workdir}"

        wait_until(lambda: not self.sites_missing(store, selector), deadline, lacking)

    def daemon_pids(self) -> Sequence[int]:
        return [daemon.pid for daemon in self.daemons]
