"""The `webhook` channel type: options, and the channel that POSTs a notification."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import AfterValidator, BaseModel

from ocrfleet.plugin import Channel, ChannelType, Notification
from ocrfleet_webhook.body import webhook_v4
from ocrfleet_webhook.sender import JsonSender
from ocrfleet_webhook.target import HttpTargetOptions
from ocrfleet_webhook.template import check_template, render


class WebhookOptions(HttpTargetOptions):
    # JSON with $title, $text, $status, $site, $id; none: Alertmanager's v4 body.
    template: Annotated[str, AfterValidator(check_template)] | None = None
    # Where the receiver's users can look further (externalURL and each
    # alert's generatorURL), e.g. the daemon's own page.
    external_url: str = ""


class WebhookChannel(Channel):
    def __init__(self, name: str, options: WebhookOptions) -> None:
        super().__init__(name)
        self._options = options
        self._sender = JsonSender(options)

    def body(self, notification: Notification) -> bytes:
        if self._options.template is not None:
            return render(self._options.template, notification)
        message = webhook_v4(notification, self.name, self._options.external_url)
        return json.dumps(message, ensure_ascii=False).encode("utf-8")

    async def deliver(self, notification: Notification) -> None:
        await self._sender.post(self.body(notification), {"Idempotency-Key": notification.id})


class WebhookChannelType(ChannelType):
    name = "webhook"
    description = "POST notifications as JSON (Alertmanager webhook format or a template)"
    options_model = WebhookOptions
    # `$text` of a body template, and each alert's annotations.
    templates = {"text": "webhook.text.j2"}
    item_templates = {"summary": "webhook.summary.j2", "description": "webhook.description.j2"}
    template_package = "ocrfleet_webhook"

    def create(self, name: str, options: BaseModel) -> Channel:
        if not isinstance(options, WebhookOptions):
            raise TypeError(f"webhook channel {name!r}: options are {type(options).__name__}")
        return WebhookChannel(name, options)
