"""The core's dashboards and Prometheus rules name no device kind.

pc, laptop, printer and hotspot are plugins: their panels, queries and rules
come from their monitoring/ folders. The core's (grafana/generate.py, which
writes its dashboards, and everything in ocrfleet/monitoring/) select by what
every kind has, such as seats through `ocrfleet_seat_in_use`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE_FILES = sorted(
    [ROOT / "grafana" / "generate.py"]
    + [
        path
        for path in (ROOT / "ocrfleet" / "monitoring").rglob("*")
        if path.is_file() and path.suffix in (".py", ".json", ".yml", ".yaml")
    ]
)
CORE_DASHBOARDS = sorted((ROOT / "ocrfleet" / "monitoring" / "dashboards").glob("*.json"))
KINDS = ("pc", "laptop", "printer", "hotspot")

# Names the core keeps although they name a kind, each with its reason.
ALLOWED: dict[str, str] = {
    "ocrfleet_pcs_in_use": (
        "site:ocrfleet_pcs_in_use:sum, the deprecated name of "
        "site:ocrfleet_seats_in_use:sum, kept for one release (docs/deploy.md)"
    ),
}

# `kind="pc"`, `kind=~"pc|laptop"`, `kind!="printer"`, also JSON-escaped, and
# YAML's `kind: pc` (promtool's expected labels).
_KIND_MATCHER = re.compile(r'\bkind\s*(?:=~|!~|!=|=)\s*\\?"([^"\\]*)')
_KIND_LABEL = re.compile(r"\bkind:\s*([\w|]+)")
# A kind's own metric or recorded series: ocrfleet_printer_status,
# site:ocrfleet_hotspots_up_while_open:ratio.
_KIND_METRIC = re.compile(rf"\bocrfleet_(?:{'|'.join(KINDS)})s?_[a-z0-9_]*")
# Words a panel title would use for a kind.
_KIND_WORD = re.compile(r"\b(?:PCs?|laptops?|printers?|hotspots?|wifi)\b", re.IGNORECASE)


def kinds_named(text: str) -> list[str]:
    """Every place `text` names a concrete kind as a label value or in a metric name."""
    found = [
        f"kind {value!r}"
        for pattern in (_KIND_MATCHER, _KIND_LABEL)
        for match in pattern.finditer(text)
        for value in [match.group(1)]
        if set(re.split(r"[|()]", value.lower())) & set(KINDS)
    ]
    found += [
        f"metric {m.group(0)}"
        for m in _KIND_METRIC.finditer(text)
        if not any(m.group(0).startswith(allowed) for allowed in ALLOWED)
    ]
    return found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('ocrfleet_device_up{kind=~"pc|laptop", site=~"$site"}', ["kind 'pc|laptop'"]),
        ('{"expr": "count(ocrfleet_device_state{kind=\\"hotspot\\"})"}', ["kind 'hotspot'"]),
        ("exp_labels: {site: library, kind: printer}", ["kind 'printer'"]),
        (
            "record: site:ocrfleet_printers_with_problem:sum",
            ["metric ocrfleet_printers_with_problem"],
        ),
        ("expr: ocrfleet_pc_frozen == 0", ["metric ocrfleet_pc_frozen"]),
        ('ocrfleet_device_up and ocrfleet_seat_in_use{kind="kiosk"}', []),
        ("record: site:ocrfleet_pcs_in_use:sum", []),
    ],
)
def test_the_check_finds_kinds(text: str, expected: list[str]) -> None:
    # The check below would pass vacuously if it found nothing ever.
    assert kinds_named(text) == expected


def test_the_core_files_are_scanned() -> None:
    names = {path.name for path in CORE_FILES}
    assert {"generate.py", "overview.json", "ocrfleet-recording.yml", "alerts_test.yml"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_monitoring_files_name_no_kind(path: Path) -> None:
    assert kinds_named(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", CORE_DASHBOARDS, ids=lambda p: p.name)
def test_core_dashboards_link_and_title_only_core_things(path: Path) -> None:
    board = json.loads(path.read_text(encoding="utf-8"))
    core_uids = {json.loads(p.read_text(encoding="utf-8"))["uid"] for p in CORE_DASHBOARDS}
    linked = set(re.findall(r"/d/([\w-]+)", path.read_text(encoding="utf-8")))
    # A plugin's dashboard is reached through the header's tag link instead.
    assert linked <= core_uids, f"links to a plugin's dashboard: {linked - core_uids}"
    # Descriptions may give kinds as examples of seats; titles say what is shown.
    titles = [panel["title"] for panel in board["panels"]] + [board["title"]]
    assert [t for t in titles if _KIND_WORD.search(t)] == []


def test_the_allow_list_is_still_needed() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in CORE_FILES)
    for name in ALLOWED:
        assert name in text, f"{name} is gone: remove it from ALLOWED"
