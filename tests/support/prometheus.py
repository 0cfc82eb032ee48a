"""A real Prometheus server on a free loopback port, scraping targets given by the test."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.mosquitto import free_port

Series = list[dict[str, Any]]


class PrometheusError(RuntimeError):
    """Prometheus refused a query, e.g. a PromQL syntax error."""


def prometheus_binary() -> str:
    found = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(found).exists():
        raise RuntimeError("prometheus is not installed (apt-get install prometheus)")
    return found


class Prometheus:
    """Start and stop a Prometheus that keeps its data in `workdir`.

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
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._targets = targets
        self._interval = scrape_interval
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "prometheus.log"

    def _write_config(self) -> Path:
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
        path = self.workdir / "prometheus.yml"
        # JSON is YAML, so no YAML library is needed.
        path.write_text(json.dumps(config, indent=2))
        return path

    def start(self) -> None:
        config = self._write_config()
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    prometheus_binary(),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1d",
                    "--log.level=warn",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("prometheus did not become ready")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> Prometheus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _api(self, path: str, params: dict[str, str]) -> Any:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            # Bad queries come back as 400/422 with the reason in the body.
            body = json.load(exc)
        if body.get("status") != "success":
            raise PrometheusError(f"{body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> Series:
        """An instant query; the result's series (a scalar becomes one series without labels)."""
        params = {"query": expr}
        if at is not None:
            params["time"] = repr(at)
        return _as_series(self._api("query", params))

    def query_range(self, expr: str, start: float, end: float, step: float) -> Series:
        params = {"query": expr, "start": repr(start), "end": repr(end), "step": repr(step)}
        return _as_series(self._api("query_range", params))

    def label_values(self, label: str, match: str) -> list[str]:
        return list(self._api(f"label/{label}/values", {"match[]": match}))


def _as_series(data: dict[str, Any]) -> Series:
    result = data["result"]
    if data["resultType"] in ("scalar", "string"):
        return [{"metric": {}, "value": result}]
    return list(result)
