"""The contract between the outbox and a channel plugin (webhook, e-mail, ...).

A plugin provides ChannelTypes (hook `ocrfleet_channel_types`); the config
names channels and gives each a type and options:

    [alerting.channels.frontdesk]
    type = "email"
    to = ["balie@bib.example"]

The loader validates the options with the type's `options_model`; the app
asks the type to `create` one Channel per configured channel.

A type may also declare templates (`templates`, `item_templates`): the core
renders them when a notification is queued, in its readers' language and
time zone, into `notification.texts`, and the channel reads them back with
`Channel.text` (ocrfleet/notify/templates.py, docs/channels.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel

from ocrfleet.notify.notification import AlertItem, Notification


def text_key(name: str, item: AlertItem | None = None) -> str:
    """Where a rendered text is kept in `Notification.texts`: `name`, or `name:<item key>`."""
    return name if item is None else f"{name}:{item.key}"


class DeliveryError(Exception):
    """A delivery that did not succeed.

    `retryable` False means trying again cannot help (e.g. the receiver
    refused the message as malformed, HTTP 400): the outbox gives up on it
    at once instead of retrying with back-off.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(ABC):
    """One configured channel. `deliver` is called from the event loop."""

    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    async def deliver(self, notification: Notification) -> None:
        """Deliver one notification, or raise DeliveryError (anything else counts as one).

        Must not block the event loop; the outbox bounds it with a timeout.
        Include notification.id where the receiver can see it (a header,
        Message-ID) so it can drop a repeat.
        """

    async def close(self) -> None:
        """Release connections; called once at shutdown."""
        return None

    @staticmethod
    def text(
        notification: Notification, name: str, fallback: str, item: AlertItem | None = None
    ) -> str:
        """The text `name` rendered when the notification was queued, else `fallback`.

        With `item`, the text rendered for that item (the type's
        `item_templates`). A notification queued by an older ocrfleet, or
        before the channel declared the template, has none: hence the fallback.
        """
        return notification.texts.get(text_key(name, item), fallback)


class ChannelType(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[BaseModel]]
    # Jinja2 templates rendered when a notification is queued: text name ->
    # template file, e.g. {"subject": "email.subject.j2"}. `templates` once
    # per notification, `item_templates` once per alert item (the item as
    # `item`). Shipped in `<template_package>/templates/`; operators may
    # replace them ([templates] directory). `_()` in them uses the catalog
    # domain `template_package`. None declared: nothing is rendered.
    templates: ClassVar[Mapping[str, str]] = {}
    item_templates: ClassVar[Mapping[str, str]] = {}
    template_package: ClassVar[str | None] = None

    @abstractmethod
    def create(self, name: str, options: BaseModel) -> Channel:
        """A channel from validated options; no I/O here."""
