"""Composing a notification for its readers when it is queued: its title, and its channel's texts.

Done once, before the outbox stores the notification, so what is delivered
after a restart is what was composed, whatever the templates became since.
The channel's texts are its type's templates (ocrfleet/notify/templates.py)
rendered in the notification's language and time zone into
`notification.texts`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from ocrfleet.i18n.readers import Readers
from ocrfleet.i18n.speaker import Speaker
from ocrfleet.notify.notification import Notification
from ocrfleet.notify.templates import ChannelTemplates, ChannelTexts, declares_templates
from ocrfleet.notify.words import title

log = logging.getLogger(__name__)


class Composer:
    def __init__(
        self,
        readers: Callable[[], Readers],
        templates: Callable[[], ChannelTemplates] | None = None,
    ) -> None:
        # Getters: a reloaded config brings new site names, channels and
        # template directory.
        self._readers = readers
        self._templates = templates
        self._texts = ChannelTexts()

    def __call__(self, notification: Notification, speaker: Speaker) -> Notification:
        """The notification with its texts; never raises (a notification is never lost)."""
        try:
            readers = self._readers()
            here = readers.where(notification.site)
            texts = {"title": title(notification, speaker, here)}
        except Exception:
            log.exception("notification %s: no title composed", notification.id)
            return notification
        composed = dataclasses.replace(notification, texts=dict(texts))
        try:
            templates = self._templates() if self._templates is not None else ChannelTemplates({})
            channel_type = templates.types.get(notification.channel)
            if channel_type is not None and declares_templates(channel_type):
                texts.update(
                    self._texts.texts(
                        composed, speaker, channel_type, templates.directory, readers.where, here
                    )
                )
        except Exception:
            log.exception(
                "notification %s: texts of channel %r not composed",
                notification.id,
                notification.channel,
            )
        return dataclasses.replace(notification, texts=dict(texts))
