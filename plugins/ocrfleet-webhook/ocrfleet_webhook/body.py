"""The default body: Alertmanager's webhook message, version 4.

Field for field what Alertmanager's own webhook receiver sends, so a
receiver written for Alertmanager accepts ocrfleet's notifications too. A few
keys are added, which v4 receivers ignore: `notificationId` (the idempotency
key) and, for an alert someone acknowledged, `acknowledgedBy` and
`acknowledgedAt`; the alert then also has the annotation `acknowledged_by`,
as the `alertmanager` channel sends it.

The annotations `summary` and `description` are the channel's templates
(templates/webhook.summary.j2, webhook.description.j2), rendered in the
readers' language when the notification was queued; times stay UTC here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ocrfleet.plugin import AlertItem, Channel, Notification
from ocrfleet_webhook.times import ZERO_TIME, rfc3339


def annotations_of(item: AlertItem, notification: Notification | None = None) -> dict[str, str]:
    """The item's annotations: as its templates rendered them, else its own words."""
    if notification is None:
        found = {"summary": item.summary, "description": item.description}
    else:
        found = {
            "summary": Channel.text(notification, "summary", item.summary, item),
            "description": Channel.text(notification, "description", item.description, item),
        }
    if item.acknowledged_by:
        found["acknowledged_by"] = item.acknowledged_by
    return found


def common(mappings: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The pairs every mapping has, with the same value (Alertmanager's commonLabels)."""
    iterator = iter(mappings)
    first = next(iterator, None)
    if first is None:
        return {}
    shared = dict(first)
    for mapping in iterator:
        shared = {key: value for key, value in shared.items() if mapping.get(key) == value}
    return shared


def alert(
    item: AlertItem, generator_url: str, notification: Notification | None = None
) -> dict[str, Any]:
    ends_at = item.ends_at if item.status == "resolved" else None
    found: dict[str, Any] = {
        "status": item.status,
        "labels": dict(item.labels),
        "annotations": annotations_of(item, notification),
        "startsAt": rfc3339(item.starts_at),
        "endsAt": rfc3339(ends_at) if ends_at is not None else ZERO_TIME,
        "generatorURL": generator_url,
        "fingerprint": item.fingerprint,
    }
    # Only when acknowledged: a receiver tells "nobody" by the key's absence.
    if item.acknowledged_by:
        found["acknowledgedBy"] = item.acknowledged_by
        if item.acknowledged_at is not None:
            found["acknowledgedAt"] = rfc3339(item.acknowledged_at)
    return found


def webhook_v4(notification: Notification, receiver: str, external_url: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": notification.group_key,
        "truncatedAlerts": 0,
        "status": notification.status,
        "receiver": receiver,
        "groupLabels": dict(notification.group_labels),
        "commonLabels": common(item.labels for item in notification.items),
        "commonAnnotations": common(
            annotations_of(item, notification) for item in notification.items
        ),
        "externalURL": external_url,
        "alerts": [alert(item, external_url, notification) for item in notification.items],
        "notificationId": notification.id,
    }
