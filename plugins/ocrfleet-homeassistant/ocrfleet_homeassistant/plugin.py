"""Hook implementations of the bundled Home Assistant integration."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import MessageCatalog, ServiceType, hookimpl, packaged_catalog

# The plugin API this plugin is written for (ocrfleet/plugin.py).
OCRFLEET_PLUGIN_API = "1.3"


@hookimpl
def ocrfleet_services() -> Sequence[ServiceType]:
    from ocrfleet_homeassistant.service import HomeAssistantType

    return [HomeAssistantType()]


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    # The entities' names, domain "ocrfleet_homeassistant".
    return [packaged_catalog("ocrfleet_homeassistant")]
