"""A real Prometheus server on a free loopback port, scraping targets given by the caller."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from devpeers.http_service import HttpService, PromQL, Series
from devpeers.mosquitto import free_port
from devpeers.process import installed_program


def server_args(config: Path, data: Path, port: int, *extra: str) -> list[str]:
    """A Prometheus server's command line: `config`, a TSDB in `data`, loopback `port`."""
    return [
        installed_program("prometheus", "prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address=127.0.0.1:{port}",
        *extra,
        "--storage.tsdb.retention.time=1d",
        "--log.level=warn",
    ]


class Prometheus(HttpService):
    """A Prometheus that keeps its data in `workdir`.

    `targets` are metrics URLs (http://host:port/path), scraped as job `ocrfleet`.
    """

    def __init__(
        self,
        workdir: Path,
        targets: list[str],
        scrape_interval: str = "1s",
        job_settings: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        # Added to the job's scrape config, e.g. basic_auth and tls_config.
        self._job_settings = job_settings or {}
        self._targets = targets
        self._interval = scrape_interval
        self.port = free_port()
        self._config_path = workdir / "prometheus.yml"
        args = server_args(self._config_path, workdir / "data", self.port)
        url = f"http://127.0.0.1:{self.port}"
        super().__init__("prometheus", args, url, "/-/ready", workdir / "prometheus.log")
        self.promql = PromQL(url)

    def _write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        parsed = [urllib.parse.urlsplit(target) for target in self._targets]
        paths = {p.path or "/metrics" for p in parsed}
        if len(paths) != 1:
            raise ValueError(f"targets must share one metrics path, not {sorted(paths)}")
        config = {
            "global": {"scrape_interval": self._interval, "evaluation_interval": self._interval},
            "scrape_configs": [
                {
                    "job_name": "ocrfleet",
                    "metrics_path": paths.pop(),
                    "static_configs": [{"targets": [p.netloc for p in parsed]}],
                    "scheme": parsed[0].scheme or "http",
                    **self._job_settings,
                }
            ],
        }
        # JSON is YAML, so no YAML library is needed.
        self._config_path.write_text(json.dumps(config, indent=2))

    def start(self, timeout: float = 30.0) -> None:
        self._write_config()
        super().start(timeout)

    def query(self, expr: str, at: float | None = None) -> Series:
        """An instant query (now, or at Unix time `at`); its series."""
        return self.promql.query(expr, at)

    def query_range(self, expr: str, start: float, end: float, step: float) -> Series:
        return self.promql.query_range(expr, start, end, step)

    def label_values(self, label: str, match: str) -> list[str]:
        return self.promql.label_values(label, match)
