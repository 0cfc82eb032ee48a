"""A notification as a plain-text e-mail that staff can read at a glance."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

from ocrfleet.plugin import AlertItem, Notification

# What a Message-ID's left part may hold (RFC 5322 dot-atom text, simplified).
_NOT_IN_MESSAGE_ID = re.compile(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]")


def message_id(notification: Notification) -> str:
    """Always the same for the same notification, so a repeat can be dropped."""
    return f"<{_NOT_IN_MESSAGE_ID.sub('-', notification.id)}@ocrfleet>"


def local_time(timestamp: float) -> str:
    """In the daemon's time zone, which is named: the reader may be elsewhere."""
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M %Z")


def subject(notification: Notification, prefix: str) -> str:
    title = notification.title()
    if notification.repeat:
        title += " (reminder)"
    return f"{prefix} {title}" if prefix else title


def _where(item: AlertItem) -> str:
    site, device = item.labels.get("site"), item.labels.get("device")
    if site and device:
        return f"{site} / {device}"
    return site or device or item.key


def _describe(item: AlertItem) -> list[str]:
    lines = [f"- [{item.severity}] {_where(item)}: {item.summary}"]
    lines += [f"  {line}" for line in item.description.splitlines() if line.strip()]
    if item.status == "resolved" and item.ends_at is not None:
        lines.append(f"  from {local_time(item.starts_at)} until {local_time(item.ends_at)}")
    else:
        lines.append(f"  since {local_time(item.starts_at)}")
    return lines


def body_text(notification: Notification) -> str:
    lines = [notification.title(), ""]
    if notification.repeat:
        lines += ["A reminder: these alerts were notified before and still stand.", ""]
    for heading, items in (("FIRING", notification.firing), ("RESOLVED", notification.resolved)):
        if items:
            lines.append(f"{heading} ({len(items)})")
            for item in items:
                lines += [*_describe(item), ""]
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
    message.set_content(body_text(notification))
    return message
