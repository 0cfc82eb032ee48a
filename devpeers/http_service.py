"""A server process with an HTTP readiness URL, and a client for its Prometheus query API.

VictoriaMetrics, vmalert and Prometheus (agent or server) all answer the
same way: a readiness path, `/metrics` about themselves, and (except the
agent) `/api/v1/query`.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from prometheus_client.parser import text_string_to_metric_families

from devpeers.process import log_tail, spawn_logged, stop_process

Series = list[dict[str, Any]]


def bytes_under(directory: Path) -> int:
    """The size of the files under `directory`: a store's data on disk."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


class QueryError(RuntimeError):
    """The server refused a query, e.g. a PromQL syntax error."""


class HttpService:
    """A process started with `args`, ready once `ready_path` answers 200, logging to `log_path`."""

    def __init__(self, name: str, args: Sequence[str], url: str, ready_path: str, log_path: Path):
        self.name = name
        self.url = url
        self.log_path = log_path
        self._args = list(args)
        self._ready_path = ready_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, f"{self.name} is not running"
        return self._process.pid

    def start(self, timeout: float = 30.0) -> None:
        self._process = spawn_logged(self._args, self.log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{log_tail(self.log_path)}")
            try:
                with urllib.request.urlopen(self.url + self._ready_path, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {self._ready_path} within {timeout} s")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is None:
            return
        stop_process(self._process)
        self._process = None

    def own_metrics(self) -> dict[str, float]:
        """The process's own /metrics, summed per sample name over all label sets."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        totals: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
        return totals


class PromQL:
    """The Prometheus HTTP query API at `url` (Prometheus, or VictoriaMetrics' compatible one)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def api(self, path: str, params: dict[str, str]) -> Any:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=60) as reply:
                body = json.load(reply)
        except urllib.error.HTTPError as exc:
            # Bad queries come back as 400/422 with the reason in the body.
            text = exc.read().decode(errors="replace")
            try:
                body = json.loads(text)
            except ValueError:
                raise QueryError(f"HTTP {exc.code} from {self.url}/api/v1/{path}: {text}") from exc
        if body.get("status") != "success":
            raise QueryError(f"{body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> Series:
        """An instant query (now, or at Unix time `at`); its series."""
        params = {"query": expr}
        if at is not None:
            params["time"] = repr(at)
        return _as_series(self.api("query", params))

    def query_range(self, expr: str, start: float, end: float, step: float) -> Series:
        params = {"query": expr, "start": repr(start), "end": repr(end), "step": repr(step)}
        return _as_series(self.api("query_range", params))

    def label_values(self, label: str, match: str) -> list[str]:
        return list(self.api(f"label/{label}/values", {"match[]": match}))


def _as_series(data: dict[str, Any]) -> Series:
    """A result's series; a scalar or string becomes one series without labels."""
    if data["resultType"] in ("scalar", "string"):
        return [{"metric": {}, "value": data["result"]}]
    return list(data["result"])
