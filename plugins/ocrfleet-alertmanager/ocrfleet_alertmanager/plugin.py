"""Hook implementations of the bundled Alertmanager channel plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import ChannelType, MessageCatalog, hookimpl, packaged_catalog

# The plugin API this plugin is written for (ocrfleet/plugin.py).
OCRFLEET_PLUGIN_API = "1.1"


@hookimpl
def ocrfleet_channel_types() -> Sequence[ChannelType]:
    from ocrfleet_alertmanager.channel import AlertmanagerChannelType

    return [AlertmanagerChannelType()]


@hookimpl
def ocrfleet_message_catalogs() -> Sequence[MessageCatalog]:
    # The words of the templates (templates/*.j2), domain "ocrfleet_alertmanager".
    return [packaged_catalog("ocrfleet_alertmanager")]
