"""Panels a plugin adds to a dashboard it does not ship, such as the fleet overview.

A contribution is a JSON object naming the dashboard by uid, with the panels
to place in it and the columns to add to its tables:

    {
      "dashboard": "ocrfleet-overview",
      "panels": [{"after": "Seats in use", "panel": {...a Grafana panel...}}],
      "columns": [{"table": "Sites", "target": {...}, "properties": [...]}]
    }

A panel goes `after` or `before` the panel of that title, or at the end
without either; its `gridPos` gives only its width and height, since the
dashboard is laid out again. A column is one more query of a table panel;
`properties` are Grafana field overrides for the column it gives.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]

# Grafana's grid is 24 columns wide.
GRID_WIDTH = 24


class ContributionError(ValueError):
    """A contribution that cannot be read or placed; the message says what and where."""


@dataclass(frozen=True)
class PanelPlacement:
    panel: Json
    after: str = ""
    before: str = ""


@dataclass(frozen=True)
class TableColumn:
    table: str
    target: Json
    properties: list[Json]


@dataclass(frozen=True)
class Contribution:
    dashboard: str
    panels: list[PanelPlacement]
    columns: list[TableColumn]


def parse(text: str) -> Contribution:
    """Reads a contribution, raising ContributionError for anything malformed."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContributionError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ContributionError("a contribution is a JSON object")
    dashboard = data.get("dashboard")
    if not isinstance(dashboard, str) or not dashboard:
        raise ContributionError("`dashboard` must be the uid of a dashboard")
    unknown = set(data) - {"dashboard", "panels", "columns"}
    if unknown:
        raise ContributionError(f"unknown keys {sorted(unknown)}")
    panels = [_placement(n, item) for n, item in enumerate(_list(data, "panels"))]
    columns = [_column(n, item) for n, item in enumerate(_list(data, "columns"))]
    if not panels and not columns:
        raise ContributionError("neither `panels` nor `columns`: nothing to add")
    return Contribution(dashboard, panels, columns)


def _list(data: Json, key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ContributionError(f"`{key}` must be a list")
    return value


def _placement(n: int, item: Any) -> PanelPlacement:
    where = f"panels[{n}]"
    if not isinstance(item, dict) or not isinstance(item.get("panel"), dict):
        raise ContributionError(f"{where}: needs a `panel` object")
    after, before = item.get("after", ""), item.get("before", "")
    if not isinstance(after, str) or not isinstance(before, str) or (after and before):
        raise ContributionError(f"{where}: `after` or `before` is one panel title")
    panel = item["panel"]
    if not isinstance(panel.get("title"), str) or not panel["title"]:
        raise ContributionError(f"{where}: the panel needs a `title`")
    if _size(panel) is None:
        raise ContributionError(
            f"{where} ({panel['title']!r}): `gridPos` needs `w` (1 to {GRID_WIDTH}) and `h`"
        )
    return PanelPlacement(panel, after, before)


def _size(panel: Json) -> tuple[int, int] | None:
    """The panel's width and height, if its `gridPos` gives them as Grafana allows."""
    grid = panel.get("gridPos")
    if not isinstance(grid, dict):
        return None
    width, height = grid.get("w"), grid.get("h")
    if not isinstance(width, int) or not isinstance(height, int):
        return None
    return (width, height) if 1 <= width <= GRID_WIDTH and height >= 1 else None


def _column(n: int, item: Any) -> TableColumn:
    where = f"columns[{n}]"
    if not isinstance(item, dict):
        raise ContributionError(f"{where}: must be an object")
    table, target, properties = item.get("table"), item.get("target"), item.get("properties", [])
    if not isinstance(table, str) or not table:
        raise ContributionError(f"{where}: `table` must be the title of a table panel")
    if not isinstance(target, dict) or not isinstance(target.get("expr"), str):
        raise ContributionError(f"{where}: `target` needs an `expr`")
    if not isinstance(properties, list) or not all(isinstance(p, dict) for p in properties):
        raise ContributionError(f"{where}: `properties` must be a list of objects")
    return TableColumn(table, target, properties)


class DashboardMerge:
    """One dashboard taking contributions in turn, then laid out again."""

    def __init__(self, board: Json) -> None:
        self.board = board
        panels = board.get("panels", [])
        if not isinstance(panels, list) or not all(isinstance(p, dict) for p in panels):
            raise ContributionError(f"dashboard {board.get('uid')!r}: `panels` is not a list")
        self._panels: list[Json] = list(panels)
        # The last panel placed after each title: the next one placed after
        # the same title follows it, so contributions keep their order.
        self._last_after: dict[str, Json] = {}

    def add(self, contribution: Contribution) -> None:
        for placement in contribution.panels:
            self._place(placement)
        for column in contribution.columns:
            self._add_column(column)

    def result(self) -> Json:
        self.board["panels"] = self._panels
        flow(self._panels)
        return self.board

    def _place(self, placement: PanelPlacement) -> None:
        # A copy, with `id` first as in the dashboard's own panels; flow() numbers it.
        panel = {"id": 0, **copy.deepcopy(placement.panel)}
        if placement.before:
            index = self._index(placement.before)
        elif placement.after:
            previous = self._last_after.get(placement.after)
            if previous is None:
                previous = self._panels[self._index(placement.after)]
            index = next(n for n, p in enumerate(self._panels) if p is previous) + 1
            self._last_after[placement.after] = panel
        else:
            index = len(self._panels)
        self._panels.insert(index, panel)

    def _add_column(self, column: TableColumn) -> None:
        table = self._panels[self._index(column.table)]
        if table.get("type") != "table":
            raise ContributionError(f"panel {column.table!r} is a {table.get('type')}, not a table")
        targets = table.setdefault("targets", [])
        ref = _next_ref_id(targets)
        targets.append({**copy.deepcopy(column.target), "refId": ref})
        overrides = table.setdefault("fieldConfig", {}).setdefault("overrides", [])
        overrides.append(
            {
                "matcher": {"id": "byName", "options": f"Value #{ref}"},
                "properties": copy.deepcopy(column.properties),
            }
        )

    def _index(self, title: str) -> int:
        found = [n for n, panel in enumerate(self._panels) if panel.get("title") == title]
        if not found:
            raise ContributionError(
                f"dashboard {self.board.get('uid')!r} has no panel titled {title!r}"
            )
        if len(found) > 1:
            raise ContributionError(
                f"dashboard {self.board.get('uid')!r} has {len(found)} panels titled {title!r}"
            )
        return found[0]


def _next_ref_id(targets: list[Json]) -> str:
    used = {t.get("refId") for t in targets}
    free = [chr(c) for c in range(ord("A"), ord("Z") + 1) if chr(c) not in used]
    if not free:
        raise ContributionError("a table has no query letter left for another column")
    return free[0]


def flow(panels: list[Json]) -> None:
    """Numbers the panels and places them left to right, wrapping at the grid's width."""
    x = y = row_height = 0
    for n, panel in enumerate(panels, start=1):
        size = _size(panel)
        if size is None:
            raise ContributionError(
                f"panel {panel.get('title')!r}: `gridPos` needs `w` (1 to {GRID_WIDTH}) and `h`"
            )
        width, height = size
        if x + width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        panel["id"] = n
        panel["gridPos"] = {"x": x, "y": y, "w": width, "h": height}
        x += width
        row_height = max(row_height, height)
