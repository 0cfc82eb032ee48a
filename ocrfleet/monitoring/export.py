"""Gathering every loaded plugin's monitoring assets and writing them as files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pluggy

from ocrfleet.monitoring.assets import FOLDERS, SUFFIXES, AssetKind, MonitoringAsset
from ocrfleet.monitoring.contributions import ContributionError, DashboardMerge, parse

# The kinds written as files; panel contributions end up inside dashboards.
FILE_KINDS = (AssetKind.DASHBOARD, AssetKind.RULES, AssetKind.RULE_TEST)


class MonitoringAssetError(Exception):
    """A plugin's asset that cannot be exported; the message names the plugin and the file."""


@dataclass(frozen=True)
class Layout:
    """Where each kind of asset is written."""

    dashboards: Path
    rules: Path
    rule_tests: Path

    @classmethod
    def under(cls, out: Path) -> Layout:
        # promtool test files name their rules `../rules/<file>`: tests/ and
        # rules/ stay side by side, as in a plugin's package.
        return cls(
            out / "grafana" / "dashboards",
            out / "prometheus" / "rules",
            out / "prometheus" / "tests",
        )

    def folder(self, kind: AssetKind) -> Path:
        return {
            AssetKind.DASHBOARD: self.dashboards,
            AssetKind.RULES: self.rules,
            AssetKind.RULE_TEST: self.rule_tests,
        }[kind]


@dataclass(frozen=True)
class ExportedFile:
    plugin: str
    kind: AssetKind
    name: str
    text: str


def collect(manager: pluggy.PluginManager) -> list[ExportedFile]:
    """Calls every `ocrfleet_monitoring_assets` implementation and checks what it returns.

    Panel contributions are merged into the dashboards they name and are not
    files of their own. Raises MonitoringAssetError for a file name two
    plugins both use, a dashboard uid used twice, a dashboard or contribution
    that is not valid, or a plugin whose hook or content function fails.
    """
    found: dict[tuple[AssetKind, str], ExportedFile] = {}
    uids: dict[str, str] = {}
    for impl in manager.hook.ocrfleet_monitoring_assets.get_hookimpls():
        plugin = impl.plugin_name
        for asset in _call(impl):
            exported = _export(plugin, asset)
            where = f"{plugin}: {FOLDERS[asset.kind]}/{asset.name}"
            other = found.get((asset.kind, asset.name))
            if other is not None:
                raise MonitoringAssetError(f"{where}: also provided by plugin {other.plugin!r}")
            if asset.kind is AssetKind.DASHBOARD:
                uid = json.loads(exported.text)["uid"]
                if uid in uids:
                    raise MonitoringAssetError(
                        f"{where}: dashboard uid {uid!r} is already used by {uids[uid]}"
                    )
                uids[uid] = where
            found[(asset.kind, asset.name)] = exported
    files = _with_contributions(list(found.values()))
    order = list(AssetKind)
    return sorted(files, key=lambda f: (order.index(f.kind), f.name))


def _with_contributions(exported: list[ExportedFile]) -> list[ExportedFile]:
    """The files, with every panel contribution merged into the dashboard it names.

    Contributions are taken in the order of their plugins' names, then file
    names, so the result does not depend on the order plugins load in.
    """
    boards = {json.loads(f.text)["uid"]: f for f in exported if f.kind is AssetKind.DASHBOARD}
    contributions = sorted(
        (f for f in exported if f.kind is AssetKind.PANELS), key=lambda f: (f.plugin, f.name)
    )
    merges: dict[str, DashboardMerge] = {}
    for file in contributions:
        where = f"{file.plugin}: {FOLDERS[file.kind]}/{file.name}"
        try:
            contribution = parse(file.text)
            if contribution.dashboard not in boards:
                raise ContributionError(
                    f"no dashboard with uid {contribution.dashboard!r} to add to"
                )
            if contribution.dashboard not in merges:
                board = json.loads(boards[contribution.dashboard].text)
                merges[contribution.dashboard] = DashboardMerge(board)
            merges[contribution.dashboard].add(contribution)
        except ContributionError as exc:
            raise MonitoringAssetError(f"{where}: {exc}") from None
    merged: dict[str, str] = {}
    for uid, merge in merges.items():
        try:
            merged[uid] = json.dumps(merge.result(), indent=2, ensure_ascii=False) + "\n"
        except ContributionError as exc:
            board = boards[uid]
            where = f"{board.plugin}: {FOLDERS[board.kind]}/{board.name}"
            raise MonitoringAssetError(f"{where}: cannot take panels: {exc}") from None
    return [
        ExportedFile(f.plugin, f.kind, f.name, merged[uid]) if uid in merged else f
        for uid, f in boards.items()
    ] + [f for f in exported if f.kind not in (AssetKind.DASHBOARD, AssetKind.PANELS)]


def _call(impl: pluggy.HookImpl) -> list[MonitoringAsset]:
    try:
        result = cast("Sequence[MonitoringAsset] | None", impl.function())
    except Exception as exc:
        raise MonitoringAssetError(
            f"{impl.plugin_name}: ocrfleet_monitoring_assets failed: {exc!r}"
        ) from exc
    return list(result or ())


def _export(plugin: str, asset: MonitoringAsset) -> ExportedFile:
    if not isinstance(asset, MonitoringAsset):
        raise MonitoringAssetError(f"{plugin}: {asset!r} is not a MonitoringAsset")
    where = f"{plugin}: {FOLDERS[asset.kind]}/{asset.name}"
    if "/" in asset.name or "\\" in asset.name or asset.name.startswith("."):
        raise MonitoringAssetError(f"{where}: the name must be a plain file name")
    if not asset.name.endswith(SUFFIXES[asset.kind]):
        suffixes = " or ".join(SUFFIXES[asset.kind])
        raise MonitoringAssetError(f"{where}: the name must end in {suffixes}")
    try:
        text = asset.content()
    except Exception as exc:
        raise MonitoringAssetError(f"{where}: cannot be read: {exc!r}") from exc
    if asset.kind is AssetKind.DASHBOARD:
        _check_dashboard(where, text)
    if asset.kind is AssetKind.PANELS:
        try:
            parse(text)
        except ContributionError as exc:
            raise MonitoringAssetError(f"{where}: {exc}") from None
    if not text.endswith("\n"):
        text += "\n"
    return ExportedFile(plugin, asset.kind, asset.name, text)


def _check_dashboard(where: str, text: str) -> None:
    try:
        board = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MonitoringAssetError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(board, dict) or not isinstance(board.get("uid"), str) or not board["uid"]:
        raise MonitoringAssetError(f"{where}: a dashboard needs a `uid` string")


def planned(exported: Iterable[ExportedFile], layout: Layout) -> dict[Path, str]:
    """Each file's path under `layout`, with its text."""
    return {layout.folder(f.kind) / f.name: f.text for f in exported}


def differences(files: dict[Path, str], layout: Layout) -> list[str]:
    """What is not as `files` says under `layout`: files that differ or are missing,
    and files of a known kind that no plugin provides."""
    problems = [
        f"{path}: differs from what the plugins provide"
        for path, text in files.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    problems += [f"{path}: provided by no plugin" for path in unclaimed(files, layout)]
    return sorted(problems)


def unclaimed(files: dict[Path, str], layout: Layout) -> list[Path]:
    """Files in the layout's folders, with an asset's suffix, that are not in `files`."""
    extra: list[Path] = []
    for kind in FILE_KINDS:
        folder = layout.folder(kind)
        if folder.is_dir():
            extra += [
                path
                for path in sorted(folder.iterdir())
                if path.name.endswith(SUFFIXES[kind]) and path not in files
            ]
    return extra


def write(files: dict[Path, str]) -> None:
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
