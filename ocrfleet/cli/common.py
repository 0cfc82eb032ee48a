"""Helpers shared by the subcommands."""

from __future__ import annotations

import sys
from pathlib import Path

import pluggy

from ocrfleet.config.errors import ConfigError
from ocrfleet.config.loader import LoadedConfig, load_config_file
from ocrfleet.pluginhost.catalog import PluginCatalog, PluginConflictError
from ocrfleet.pluginhost.manager import build_plugin_manager

# Subcommands of the core; a plugin may not take these names.
BUILTIN_COMMANDS = frozenset(
    {
        "run",
        "check-config",
        "plugins",
        "probe",
        "maintenance",
        "silence",
        "norms",
        "report",
        "store",
    }
)


def load_catalog() -> PluginCatalog:
    try:
        return PluginCatalog.from_manager(build_plugin_manager(), BUILTIN_COMMANDS)
    except PluginConflictError as exc:
        print(f"ocrfleet: plugin conflict: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    except pluggy.PluginValidationError as exc:
        print(f"ocrfleet: plugin {exc.plugin!r} is not valid: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


def load_or_exit(path: Path, catalog: PluginCatalog) -> LoadedConfig:
    """Load a config file, or print every problem as `path.to.key: message` and exit 1."""
    try:
        return load_config_file(path, catalog.kinds, catalog.rules, catalog.channel_types)
    except ConfigError as exc:
        print(f"{path}: configuration is not valid:", file=sys.stderr)
        for line in exc.render().splitlines():
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(1) from exc
