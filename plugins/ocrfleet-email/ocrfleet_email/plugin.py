"""Hook implementations of the bundled e-mail channel plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.plugin import ChannelType, hookimpl

# The plugin API this plugin is written for (ocrfleet/plugin.py).
OCRFLEET_PLUGIN_API = "1.0"


@hookimpl
def ocrfleet_channel_types() -> Sequence[ChannelType]:
    from ocrfleet_email.channel import EmailChannelType

    return [EmailChannelType()]
