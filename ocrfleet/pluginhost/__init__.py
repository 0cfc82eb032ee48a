"""Loading plugins (bundled and third-party alike) through pluggy."""

from ocrfleet.hookspecs import CliCommand, hookimpl
from ocrfleet.pluginhost.catalog import PluginCatalog, PluginContribution
from ocrfleet.pluginhost.manager import PROJECT, build_plugin_manager

__all__ = [
    "PROJECT",
    "CliCommand",
    "PluginCatalog",
    "PluginContribution",
    "build_plugin_manager",
    "hookimpl",
]
