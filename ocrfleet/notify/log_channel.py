"""The built-in `log` channel: notifications as lines in the daemon's own log.

Every daemon has it, so an alert is never dropped for want of a channel, and
the demo shows its alerts without any receiver.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

from ocrfleet.notify.channels import Channel, ChannelType
from ocrfleet.notify.notification import Notification

log = logging.getLogger("ocrfleet.notifications")


class LogOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    level: str = "WARNING"


class LogChannel(Channel):
    def __init__(self, name: str, level: int) -> None:
        super().__init__(name)
        self._level = level

    async def deliver(self, notification: Notification) -> None:
        for item in notification.items:
            level = (
                logging.INFO
                if item.status == "resolved" or item.severity == "info"
                else self._level
            )
            log.log(
                level,
                "%s %s [%s] %s (%s; notification %s)",
                item.status.upper(),
                item.labels.get("site", "-"),
                item.severity,
                item.summary,
                item.key,
                notification.id,
            )


class LogChannelType(ChannelType):
    name = "log"
    description = "write notifications to the daemon's log"
    options_model = LogOptions

    def create(self, name: str, options: BaseModel) -> Channel:
        assert isinstance(options, LogOptions)
        level = logging.getLevelName(options.level.upper())
        return LogChannel(name, level if isinstance(level, int) else logging.WARNING)
