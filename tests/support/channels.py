"""Loading a configuration with one notification channel, as the daemon does."""

from __future__ import annotations

from typing import Any

from ocrfleet.config.loader import LoadedConfig, load_config
from ocrfleet.pluginhost.catalog import PluginCatalog
from ocrfleet.pluginhost.manager import build_plugin_manager


def load_with_channel(name: str, channel: dict[str, Any]) -> LoadedConfig:
    """A one-site config whose only channel, `name`, is `channel` (type and options)."""
    catalog = PluginCatalog.from_manager(build_plugin_manager())
    config = {
        "municipality": {"name": "Testdorp", "adult_population": 5000},
        "sites": [
            {
                "id": "lib",
                "name": "Library",
                "village_core": "Testdorp",
                "opening_hours": {"mon": ["09:00-17:00"]},
                "devices": [],
            }
        ],
        "alerting": {"channels": {name: channel}, "default_channels": [name]},
    }
    return load_config(config, catalog.kinds, catalog.rules, catalog.channel_types)
