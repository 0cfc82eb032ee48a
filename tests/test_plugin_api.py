"""The plugin API's version is checked when an installed plugin loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ocrfleet.plugin
from ocrfleet.apiversion import API_VERSION, PluginApiError, api_mismatch
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager


def install(site: Path, body: str, name: str = "doorcount") -> None:
    """A distribution with an `ocrfleet` entry point, found through sys.path as pip would."""
    # A module left by an earlier test would be taken instead of this one.
    sys.modules.pop(f"{name}_plugin", None)
    (site / f"{name}_plugin.py").write_text(body, encoding="utf-8")
    info = site / f"{name}-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text(f"[ocrfleet]\n{name} = {name}_plugin\n")


PLUGIN = """
from ocrfleet.plugin import hookimpl
{declaration}

@hookimpl
def ocrfleet_cli_commands():
    return []
"""


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ('"2.0"', "plugin 'doorcount' was written for plugin API 2.0, but this ocrfleet offers"),
        (
            f'"{API_VERSION.split(".")[0]}.99"',
            f"was written for plugin API {API_VERSION.split('.')[0]}.99",
        ),
        (None, "plugin 'doorcount' does not say which plugin API it was written for"),
        ('"one"', "OCRFLEET_PLUGIN_API = 'one'"),
    ],
)
def test_a_plugin_for_another_api_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: str | None, message: str
) -> None:
    line = "" if declared is None else f"OCRFLEET_PLUGIN_API = {declared}"
    install(tmp_path, PLUGIN.format(declaration=line))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginApiError, match=message.replace(".", r"\.").replace("(", r"\(")):
        build_plugin_manager()


def test_a_plugin_for_this_api_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(tmp_path, PLUGIN.format(declaration=f'OCRFLEET_PLUGIN_API = "{API_VERSION}"'))
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = build_plugin_manager()
    assert manager.get_plugin("doorcount") is not None
    PluginCatalog.from_manager(manager)


def test_a_plugin_asking_for_a_name_the_api_lacks_gets_a_clear_error(
    tmp_path: Path,
) -> None:
    install(tmp_path, "from ocrfleet.plugin import TeleportKind\n")
    result = subprocess.run(
        [sys.executable, "-m", "ocrfleet", "plugins"],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ocrfleet: an installed plugin failed to load: cannot import name")
    assert "TeleportKind" in line and f"offers plugin API {API_VERSION}" in line


def test_the_daemon_refuses_to_start_naming_plugin_and_versions(tmp_path: Path) -> None:
    install(tmp_path, PLUGIN.format(declaration='OCRFLEET_PLUGIN_API = "2.0"'))
    result = subprocess.run(
        [sys.executable, "-m", "ocrfleet", "check-config", "-c", "/nonexistent.toml"],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ocrfleet: plugin 'doorcount' was written for plugin API 2.0, "
        f"but this ocrfleet offers plugin API {API_VERSION}"
    )


def test_same_major_and_older_minor_fit() -> None:
    assert api_mismatch("x", "1.0", offered="1.3") is None
    assert api_mismatch("x", "1.4", offered="1.3") is not None
    assert api_mismatch("x", "0.9", offered="1.3") is not None


def test_every_public_name_is_there() -> None:
    for name in ocrfleet.plugin.__all__:
        assert hasattr(ocrfleet.plugin, name), name
