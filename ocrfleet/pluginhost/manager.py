"""Building the plugin manager."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from ocrfleet.pluginhost import hookspecs

PROJECT = "ocrfleet"


def build_plugin_manager(
    extra_plugins: Iterable[object] = (), *, load_entry_points: bool = True
) -> pluggy.PluginManager:
    """A fresh manager with every installed plugin (entry-point group `ocrfleet`).

    Bundled plugins are installed packages too, so they load the same way
    third-party ones do. `check_pending` makes a misspelt hook name fail here
    rather than be silently ignored.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    # Imported here: the built-ins import the hook markers from this package.
    from ocrfleet import builtin_plugin

    manager.register(builtin_plugin, name=PROJECT)
    if load_entry_points:
        manager.load_setuptools_entrypoints(PROJECT)
    for plugin in extra_plugins:
        manager.register(plugin)
    manager.check_pending()
    return manager
