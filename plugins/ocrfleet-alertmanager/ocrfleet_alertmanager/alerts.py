"""A notification's items as Alertmanager's postable alerts (API v2).

The annotations are the channel's templates (templates/alertmanager.*.j2),
rendered in the readers' language when the notification was queued; the
times Alertmanager reads stay UTC (RFC 3339). An acknowledged alert has the
annotation `acknowledged_by` (the user name).
"""

from __future__ import annotations

from typing import Any

from ocrfleet.plugin import AlertItem, Channel, Notification
from ocrfleet_webhook.times import rfc3339


def postable_alert(
    item: AlertItem, notification: Notification, valid_for: float, generator_url: str
) -> dict[str, Any]:
    # Prometheus' convention: an empty label is no label.
    labels = {name: value for name, value in item.labels.items() if value}
    labels.setdefault("alertname", item.rule)
    annotations = {
        "summary": Channel.text(notification, "summary", item.summary, item),
        "description": Channel.text(notification, "description", item.description, item),
        # The user name as given, for Alertmanager's templates and UI; the
        # description says it in the readers' words, with when and why.
        "acknowledged_by": item.acknowledged_by,
    }
    if item.status == "resolved" and item.ends_at is not None:
        ends_at = item.ends_at
    else:
        # From when the notification was made, not from now: a firing alert
        # delivered late (after an outage) must not outlive what it knew.
        ends_at = notification.created_at + valid_for
    alert: dict[str, Any] = {
        "labels": labels,
        "annotations": {name: text for name, text in annotations.items() if text},
        "startsAt": rfc3339(item.starts_at),
        "endsAt": rfc3339(ends_at),
    }
    if generator_url:
        alert["generatorURL"] = generator_url
    return alert


def postable_alerts(
    notification: Notification, valid_for: float, generator_url: str
) -> list[dict[str, Any]]:
    return [
        postable_alert(item, notification, valid_for, generator_url) for item in notification.items
    ]
