"""Plugins' dashboards, Prometheus rules and promtool tests come out of the collection.

A small plugin package, made on disk here, ships one of each in its
monitoring/ folder; the collection writes them beside the core's and the
bundled plugins', and promtool runs the plugin's rule test where it landed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ocrfleet.monitoring import AssetKind, MonitoringAsset, packaged_assets
from ocrfleet.monitoring.export import Layout, MonitoringAssetError, collect, planned, write
from ocrfleet.pluginhost import build_plugin_manager, hookimpl

ROOT = Path(__file__).resolve().parent.parent

UPS_RULES = """\
groups:
  - name: ocrfleet-ups
    rules:
      - alert: ups_on_battery
        expr: ocrfleet_ups_on_battery == 1
        for: 1m
        labels:
          severity: warning
          category: power
          type: alert
        annotations:
          summary: "{{ $labels.site }}/{{ $labels.device }} runs on battery"
"""

UPS_RULE_TEST = """\
rule_files:
  - ../rules/ocrfleet-ups-alerts.yml

evaluation_interval: 1m

tests:
  - interval: 1m
    input_series:
      - series: 'ocrfleet_ups_on_battery{site="library", device="ups-01", kind="ups"}'
        values: '0 0 1 1 1 1'
    alert_rule_test:
      - alertname: ups_on_battery
        eval_time: 2m
        exp_alerts: []
      - alertname: ups_on_battery
        eval_time: 3m
        exp_alerts:
          - exp_labels:
              {severity: warning, category: power, type: alert,
               site: library, device: ups-01, kind: ups}
            exp_annotations:
              summary: "library/ups-01 runs on battery"
"""

UPS_DASHBOARD = {
    "uid": "example-ups",
    "title": "UPS",
    "tags": ["ocrfleet"],
    "panels": [],
}


@pytest.fixture
def ups_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A plugin package `ocrfleet_example_ups`, importable, with its monitoring/ folder."""
    package = tmp_path / "site-packages" / "ocrfleet_example_ups"
    for folder in ("dashboards", "rules", "rule_tests"):
        (package / "monitoring" / folder).mkdir(parents=True)
    (package / "monitoring" / "dashboards" / "ups.json").write_text(json.dumps(UPS_DASHBOARD))
    (package / "monitoring" / "rules" / "ocrfleet-ups-alerts.yml").write_text(UPS_RULES)
    (package / "monitoring" / "rule_tests" / "ups_alerts_test.yml").write_text(UPS_RULE_TEST)
    # Not an asset: only the known suffixes of each folder are.
    (package / "monitoring" / "rules" / "README.txt").write_text("notes\n")
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """\
            from ocrfleet.monitoring import packaged_assets
            from ocrfleet.pluginhost import hookimpl


            @hookimpl
            def ocrfleet_monitoring_assets():
                return packaged_assets("ocrfleet_example_ups")
            """
        )
    )
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "ocrfleet_example_ups", raising=False)
    import ocrfleet_example_ups  # type: ignore[import-not-found]

    module: types.ModuleType = ocrfleet_example_ups
    return module


def test_packaged_assets_reads_the_monitoring_folder(ups_plugin: types.ModuleType) -> None:
    assets = packaged_assets("ocrfleet_example_ups")
    assert [(a.kind, a.name) for a in assets] == [
        (AssetKind.DASHBOARD, "ups.json"),
        (AssetKind.RULES, "ocrfleet-ups-alerts.yml"),
        (AssetKind.RULE_TEST, "ups_alerts_test.yml"),
    ]
    assert assets[1].content() == UPS_RULES


def test_a_plugins_assets_are_exported_beside_the_bundled_ones(
    ups_plugin: types.ModuleType, tmp_path: Path, promtool: str
) -> None:
    out = tmp_path / "monitoring"
    exported = collect(build_plugin_manager([ups_plugin]))
    owners = {(f.kind, f.name): f.plugin for f in exported}
    assert owners[(AssetKind.RULES, "ocrfleet-ups-alerts.yml")] == "ocrfleet_example_ups"
    assert owners[(AssetKind.RULES, "ocrfleet-alerts.yml")] == "ocrfleet"
    assert owners[(AssetKind.DASHBOARD, "printers.json")] == "printer"
    assert owners[(AssetKind.RULE_TEST, "hotspot_alerts_test.yml")] == "hotspot"
    write(planned(exported, Layout.under(out)))

    dashboards = out / "grafana" / "dashboards"
    assert json.loads((dashboards / "ups.json").read_text())["uid"] == "example-ups"
    assert (dashboards / "overview.json").is_file()
    rules = out / "prometheus" / "rules"
    assert (rules / "ocrfleet-ups-alerts.yml").read_text() == UPS_RULES
    assert not (rules / "README.txt").exists()
    # The plugin's test finds its rules where they were written, and passes;
    # so do all the others there.
    tests = sorted((out / "prometheus" / "tests").glob("*.yml"))
    assert "ups_alerts_test.yml" in [t.name for t in tests]
    result = subprocess.run(
        [promtool, "test", "rules", *map(str, tests)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(tests)


class _Assets:
    """A plugin object returning the given assets."""

    def __init__(self, *assets: MonitoringAsset) -> None:
        self.assets = assets

    @hookimpl
    def ocrfleet_monitoring_assets(self) -> Sequence[MonitoringAsset]:
        return self.assets


def _collect_error(*plugins: object) -> str:
    manager = build_plugin_manager(load_entry_points=False)
    for n, plugin in enumerate(plugins):
        manager.register(plugin, name=f"plugin{n}")
    with pytest.raises(MonitoringAssetError) as caught:
        collect(manager)
    return str(caught.value)


def test_two_plugins_with_the_same_file_are_a_conflict() -> None:
    rules = MonitoringAsset.from_text(AssetKind.RULES, "mine.yml", "groups: []\n")
    assert _collect_error(_Assets(rules), _Assets(rules)) == (
        "plugin1: rules/mine.yml: also provided by plugin 'plugin0'"
    )


def test_a_dashboard_uid_used_twice_is_a_conflict() -> None:
    a = MonitoringAsset.from_text(AssetKind.DASHBOARD, "a.json", '{"uid": "same"}')
    b = MonitoringAsset.from_text(AssetKind.DASHBOARD, "b.json", '{"uid": "same"}')
    assert _collect_error(_Assets(a, b)) == (
        "plugin0: dashboards/b.json: dashboard uid 'same' is already used by "
        "plugin0: dashboards/a.json"
    )


@pytest.mark.parametrize(
    ("asset", "message"),
    [
        (
            MonitoringAsset.from_text(AssetKind.DASHBOARD, "bad.json", "{not json"),
            "plugin0: dashboards/bad.json: not valid JSON: Expecting property name enclosed "
            "in double quotes: line 1 column 2 (char 1)",
        ),
        (
            MonitoringAsset.from_text(AssetKind.DASHBOARD, "nouid.json", "{}"),
            "plugin0: dashboards/nouid.json: a dashboard needs a `uid` string",
        ),
        (
            MonitoringAsset.from_text(AssetKind.RULES, "../escape.yml", ""),
            "plugin0: rules/../escape.yml: the name must be a plain file name",
        ),
        (
            MonitoringAsset.from_text(AssetKind.RULE_TEST, "test.json", ""),
            "plugin0: rule_tests/test.json: the name must end in .yml or .yaml",
        ),
    ],
)
def test_a_bad_asset_is_named_with_its_plugin(asset: MonitoringAsset, message: str) -> None:
    assert _collect_error(_Assets(asset)) == message


def test_a_failing_content_function_is_named_with_its_plugin() -> None:
    def broken() -> str:
        raise RuntimeError("no such template")

    asset = MonitoringAsset(AssetKind.DASHBOARD, "gen.json", broken)
    assert _collect_error(_Assets(asset)) == (
        "plugin0: dashboards/gen.json: cannot be read: RuntimeError('no such template')"
    )


def _export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocrfleet", "export-monitoring", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_writes_what_is_checked_in(tmp_path: Path) -> None:
    # The bundled plugins are what this environment has installed.
    result = _export("--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    pairs = [
        (tmp_path / "grafana" / "dashboards", ROOT / "grafana" / "dashboards", "*.json"),
        (tmp_path / "prometheus" / "rules", ROOT / "deploy" / "prometheus" / "rules", "*.yml"),
        (tmp_path / "prometheus" / "tests", ROOT / "deploy" / "prometheus" / "tests", "*.yml"),
    ]
    for written, checked_in, pattern in pairs:
        names = sorted(p.name for p in checked_in.glob(pattern))
        assert sorted(p.name for p in written.glob(pattern)) == names
        for name in names:
            assert (written / name).read_text() == (checked_in / name).read_text(), name

    assert _export("--out", str(tmp_path), "--check").returncode == 0
    (tmp_path / "prometheus" / "rules" / "ocrfleet-alerts.yml").write_text("groups: []\n")
    (tmp_path / "grafana" / "dashboards" / "stray.json").write_text("{}")
    check = _export("--out", str(tmp_path), "--check")
    assert check.returncode == 1
    assert check.stderr.splitlines() == [
        f"{tmp_path}/grafana/dashboards/stray.json: provided by no plugin",
        f"{tmp_path}/prometheus/rules/ocrfleet-alerts.yml: differs from what the plugins provide",
    ]


# -- Panels for dashboards of others ------------------------------------------------

UPS_STAT = {
    "type": "stat",
    "title": "UPS on battery",
    "description": "UPSes running on their battery now.",
    "gridPos": {"w": 4, "h": 4},
    "targets": [{"refId": "A", "expr": "sum(ocrfleet_ups_on_battery)", "instant": True}],
}
UPS_CONTRIBUTION = {
    "dashboard": "ocrfleet-overview",
    "panels": [{"after": "Seats in use", "panel": UPS_STAT}],
    "columns": [
        {
            "table": "Sites",
            "target": {"expr": "sum by (site) (ocrfleet_ups_on_battery)", "instant": True},
            "properties": [{"id": "displayName", "value": "UPS on battery"}],
        }
    ],
}


def _contribution(name: str, data: object) -> MonitoringAsset:
    return MonitoringAsset.from_text(AssetKind.PANELS, name, json.dumps(data))


def _overview(*plugins: object, names: Sequence[str] = ()) -> dict[str, object]:
    manager = build_plugin_manager(load_entry_points=False)
    for n, plugin in enumerate(plugins):
        manager.register(plugin, name=names[n] if names else f"plugin{n}")
    [overview] = [f for f in collect(manager) if f.name == "overview.json"]
    board: dict[str, object] = json.loads(overview.text)
    return board


def _titles(board: dict[str, object]) -> list[str]:
    return [panel["title"] for panel in board["panels"]]  # type: ignore[attr-defined]


def _panel(board: dict[str, object], title: str) -> dict[str, Any]:
    [panel] = [p for p in board["panels"] if p["title"] == title]  # type: ignore[attr-defined]
    found: dict[str, Any] = panel
    return found


def test_a_contribution_adds_a_panel_and_a_column_to_the_overview() -> None:
    core = _overview()
    board = _overview(_Assets(_contribution("ups-overview.json", UPS_CONTRIBUTION)))
    titles = _titles(core)
    at = titles.index("Seats in use") + 1
    assert _titles(board) == [*titles[:at], "UPS on battery", *titles[at:]]
    # Numbered and laid out again: the stat sits beside the one it follows.
    ids = [panel["id"] for panel in board["panels"]]  # type: ignore[attr-defined]
    assert ids == list(range(1, len(ids) + 1))
    seats, ups = _panel(board, "Seats in use"), _panel(board, "UPS on battery")
    assert ups["gridPos"] == {"x": seats["gridPos"]["x"] + 4, "y": 0, "w": 4, "h": 4}
    sites, core_sites = _panel(board, "Sites"), _panel(core, "Sites")
    ref = chr(ord("A") + len(core_sites["targets"]))
    assert sites["targets"][-1] == {
        "expr": "sum by (site) (ocrfleet_ups_on_battery)",
        "instant": True,
        "refId": ref,
    }
    assert sites["fieldConfig"]["overrides"][-1] == {
        "matcher": {"id": "byName", "options": f"Value #{ref}"},
        "properties": [{"id": "displayName", "value": "UPS on battery"}],
    }
    # The core's own file is untouched: only the exported dashboard changes.
    shipped = json.loads((ROOT / "ocrfleet/monitoring/dashboards/overview.json").read_text())
    assert _titles(shipped) == titles


def test_contributions_after_one_panel_keep_the_order_of_their_plugins() -> None:
    def after_seats(title: str) -> dict[str, object]:
        return {
            "dashboard": "ocrfleet-overview",
            "panels": [{"after": "Seats in use", "panel": {**UPS_STAT, "title": title}}],
        }

    # Registered in reverse: the order is the plugins' names, not their loading.
    board = _overview(
        _Assets(_contribution("b.json", after_seats("second"))),
        _Assets(_contribution("a.json", after_seats("first"))),
        names=["zeta", "alpha"],
    )
    titles = _titles(board)
    at = titles.index("Seats in use")
    assert titles[at + 1 : at + 3] == ["first", "second"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {**UPS_CONTRIBUTION, "dashboard": "example-nowhere"},
            "no dashboard with uid 'example-nowhere' to add to",
        ),
        (
            {"dashboard": "ocrfleet-overview", "panels": [{"after": "Nope", "panel": UPS_STAT}]},
            "dashboard 'ocrfleet-overview' has no panel titled 'Nope'",
        ),
        (
            {
                "dashboard": "ocrfleet-overview",
                "columns": [{"table": "Seats in use", "target": {"expr": "1"}}],
            },
            "panel 'Seats in use' is a stat, not a table",
        ),
        (
            {
                "dashboard": "ocrfleet-overview",
                "panels": [{"after": "Sites", "before": "Sites", "panel": UPS_STAT}],
            },
            "panels[0]: `after` or `before` is one panel title",
        ),
        (
            {
                "dashboard": "ocrfleet-overview",
                "panels": [{"panel": {**UPS_STAT, "gridPos": {"w": 30, "h": 4}}}],
            },
            "panels[0] ('UPS on battery'): `gridPos` needs `w` (1 to 24) and `h`",
        ),
        ({"dashboard": "ocrfleet-overview"}, "neither `panels` nor `columns`: nothing to add"),
        ({"dashboard": "ocrfleet-overview", "rows": []}, "unknown keys ['rows']"),
    ],
)
def test_a_bad_contribution_is_named_with_its_plugin(data: object, message: str) -> None:
    error = _collect_error(_Assets(_contribution("ups-overview.json", data)))
    assert error == f"plugin0: panels/ups-overview.json: {message}"


def test_a_dashboard_that_cannot_be_laid_out_again_is_named() -> None:
    board = MonitoringAsset.from_text(
        AssetKind.DASHBOARD, "x.json", json.dumps({"uid": "example-x", "panels": [{"title": "a"}]})
    )
    panels = {"dashboard": "example-x", "panels": [{"panel": UPS_STAT}]}
    assert _collect_error(_Assets(board), _Assets(_contribution("x-panels.json", panels))) == (
        "plugin0: dashboards/x.json: cannot take panels: panel 'a': `gridPos` needs `w` "
        "(1 to 24) and `h`"
    )
