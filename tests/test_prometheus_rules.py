"""The Prometheus side in deploy/prometheus: configs, rules and promtool's own unit tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        # CI installs it (make test); only a developer's machine may lack it.
        if os.environ.get("CI"):
            pytest.fail("promtool is not installed (Debian package prometheus)")
        pytest.skip("promtool is not installed (Debian package prometheus)")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args], capture_output=True, text=True, timeout=120, cwd=PROMETHEUS
    )


@pytest.mark.parametrize("config", ["prometheus.yml", "federate.yml", "agent.yml"])
def test_the_configs_are_valid(config: str) -> None:
    result = _run("check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_are_valid() -> None:
    rules = sorted(str(p.relative_to(PROMETHEUS)) for p in (PROMETHEUS / "rules").glob("*.yml"))
    assert rules, "no rule files"
    result = _run("check", "rules", *rules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_pass_their_unit_tests() -> None:
    tests = sorted(str(p.relative_to(PROMETHEUS)) for p in (PROMETHEUS / "tests").glob("*.yml"))
    assert tests, "no rule tests"
    result = _run("test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
