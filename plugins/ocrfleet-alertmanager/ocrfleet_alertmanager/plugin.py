"""Hook implementations of the bundled Alertmanager channel plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.notify.channels import ChannelType
from ocrfleet.pluginhost import hookimpl


@hookimpl
def ocrfleet_channel_types() -> Sequence[ChannelType]:
    from ocrfleet_alertmanager.channel import AlertmanagerChannelType

    return [AlertmanagerChannelType()]
