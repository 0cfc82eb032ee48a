"""A body template for receivers that want their own JSON (chat tools' `{"text": ...}`).

The template is JSON with `$name` placeholders (Python's string.Template:
`$title` or `${title}`, `$$` for a dollar sign). Each value is inserted
JSON-string-escaped, so placeholders belong inside JSON strings, and no
alert text can break the JSON or add keys to it. The template is checked
when the configuration is loaded: unknown placeholders and a result that is
not JSON are refused there, not at the first alert.
"""

from __future__ import annotations

import json
from string import Template

from ocrfleet.plugin import AlertItem, Channel, Notification

PLACEHOLDERS: dict[str, str] = {
    "title": "one line: status, site and what happened, in the readers' words",
    "text": "one line per alert: status, severity, where, summary (templates/webhook.text.j2)",
    "status": "firing or resolved (firing if any alert fires)",
    "site": "the site the alerts belong to (empty when grouped across sites)",
    "id": "the notification id, the idempotency key",
}

# Values with quotes, backslashes and newlines, to prove at load time that
# a template survives any alert text.
_SAMPLE = {
    "title": '[FIRING] "lib": a\\b',
    "text": 'FIRING [critical] lib/pc-01: "down"\nRESOLVED [warning] lib/mfp: toner',
    "status": "firing",
    "site": "lib",
    "id": "0123456789abcdef",
}


def _escaped(value: str) -> str:
    return json.dumps(value)[1:-1]


def check_template(source: str) -> str:
    template = Template(source)
    if not template.is_valid():
        raise ValueError(
            "a $ must start a placeholder ($title, ${title}) or be doubled ($$) for a dollar sign"
        )
    unknown = sorted(set(template.get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join(f"${name}" for name in PLACEHOLDERS)
        raise ValueError(f"unknown placeholder ${unknown[0]} (known: {known})")
    filled = template.substitute({key: _escaped(value) for key, value in _SAMPLE.items()})
    try:
        json.loads(filled)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not JSON once its placeholders are filled ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno}); placeholders go inside JSON strings"
        ) from None
    return source


def alert_line(item: AlertItem) -> str:
    site, device = item.labels.get("site"), item.labels.get("device")
    where = "/".join(part for part in (site, device) if part) or item.key
    return f"{item.status.upper()} [{item.severity}] {where}: {item.summary}"


def placeholder_values(notification: Notification) -> dict[str, str]:
    return {
        "title": notification.title(),
        "text": Channel.text(
            notification, "text", "\n".join(alert_line(item) for item in notification.items)
        ),
        "status": notification.status,
        "site": notification.group_labels.get("site", ""),
        "id": notification.id,
    }


def render(source: str, notification: Notification) -> bytes:
    values = {key: _escaped(value) for key, value in placeholder_values(notification).items()}
    return Template(source).substitute(values).encode("utf-8")
