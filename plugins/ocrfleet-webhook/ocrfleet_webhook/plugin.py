"""Hook implementations of the bundled webhook channel plugin."""

from __future__ import annotations

from collections.abc import Sequence

from ocrfleet.notify.channels import ChannelType
from ocrfleet.pluginhost import hookimpl


@hookimpl
def ocrfleet_channel_types() -> Sequence[ChannelType]:
    from ocrfleet_webhook.channel import WebhookChannelType

    return [WebhookChannelType()]
