"""The `alertmanager` channel type, and the channel that POSTs to /api/v2/alerts."""

from __future__ import annotations

import json

from pydantic import BaseModel

from ocrfleet.plugin import Channel, ChannelType, Notification
from ocrfleet_alertmanager.alerts import postable_alerts
from ocrfleet_alertmanager.options import API_PATH, AlertmanagerOptions
from ocrfleet_webhook.sender import JsonSender


class AlertmanagerChannel(Channel):
    def __init__(self, name: str, options: AlertmanagerOptions) -> None:
        super().__init__(name)
        self._options = options
        self._sender = JsonSender(options, options.url.joined(API_PATH))

    async def deliver(self, notification: Notification) -> None:
        alerts = postable_alerts(notification, self._options.valid_for, self._options.generator_url)
        # Alertmanager merges alerts by their labels, so a repeat is harmless;
        # the key is sent anyway for a proxy in between that can use it.
        await self._sender.post(
            json.dumps(alerts, ensure_ascii=False).encode("utf-8"),
            {"Idempotency-Key": notification.id},
        )


class AlertmanagerChannelType(ChannelType):
    name = "alertmanager"
    description = "hand alerts to a Prometheus Alertmanager (API v2)"
    options_model = AlertmanagerOptions
    # Each alert's annotations.
    item_templates = {
        "summary": "alertmanager.summary.j2",
        "description": "alertmanager.description.j2",
    }
    template_package = "ocrfleet_alertmanager"

    def create(self, name: str, options: BaseModel) -> Channel:
        if not isinstance(options, AlertmanagerOptions):
            raise TypeError(f"alertmanager channel {name!r}: options are {type(options).__name__}")
        return AlertmanagerChannel(name, options)
