"""The contract between the outbox and a channel plugin (webhook, e-mail, ...).

A plugin provides ChannelTypes (hook `ocrfleet_channel_types`); the config
names channels and gives each a type and options:

    [alerting.channels.frontdesk]
    type = "email"
    to = ["balie@bib.example"]

The loader validates the options with the type's `options_model`; the app
asks the type to `create` one Channel per configured channel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel

from ocrfleet.notify.notification import Notification


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


class ChannelType(ABC):
    name: ClassVar[str]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[BaseModel]]

    @abstractmethod
    def create(self, name: str, options: BaseModel) -> Channel:
        """A channel from validated options; no I/O here."""
