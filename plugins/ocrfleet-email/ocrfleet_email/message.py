"""A notification as an e-mail that staff can read at a glance.

Its subject, plain-text body and HTML body were rendered from the channel's
templates when the notification was queued (templates/, docs/channels.md),
in the reader's language and time zone. A notification queued without them
(by an older ocrfleet) gets the plain English text below.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ocrfleet.plugin import AlertItem, Channel, Notification

# What a Message-ID's left part may hold (RFC 5322 dot-atom text, simplified).
_NOT_IN_MESSAGE_ID = re.compile(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]")


def message_id(notification: Notification) -> str:
    """Always the same for the same notification, so a repeat can be dropped."""
    return f"<{_NOT_IN_MESSAGE_ID.sub('-', notification.id)}@ocrfleet>"


def local_time(timestamp: float, zone: str = "UTC") -> str:
    """In the readers' time zone, which is named."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return datetime.fromtimestamp(timestamp, tz).strftime("%Y-%m-%d %H:%M %Z")


def plain_subject(notification: Notification) -> str:
    title = notification.title()
    if notification.repeat and "title" not in notification.texts:
        title += " (reminder)"
    return title


def subject(notification: Notification, prefix: str) -> str:
    """One line, with the channel's prefix: no template can add a header line."""
    title = " ".join(Channel.text(notification, "subject", plain_subject(notification)).split())
    return f"{prefix} {title}" if prefix else title


def _where(item: AlertItem) -> str:
    site, device = item.labels.get("site"), item.labels.get("device")
    if site and device:
        return f"{site} / {device}"
    return site or device or item.key


def _describe(item: AlertItem, zone: str) -> list[str]:
    lines = [f"- [{item.severity}] {_where(item)}: {item.summary}"]
    lines += [f"  {line}" for line in item.description.splitlines() if line.strip()]
    if item.status == "resolved" and item.ends_at is not None:
        start, end = local_time(item.starts_at, zone), local_time(item.ends_at, zone)
        lines.append(f"  from {start} until {end}")
    else:
        lines.append(f"  since {local_time(item.starts_at, zone)}")
    return lines


def plain_body(notification: Notification) -> str:
    """The body of a notification queued without its texts."""
    lines = [notification.title(), ""]
    if notification.repeat:
        lines += ["A reminder: these alerts were notified before and still stand.", ""]
    for heading, items in (("FIRING", notification.firing), ("RESOLVED", notification.resolved)):
        if items:
            lines.append(f"{heading} ({len(items)})")
            for item in items:
                lines += [*_describe(item, notification.timezone), ""]
    lines += ["--", f"ocrfleet notification {notification.id}"]
    return "\n".join(lines) + "\n"


def build_message(
    notification: Notification, sender: str, recipients: list[str], prefix: str
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(notification, prefix)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(notification.created_at, localtime=True)
    message["Message-ID"] = message_id(notification)
    # RFC 3834: keeps out-of-office replies away from the sender address.
    message["Auto-Submitted"] = "auto-generated"
    body = Channel.text(notification, "body", "") or plain_body(notification)
    message.set_content(body)
    html = Channel.text(notification, "html", "")
    if html:
        message.add_alternative(html, subtype="html")
    return message
