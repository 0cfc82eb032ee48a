"""Prometheus in agent mode from the shipped deploy/prometheus/agent.yml, and a central receiver.

The agent runs the file users copy, with only what a deployment changes
filled in: its targets file, its `cluster` label, and the remote_write
URLs, tenant and password file. The scrape job stays as shipped.
"""

from __future__ import annotations

import copy
import json
import shutil
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devpeers.http_service import HttpService, PromQL, bytes_under
from devpeers.mosquitto import free_port
from devpeers.process import installed_program
from devpeers.prometheus import server_args

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_AGENT_CONFIG = ROOT / "deploy" / "prometheus" / "agent.yml"
SHIPPED_RULES = ROOT / "deploy" / "prometheus" / "rules"


@dataclass(frozen=True)
class Target:
    """A daemon's metrics address (host:port) and its name in the targets file."""

    address: str
    daemon: str


def agent_config(
    shipped: dict[str, Any], cluster: str, remote_write_urls: Sequence[str], password_file: Path
) -> dict[str, Any]:
    """The shipped agent config with one copy of its remote_write entry per URL."""
    config = copy.deepcopy(shipped)
    (template,) = config["remote_write"]
    config["global"]["external_labels"]["cluster"] = cluster
    writes = []
    for url in remote_write_urls:
        entry = copy.deepcopy(template)
        entry["url"] = url
        entry["headers"]["X-Scope-OrgID"] = cluster
        entry["basic_auth"] = {"username": cluster, "password_file": str(password_file)}
        writes.append(entry)
    config["remote_write"] = writes
    return config


class PrometheusAgent(HttpService):
    """One municipality's agent: scrapes `targets` and remote-writes to every URL given."""

    def __init__(
        self,
        workdir: Path,
        municipality: str,
        targets: Sequence[Target],
        remote_write_urls: Sequence[str],
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        password = workdir / "remote-write-password"
        password.write_text("not-checked-on-loopback\n")
        shipped = yaml.safe_load(SHIPPED_AGENT_CONFIG.read_text())
        config = agent_config(shipped, municipality, remote_write_urls, password)
        # The shipped job reads targets/ocrfleet-*.yml beside the config file.
        (workdir / "targets").mkdir(exist_ok=True)
        entries = [
            {"targets": [t.address], "labels": {"municipality": municipality, "daemon": t.daemon}}
            for t in targets
        ]
        (workdir / "targets" / f"ocrfleet-{municipality}.yml").write_text(yaml.safe_dump(entries))
        config_path = workdir / "agent.yml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        port = free_port()
        args = [
            installed_program("prometheus", "prometheus"),
            "--enable-feature=agent",
            f"--config.file={config_path}",
            f"--storage.agent.path={workdir / 'wal'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]
        url = f"http://127.0.0.1:{port}"
        super().__init__(f"agent {municipality}", args, url, "/-/ready", workdir / "agent.log")
        self.config = config


class ReceivingPrometheus(HttpService):
    """A Prometheus server that stores what agents remote-write and evaluates `rule_files`."""

    def __init__(
        self, workdir: Path, rule_files: Sequence[Path], evaluation_interval: str = "5s"
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.data_path = workdir / "data"
        config = {
            "global": {"evaluation_interval": evaluation_interval},
            "rule_files": [str(path) for path in rule_files],
        }
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        self.write_url = f"{url}/api/v1/write"
        args = server_args(
            config_path,
            self.data_path,
            port,
            "--web.enable-remote-write-receiver",
            # For snapshots: they write the in-memory head as a compressed block.
            "--web.enable-admin-api",
        )
        super().__init__("receiver", args, url, "/-/ready", workdir / "receiver.log")
        self.promql = PromQL(url)

    def rule_groups(self) -> list[dict[str, Any]]:
        return list(self.promql.api("rules", {})["groups"])

    def disk_bytes(self) -> int:
        return bytes_under(self.data_path)

    def snapshot_bytes(self) -> int:
        """Bytes of a snapshot: everything received so far as blocks, as after compaction."""
        request = urllib.request.Request(f"{self.url}/api/v1/admin/tsdb/snapshot", method="POST")
        with urllib.request.urlopen(request, timeout=600) as reply:
            name: str = json.load(reply)["data"]["name"]
        snapshot = self.data_path / "snapshots" / name
        size = bytes_under(snapshot)
        # Hard links into the live blocks, if any: removing them frees nothing else.
        shutil.rmtree(snapshot)
        return size
