"""One file a plugin contributes to monitoring, and reading them from a package."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib.resources import files


class AssetKind(StrEnum):
    DASHBOARD = "dashboard"
    """A Grafana dashboard, as the JSON Grafana exports."""
    RULES = "rules"
    """A Prometheus rule file (recording or alerting rules)."""
    RULE_TEST = "rule_test"
    """A `promtool test rules` file; it names its rule files as `../rules/<name>`."""
    PANELS = "panels"
    """Panels and table columns for a dashboard another plugin (or the core) ships.

    Merged into that dashboard when the files are exported, never written
    as a file of its own (ocrfleet.monitoring.contributions).
    """


# The folder of each kind inside a package's `monitoring/` folder, and the
# file names each kind accepts.
FOLDERS: dict[AssetKind, str] = {
    AssetKind.DASHBOARD: "dashboards",
    AssetKind.RULES: "rules",
    AssetKind.RULE_TEST: "rule_tests",
    AssetKind.PANELS: "panels",
}
SUFFIXES: dict[AssetKind, tuple[str, ...]] = {
    AssetKind.DASHBOARD: (".json",),
    AssetKind.RULES: (".yml", ".yaml"),
    AssetKind.RULE_TEST: (".yml", ".yaml"),
    AssetKind.PANELS: (".json",),
}


@dataclass(frozen=True)
class MonitoringAsset:
    """A file for Grafana or Prometheus: its kind, its file name and how to get its text.

    `content` is called only when the assets are exported, so a plugin may
    generate a dashboard in Python without slowing down the daemon's start.
    """

    kind: AssetKind
    name: str
    content: Callable[[], str]

    @classmethod
    def from_text(cls, kind: AssetKind, name: str, text: str) -> MonitoringAsset:
        return cls(kind, name, lambda: text)


def packaged_assets(package: str, folder: str = "monitoring") -> list[MonitoringAsset]:
    """Every asset shipped in `package`'s `folder`.

    That is dashboards/*.json, rules/*.yml, rule_tests/*.yml (or .yaml) and
    panels/*.json.

    Declare the files as package data in the distribution (pyproject.toml,
    `[tool.setuptools.package-data]`) so they are installed with it.
    """
    root = files(package).joinpath(folder)
    assets: list[MonitoringAsset] = []
    for kind, subfolder in FOLDERS.items():
        directory = root.joinpath(subfolder)
        if not directory.is_dir():
            continue
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if entry.is_file() and entry.name.endswith(SUFFIXES[kind]):
                read = functools.partial(entry.read_text, encoding="utf-8")
                assets.append(MonitoringAsset(kind, entry.name, read))
    return assets
