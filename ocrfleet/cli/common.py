"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pluggy

from ocrfleet.apiversion import PluginApiError
from ocrfleet.calendars.live import CalendarBook
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
        "export-monitoring",
    }
)


def add_state_dir_option(parser: argparse.ArgumentParser, help: str, default: Any = None) -> None:
    """`--state-dir`, the demo's state directory, spelt alike in every command.

    `--demo-state-dir`, its old spelling in some commands, still works but is
    hidden from the help and warns.
    """
    parser.add_argument("--state-dir", type=Path, default=default, metavar="DIR", help=help)
    parser.add_argument(
        "--demo-state-dir",
        dest="state_dir",
        type=Path,
        default=argparse.SUPPRESS,
        action=_DeprecatedSpelling,
        new_spelling="--state-dir",
        help=argparse.SUPPRESS,
    )


def add_fleet_options(parser: argparse.ArgumentParser, *, top_level: bool = True) -> None:
    """`-c/--config` and `--state-dir` of a command that works on the demo fleet without -c.

    A command with actions adds them to its own parser (`top_level`) and to
    each action's, so they are taken before and after ACTION; after it, only
    when given, so that they do not undo a value given before.
    """
    default: Any = None if top_level else argparse.SUPPRESS
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=default,
        help="TOML configuration file (default: the demo fleet, as `ocrfleet run` without -c)",
    )
    add_state_dir_option(
        parser,
        default=default,
        help="without -c: the demo's state directory, as given to `ocrfleet run --state-dir` "
        "(default: a per-user state dir)",
    )


class _DeprecatedSpelling(argparse.Action):
    """Stores like the option it is an old name of, and says which name to use now."""

    def __init__(self, *args: Any, new_spelling: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new_spelling = new_spelling

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(
            f"{parser.prog}: {option_string} is deprecated; use {self.new_spelling}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def load_catalog() -> PluginCatalog:
    try:
        return PluginCatalog.from_manager(build_plugin_manager(), BUILTIN_COMMANDS)
    except PluginConflictError as exc:
        print(f"ocrfleet: plugin conflict: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    except pluggy.PluginValidationError as exc:
        print(f"ocrfleet: plugin {exc.plugin!r} is not valid: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    except PluginApiError as exc:
        print(f"ocrfleet: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


def load_or_exit(
    path: Path,
    catalog: PluginCatalog,
    *,
    read_secrets: bool = True,
    calendars: CalendarBook | None = None,
) -> LoadedConfig:
    """Load a config file, or print every problem as `path.to.key: message` and exit 1.

    A command that never sends anything passes `read_secrets=False`: it then
    does not need the passwords and keys the daemon reads from the
    environment or files.
    """
    try:
        return load_config_file(
            path,
            catalog.kinds,
            catalog.rules,
            catalog.channel_types,
            read_secrets=read_secrets,
            calendars=calendars,
        )
    except ConfigError as exc:
        print_problems(path, exc)
        raise SystemExit(1) from exc


def print_problems(path: Path, exc: ConfigError) -> None:
    """Every problem of a configuration, one `path.to.key: message` per line, to stderr."""
    print(f"{path}: configuration is not valid:", file=sys.stderr)
    for line in exc.render().splitlines():
        print(f"  {line}", file=sys.stderr)
