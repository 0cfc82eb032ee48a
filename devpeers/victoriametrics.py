"""A real single-node VictoriaMetrics, and vmalert evaluating rules against it, on loopback.

Both come from Debian's `victoria-metrics` package (the Makefile's
system-test-deps installs it).
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devpeers.http_service import HttpService, PromQL, bytes_under
from devpeers.mosquitto import free_port
from devpeers.process import installed_program


class VictoriaMetrics(HttpService):
    """VictoriaMetrics keeping its data under `workdir`; remote_write goes to `write_url`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data_path = workdir / "data"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        self.write_url = f"{url}/api/v1/write"
        args = [
            installed_program("victoria-metrics", "victoria-metrics"),
            f"-storageDataPath={self.data_path}",
            f"-httpListenAddr=127.0.0.1:{port}",
            "-retentionPeriod=1d",
            # By default a sample is only visible 30 s after its timestamp, and
            # answers are cached: a check right after a write would see neither.
            "-search.latencyOffset=1s",
            "-search.disableCache",
            "-loggerLevel=WARN",
        ]
        super().__init__("victoria-metrics", args, url, "/health", workdir / "victoria-metrics.log")
        self.promql = PromQL(url)

    def disk_bytes(self) -> int:
        """Bytes under the storage path (data, indexes and metadata)."""
        return bytes_under(self.data_path)

    def compact(self) -> None:
        """Write what is buffered in memory, then merge this month's parts as time would."""
        month = time.strftime("%Y_%m", time.gmtime())
        for path in ("/internal/force_flush", f"/internal/force_merge?partition_prefix={month}"):
            with urllib.request.urlopen(self.url + path, timeout=600) as reply:
                reply.read()


class VmAlert(HttpService):
    """vmalert evaluating `rule_files` on `datasource_url`, writing results to `write_base_url`.

    Recording rules only: vmalert sends alerts to a notifier, which needs one
    running; the recorded series are what the dashboards read.
    """

    def __init__(
        self,
        workdir: Path,
        rule_files: Sequence[Path],
        datasource_url: str,
        write_base_url: str,
        evaluation_interval: str = "5s",
    ) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = [
            installed_program("vmalert", "victoria-metrics"),
            f"-httpListenAddr=127.0.0.1:{port}",
            f"-datasource.url={datasource_url}",
            f"-remoteWrite.url={write_base_url}",
            f"-evaluationInterval={evaluation_interval}",
            "-loggerLevel=WARN",
            *(f"-rule={path}" for path in rule_files),
        ]
        super().__init__("vmalert", args, url, "/health", workdir / "vmalert.log")

    def groups(self) -> list[dict[str, Any]]:
        """The rule groups with their rules' state, as Prometheus' /api/v1/rules gives them."""
        return list(PromQL(self.url).api("rules", {})["groups"])
