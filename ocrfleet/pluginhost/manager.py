"""Building the plugin manager."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from ocrfleet import hookspecs
from ocrfleet.apiversion import API_VERSION, DECLARATION, PluginApiError, api_mismatch

PROJECT = "ocrfleet"


def build_plugin_manager(
    extra_plugins: Iterable[object] = (), *, load_entry_points: bool = True
) -> pluggy.PluginManager:
    """A fresh manager with every installed plugin (entry-point group `ocrfleet`).

    Bundled plugins are installed packages too, so they load the same way
    third-party ones do. `check_pending` makes a misspelt hook name fail here
    rather than be silently ignored. A plugin written for another plugin
    API (ocrfleet/apiversion.py) raises PluginApiError, naming it and both
    versions.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    # Imported here: the built-ins import the hook markers from this package.
    from ocrfleet import builtin_plugin

    manager.register(builtin_plugin, name=PROJECT)
    if load_entry_points:
        try:
            manager.load_setuptools_entrypoints(PROJECT)
        except ImportError as exc:
            # Most often a plugin asking ocrfleet.plugin for a name this
            # release does not have: say so rather than show a traceback.
            raise PluginApiError(
                f"an installed plugin failed to load: {exc} (this ocrfleet offers plugin "
                f"API {API_VERSION}; the plugin may be written for another)"
            ) from exc
        # Installed plugins, the bundled ones included, must say which plugin
        # API they were written for; objects a program registers itself
        # (extra_plugins) are its own business.
        for plugin, _ in manager.list_plugin_distinfo():
            name = manager.get_name(plugin) or repr(plugin)
            problem = api_mismatch(name, getattr(plugin, DECLARATION, None))
            if problem is not None:
                raise PluginApiError(problem)
    for plugin in extra_plugins:
        manager.register(plugin)
    manager.check_pending()
    return manager
