"""A notification: what the outbox stores and a channel delivers.

One notification carries the alerts of one group (a site and a route) that
changed at one evaluation, like an Alertmanager webhook message. Its `id`
is the idempotency key: the same notification delivered twice (a retry
after a lost answer, a restart mid-delivery) has the same id, so receivers
can drop repeats.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["firing", "resolved"]


@dataclass(frozen=True, slots=True)
class AlertItem:
    key: str  # "<rule>:<subject>", stable
    fingerprint: str  # short hash of key, as Alertmanager's
    rule: str
    status: Status
    severity: str
    labels: dict[str, str]  # includes alertname (= rule) and severity
    summary: str  # plain words in the notification's language
    description: str
    starts_at: float
    ends_at: float | None  # when it resolved; None while firing
    detail: str = ""  # technical, for IT: OID names, raw values, never translated
    # Who acknowledged this episode of the alert, when, and what they said
    # (ocrfleet/alerts/acks.py); "" and None: nobody. Defaults, so that
    # notifications stored before these fields existed still load.
    acknowledged_by: str = ""
    acknowledged_at: float | None = None
    acknowledged_comment: str = ""


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    channel: str
    group_key: str
    group_labels: dict[str, str]  # e.g. {"site": "lib"}
    type: Literal["alert", "reminder"]
    status: Status  # firing if any item is firing
    created_at: float
    items: tuple[AlertItem, ...]
    repeat: bool = False  # a reminder of alerts already notified
    # Who reads it: the summaries above are in `language`, and times are
    # shown in `timezone` (an IANA name); machines keep the UTC fields.
    language: str = "en"
    timezone: str = "UTC"
    # The channel's templates, rendered when the notification was queued
    # (ocrfleet/notify/compose.py): "title", and what the channel asks for.
    texts: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Notification:
        data: dict[str, Any] = json.loads(text)
        items = tuple(AlertItem(**item) for item in data.pop("items"))
        return cls(items=items, **data)

    @property
    def site(self) -> str | None:
        """The site it is about: its group's, or the one site all its alerts share."""
        return shared_site(self.group_labels, (item.labels for item in self.items))

    @property
    def firing(self) -> tuple[AlertItem, ...]:
        return tuple(item for item in self.items if item.status == "firing")

    @property
    def resolved(self) -> tuple[AlertItem, ...]:
        return tuple(item for item in self.items if item.status == "resolved")

    def title(self) -> str:
        """One line for subjects and chat messages, in the reader's words if composed."""
        if "title" in self.texts:
            return self.texts["title"]
        where = self.group_labels.get("site", "all sites")
        if len(self.items) == 1:
            item = self.items[0]
            return f"[{item.status.upper()}] {where}: {item.summary}"
        parts = []
        if self.firing:
            parts.append(f"{len(self.firing)} firing")
        if self.resolved:
            parts.append(f"{len(self.resolved)} resolved")
        return f"[{self.status.upper()}] {where}: {', '.join(parts)}"


def shared_site(group_labels: Mapping[str, str], labels: Iterable[Mapping[str, str]]) -> str | None:
    """The site of a group of alerts: the group's own, else the one site all share, else None."""
    if "site" in group_labels:
        return group_labels["site"]
    sites = {each.get("site") for each in labels}
    return sites.pop() if len(sites) == 1 else None
