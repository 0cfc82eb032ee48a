"""Every code block in the docs that is not Python is checked here too.

- TOML blocks parse. A configuration block is a piece of a config file: it is
  laid over the example configuration (`config.example.toml`) the way a
  reader would paste it in, and the result must pass the same validation as
  `ocrfleet check-config`, with the installed plugins and the docs' own
  example plugins. Packaging blocks (a plugin's `pyproject.toml`) must depend
  on this release of ocrfleet.
- JSON and YAML blocks parse.
- PromQL blocks parse (promtool checks them as rules), and the ocrfleet
  metrics they query are documented in docs/metrics.md or defined by the
  example code of the same page.

Python blocks run in tests/test_docs.py.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import subprocess
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

import ocrfleet
from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import load_config
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager
from tests import test_plugin_people_counter
from tests.test_docs import example_modules

__all__ = ["example_modules"]  # a fixture used below

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
METRICS_DOC = ROOT / "docs" / "metrics.md"
EXAMPLE_CONFIG = ROOT / "config.example.toml"
PACKAGING_TABLES = frozenset({"build-system", "project", "tool"})

_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_METRIC_ROW = re.compile(r"^\| `(ocrfleet_\w+)` \|", re.MULTILINE)
_METRIC_NAME = re.compile(r"\bocrfleet_[a-z0-9_]+")


@dataclasses.dataclass(frozen=True)
class Block:
    doc: str
    line: int
    language: str
    text: str

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks(language: str) -> list[Block]:
    found: list[Block] = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            if match.group(1) == language:
                line = text.count("\n", 0, match.start(2)) + 1
                found.append(Block(str(doc.relative_to(ROOT)), line, language, match.group(2)))
    return found


def _toml(block: Block) -> dict[str, Any] | None:
    try:
        return tomllib.loads(block.text)
    except tomllib.TOMLDecodeError:
        return None  # test_toml_block_parses says so


def _is_packaging(block: Block) -> bool:
    data = _toml(block)
    return data is not None and bool(PACKAGING_TABLES & data.keys())


TOML_BLOCKS = blocks("toml")
CONFIG_BLOCKS = [b for b in TOML_BLOCKS if _toml(b) is not None and not _is_packaging(b)]
PACKAGING_BLOCKS = [b for b in TOML_BLOCKS if _is_packaging(b)]
PROMQL_BLOCKS = blocks("promql")


def overlay(base: dict[str, Any], piece: dict[str, Any]) -> dict[str, Any]:
    """The config `base` with `piece` pasted in, as a reader would.

    Tables merge key by key. A `[[sites]]` entry replaces the keys it names
    in the site with its id (or is a new site); `[[sites.devices]]` adds a
    device to the first site, or replaces the one with its id. Any other
    list replaces the list it stands for.
    """
    merged = copy.deepcopy(base)
    for key, value in piece.items():
        if key == "sites":
            merged["sites"] = _overlay_sites(merged.get("sites", []), value)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = overlay(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _overlay_sites(sites: list[dict[str, Any]], piece: Any) -> list[dict[str, Any]]:
    sites = copy.deepcopy(sites)
    if isinstance(piece, dict):  # `[[sites.devices]]` alone: devices of some site
        first = sites[0]
        for device in piece.get("devices", []):
            first["devices"] = [d for d in first.get("devices", []) if d["id"] != device["id"]]
            first["devices"].append(device)
        return sites
    for site in piece:
        same = [s for s in sites if s["id"] == site.get("id")]
        if same:
            same[0].update(copy.deepcopy(site))
        else:
            sites.append(copy.deepcopy(site))
    return sites


@pytest.fixture
def plugins(example_modules: dict[str, types.ModuleType]) -> PluginCatalog:
    """The installed plugins, and the ones the docs build as examples."""
    examples = [
        module
        for module in example_modules.values()
        if any(
            name.startswith("ocrfleet_") and callable(value) for name, value in vars(module).items()
        )
    ]
    return PluginCatalog.from_manager(build_plugin_manager([*examples, test_plugin_people_counter]))


def test_the_blocks_are_found() -> None:
    assert len(CONFIG_BLOCKS) >= 20
    assert len(PACKAGING_BLOCKS) >= 4
    assert len(PROMQL_BLOCKS) >= 20
    assert len(blocks("json")) >= 10
    assert len(blocks("yaml")) >= 3


@pytest.mark.parametrize("block", TOML_BLOCKS, ids=str)
def test_toml_block_parses(block: Block) -> None:
    try:
        tomllib.loads(block.text)
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"{block}: not TOML: {exc}")


@pytest.mark.parametrize("block", CONFIG_BLOCKS, ids=str)
def test_config_block_is_valid(block: Block, plugins: PluginCatalog) -> None:
    base = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    data = overlay(base, tomllib.loads(block.text))
    try:
        load_config(data, plugins.kinds, plugins.rules, plugins.channel_types, read_secrets=False)
    except ConfigError as exc:
        pytest.fail(f"{block}: laid over {EXAMPLE_CONFIG.name}, it is not valid:\n{exc.render()}")


@pytest.mark.parametrize("block", PACKAGING_BLOCKS, ids=str)
def test_packaging_block_depends_on_this_release(block: Block) -> None:
    project = tomllib.loads(block.text).get("project", {})
    for requirement in (Requirement(text) for text in project.get("dependencies", [])):
        if requirement.name == "ocrfleet":
            assert requirement.specifier.contains(ocrfleet.__version__), (
                f"{block}: {requirement} does not admit ocrfleet {ocrfleet.__version__}"
            )


@pytest.mark.parametrize("block", blocks("json"), ids=str)
def test_json_block_parses(block: Block) -> None:
    try:
        json.loads(block.text)
    except json.JSONDecodeError as exc:
        pytest.fail(f"{block}: not JSON: {exc}")


@pytest.mark.parametrize("block", blocks("yaml"), ids=str)
def test_yaml_block_parses(block: Block) -> None:
    try:
        yaml.safe_load(block.text)
    except yaml.YAMLError as exc:
        pytest.fail(f"{block}: not YAML: {exc}")


def test_promql_blocks_parse(promtool: str, tmp_path: Path) -> None:
    # One recording rule per block: `promtool check rules` parses every expression.
    rules = {
        "groups": [
            {
                "name": "docs",
                "rules": [
                    {"record": f"docs:block_{i}", "expr": block.text}
                    for i, block in enumerate(PROMQL_BLOCKS)
                ],
            }
        ]
    }
    path = tmp_path / "docs-promql.yml"
    path.write_text(json.dumps(rules), encoding="utf-8")  # JSON is YAML
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        where = {f"block_{i}": str(block) for i, block in enumerate(PROMQL_BLOCKS)}
        output = re.sub(r"block_\d+", lambda m: where.get(m.group(), m.group()), result.stderr)
        pytest.fail(f"promtool refuses a PromQL block of the docs:\n{output}{result.stdout}")


def _documented_metrics() -> set[str]:
    return set(_METRIC_ROW.findall(METRICS_DOC.read_text(encoding="utf-8")))


def _defined_in_code(doc: str) -> set[str]:
    """Metric names the page's own example code defines (a plugin's metrics)."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    code = "".join(m.group(2) for m in _BLOCK.finditer(text) if m.group(1) in ("python", "yaml"))
    return set(_METRIC_NAME.findall(code))


@pytest.mark.parametrize("block", PROMQL_BLOCKS, ids=str)
def test_promql_block_queries_known_metrics(block: Block) -> None:
    known = _documented_metrics() | _defined_in_code(block.doc)
    # A histogram's or counter's series carry suffixes the table leaves out.
    names = {re.sub(r"_(bucket|sum|count)$", "", name) for name in _METRIC_NAME.findall(block.text)}
    unknown = sorted(n for n in names if n not in known and f"{n}_total" not in known)
    assert unknown == [], f"{block}: not in docs/metrics.md nor in the page's code: {unknown}"


def test_the_overlay_reads_as_a_reader_pastes() -> None:
    base: dict[str, Any] = {
        "alerting": {"repeat_interval": "4h", "routes": [{"channels": ["a"]}]},
        "sites": [{"id": "lib", "name": "L", "devices": [{"id": "pc-01", "kind": "pc"}]}],
    }
    piece: dict[str, Any] = {
        "alerting": {"evaluation_interval": "15s", "routes": [{"channels": ["b"]}]},
        "sites": {"devices": [{"id": "pc-01", "kind": "laptop"}, {"id": "p", "kind": "printer"}]},
    }
    merged = overlay(base, piece)
    assert merged["alerting"] == {
        "repeat_interval": "4h",
        "evaluation_interval": "15s",
        "routes": [{"channels": ["b"]}],
    }
    assert merged["sites"][0]["devices"] == [
        {"id": "pc-01", "kind": "laptop"},
        {"id": "p", "kind": "printer"},
    ]
    new_site = overlay(base, {"sites": [{"id": "hall", "name": "H"}, {"id": "lib", "name": "Lib"}]})
    assert [(s["id"], s["name"]) for s in new_site["sites"]] == [("lib", "Lib"), ("hall", "H")]
    assert new_site["sites"][0]["devices"] == base["sites"][0]["devices"]
