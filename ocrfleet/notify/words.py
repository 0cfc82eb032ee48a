"""The core's own words in notifications: the title every channel shows, and fallbacks.

A title names the site by its name, says in plain words whether something
is wrong, solved or still going on, and never carries a rule id, an OID or
a UTC time (those are in an item's `detail` and the JSON fields).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from ocrfleet.i18n.speaker import Speaker
from ocrfleet.i18n.text import Catalog, Moment
from ocrfleet.notify.notification import AlertItem, Notification

_ = Catalog("ocrfleet")
_n = _.plural


def title(notification: Notification, speaker: Speaker, where: str) -> str:
    """One line for a subject: `where` is the site's name, or the municipality's."""
    items = notification.items
    if len(items) == 1:
        item = items[0]
        if item.status == "resolved":
            # A reminder that resolves was done: it is solved, not due again.
            head = _("Solved – {where}: {summary}", where=where, summary=item.summary)
        elif notification.type == "reminder":
            head = _("Reminder – {where}: {summary}", where=where, summary=item.summary)
        elif notification.repeat:
            head = _("Still going on – {where}: {summary}", where=where, summary=item.summary)
        else:
            head = _("{where}: {summary}", where=where, summary=item.summary)
        return speaker.say(head)
    firing, resolved = len(notification.firing), len(notification.resolved)
    parts = []
    if firing and notification.type == "reminder":
        parts.append(speaker.say(_n("{n} reminder", "{n} reminders", "n", n=firing)))
    elif firing:
        parts.append(speaker.say(_n("{n} problem", "{n} problems", "n", n=firing)))
    if resolved:
        parts.append(speaker.say(_n("{n} solved", "{n} solved", "n", n=resolved)))
    return speaker.say(_("{where}: {what}", where=where, what=", ".join(parts)))


_SEVERITIES = {
    "critical": _("Urgent"),
    "warning": _("Needs attention"),
    "info": _("For your information"),
}


def severity(speaker: Speaker, value: str) -> str:
    """A severity in the reader's words ("critical": "Urgent", "Dringend")."""
    words = _SEVERITIES.get(value)
    return speaker.say(words) if words is not None else value


def plain_item(item: AlertItem, speaker: Speaker, where: str) -> list[str]:
    """One alert as lines of plain text: what, where, since when, and the detail for IT."""
    if item.status == "resolved":
        lines = [speaker.say(_("Solved: {summary}", summary=item.summary))]
    else:
        lines = [speaker.say(_("Problem: {summary}", summary=item.summary))]
    device = item.labels.get("device")
    lines.append(f"{where} – {device}" if where and device else where or device or "")
    if item.status == "firing":
        lines += [line for line in item.description.splitlines() if line.strip()]
        lines.append(speaker.say(_("Since {moment}", moment=Moment(item.starts_at))))
        if item.detail:
            lines.append(speaker.say(_("Technical details for IT: {detail}", detail=item.detail)))
    elif item.ends_at is not None:
        lines.append(
            speaker.say(
                _(
                    "From {start} until {end}",
                    start=Moment(item.starts_at),
                    end=Moment(item.ends_at),
                )
            )
        )
    return [line for line in lines if line]


def plain_text(
    notification: Notification, speaker: Speaker, heading: str, where: Callable[[str | None], str]
) -> str:
    """The whole notification as plain text under `heading` (its title).

    What a channel shows when its templates fail; `where` names a site.
    """
    lines = [heading]
    for item in notification.items:
        lines.append("")
        lines += plain_item(item, speaker, where(item.labels.get("site")))
    lines += ["", "--", speaker.say(_("ocrfleet notification {id}", id=notification.id))]
    return "\n".join(lines) + "\n"


# The texts that must stay one line (a subject, an annotation's summary).
ONE_LINE = frozenset({"subject", "title", "summary"})


def fallback_text(
    name: str,
    notification: Notification,
    speaker: Speaker,
    heading: str,
    where: Callable[[str | None], str],
    item: AlertItem | None = None,
) -> str:
    """The core's own words for a text whose templates all failed.

    For an item: its description for `description`, else its summary. For
    the notification: the title for a one-line text (`subject`, `title`,
    `summary`), the plain text in `<pre>` for `html`, else the plain text.
    """
    if item is not None:
        return item.description if name == "description" else item.summary
    if name in ONE_LINE:
        return heading
    text = plain_text(notification, speaker, heading, where)
    if name == "html":
        return f"<pre>{html.escape(text)}</pre>\n"
    return text
