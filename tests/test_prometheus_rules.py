"""deploy/prometheus: promtool checks the configs and rules and runs their unit tests.

Needs promtool (Debian package `prometheus`, which `make test` installs). It
is skipped without it, except in CI (the environment variable CI set), where
a missing promtool fails instead of passing silently.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROM = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROM / "rules").glob("*.yml"))
UNIT_TESTS = sorted((PROM / "tests").glob("*.yml"))
METRICS_DOC = (ROOT / "docs" / "metrics.md").read_text()
ALERTS_DOC = (ROOT / "docs" / "alerts.md").read_text()


def run(*args: str | Path) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def rules() -> list[dict[str, Any]]:
    return [rule for path in RULE_FILES for g in load(path)["groups"] for rule in g["rules"]]


def test_the_files_are_there() -> None:
    # A glob that matched nothing would make the promtool calls below vacuous.
    # The core's files and the pc, printer and hotspot plugins' (written by
    # grafana/generate.py; tests/test_dashboards.py checks they are current).
    assert [p.name for p in RULE_FILES] == [
        "ocrfleet-alerts.yml",
        "ocrfleet-hotspot-alerts.yml",
        "ocrfleet-hotspot-recording.yml",
        "ocrfleet-pc-alerts.yml",
        "ocrfleet-printer-alerts.yml",
        "ocrfleet-printer-recording.yml",
        "ocrfleet-recording.yml",
        "ocrfleet-rooms-alerts.yml",
    ]
    assert [p.name for p in UNIT_TESTS] == [
        "alerts_test.yml",
        "hotspot_alerts_test.yml",
        "hotspot_recording_test.yml",
        "pc_alerts_test.yml",
        "printer_alerts_test.yml",
        "printer_recording_test.yml",
        "recording_test.yml",
        "rooms_alerts_test.yml",
    ]


def test_prometheus_config_and_its_rules_check(promtool: str) -> None:
    out = run(promtool, "check", "config", PROM / "prometheus.yml")
    # check config also checks the rule files it names: make sure it found them.
    assert f"{len(RULE_FILES)} rule files found" in out


def test_federation_and_agent_configs_check(promtool: str) -> None:
    run(promtool, "check", "config", PROM / "federate.yml")
    run(promtool, "check", "config", "--agent", PROM / "agent.yml")


def test_rules_check(promtool: str) -> None:
    run(promtool, "check", "rules", *RULE_FILES)


def test_rules_unit_tests(promtool: str) -> None:
    out = run(promtool, "test", "rules", *UNIT_TESTS)
    assert out.count("SUCCESS") == len(UNIT_TESTS)


def discovered(promtool: str, config: Path) -> list[dict[str, str]]:
    # promtool waits out its whole timeout; file_sd has answered long before.
    out = run(promtool, "check", "service-discovery", "--timeout=5s", config, "ocrfleet")
    return [target["labels"] for target in json.loads(out)]


def test_shipped_targets_never_carry_a_site_label(promtool: str) -> None:
    targets = discovered(promtool, PROM / "prometheus.yml")
    assert targets
    for labels in targets:
        assert "site" not in labels
        assert labels["daemon"]
        assert labels["job"] == "ocrfleet"


def test_relabelling_keeps_site_free_for_the_daemon(promtool: str, tmp_path: Path) -> None:
    shutil.copy(PROM / "prometheus.yml", tmp_path / "prometheus.yml")
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "ocrfleet-test.yml").write_text(
        yaml.safe_dump(
            [
                {"targets": ["lib.example:9330"], "labels": {"site": "library"}},
                {"targets": ["[::1]:9330"]},
                {"targets": ["x.example:9330"], "labels": {"daemon": "zuidegem"}},
            ]
        )
    )
    by_instance = {t["instance"]: t for t in discovered(promtool, tmp_path / "prometheus.yml")}
    assert set(by_instance) == {"lib.example:9330", "[::1]:9330", "x.example:9330"}
    stray = by_instance["lib.example:9330"]
    assert "site" not in stray
    assert stray["daemon_site"] == "library"
    assert stray["daemon"] == "lib.example"
    assert by_instance["[::1]:9330"]["daemon"] == "::1"
    assert by_instance["x.example:9330"]["daemon"] == "zuidegem"


def test_scrape_config_honours_no_daemon_labels() -> None:
    (job,) = [
        j for j in load(PROM / "prometheus.yml")["scrape_configs"] if j["job_name"] == "ocrfleet"
    ]
    assert job["honor_labels"] is False


def test_agent_scrapes_exactly_as_the_server_does() -> None:
    def job(path: Path) -> dict[str, Any]:
        jobs = load(path)["scrape_configs"]
        return next(j for j in jobs if j["job_name"] == "ocrfleet")

    assert job(PROM / "agent.yml") == job(PROM / "prometheus.yml")


def test_rules_use_only_documented_metrics() -> None:
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    for rule in rules():
        for name in re.findall(r"\bocrfleet_[a-z0-9_]+", rule["expr"]):
            if any(name in r for r in recorded):
                continue
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            assert f"`{name}`" in METRICS_DOC or f"`{base}`" in METRICS_DOC, name


def test_alerts_carry_the_daemons_routing_labels() -> None:
    alerts = [rule for rule in rules() if "alert" in rule]
    assert len(alerts) > 10
    for rule in alerts:
        labels = rule["labels"]
        assert {"severity", "category", "type"} <= set(labels), rule["alert"]
        assert labels["type"] in ("alert", "reminder")
        if not rule["alert"].startswith("ocrfleet_"):
            # A mirrored rule keeps the daemon's name, so routes and
            # silences written for one side match the other.
            assert f"`{rule['alert']}`" in ALERTS_DOC, rule["alert"]
