"""The status pages as HTML: the overview, a site's page, the kiosk, log-in and errors.

Server-rendered from the Jinja2 templates in ocrfleet/web/templates/, in
the notification templates' sandbox (BoundedSandbox) with autoescaping:
every name, summary and comment is escaped. A page gets its model
(ocrfleet/web/status.py) with every text already in the reader's words;
`_()` and `ngettext()` in the templates give the core's words for headings
and buttons.

The forms, shown only to a viewer who may change things, post to:

- `/ui/acknowledge`: `alert` (the alert's key), `comment` (may be empty);
- `/ui/silence`: `target` ("<site>" or "<site>/<device>"), `duration`
  ("1h", "2h", "4h" or "1d"), `reason`;
- `/ui/maintenance`: `device` ("<site>/<device>"), `task` ("monthly" or
  "renewal"), `note`;
- `/logout`;
- `/login` (from the log-in page): `username`, `password`, `back`;

each with `csrf_token` (not /login without one) and `back`, the path of the
page to return to. Pages refresh themselves: the kiosk every 15 s, the
others every 30 s. No page needs JavaScript; one with forms carries a small
script that holds the refresh back while someone types, and
CONTENT_SECURITY_POLICY allows exactly that script and the inline style.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from jinja2 import PackageLoader, StrictUndefined
from markupsafe import Markup

from ocrfleet.i18n.speaker import Speaker
from ocrfleet.i18n.text import BRACED, Catalog, Text, fill
from ocrfleet.notify.sandbox import BoundedSandbox
from ocrfleet.notify.templates import load_template, render_template
from ocrfleet.web.status import KioskView, Overview, SiteDetail

log = logging.getLogger(__name__)

_ = Catalog("ocrfleet")

OVERVIEW_REFRESH = 30
SITE_REFRESH = 30
KIOSK_REFRESH = 15
# A page of a large municipality is long, but not this long.
MAX_PAGE = 2_000_000
HTML_LANGUAGES = {"nl": "nl-BE", "en": "en"}


def _asset(name: str) -> str:
    return (files("ocrfleet.web") / "templates" / name).read_text(encoding="utf-8")


STYLE = _asset("pages.css")
SCRIPT = _asset("refresh.js")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src {_hash(STYLE)}; "
    f"script-src {_hash(SCRIPT)}; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""A Content-Security-Policy header for the pages: nothing but their own style and script."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who looks at a page: their name (None: not logged in), and whether they may change things.

    `csrf_token` goes into every form, to be checked by the server on POST.
    """

    user: str | None
    can_write: bool
    csrf_token: str


ANONYMOUS = Viewer(None, False, "")


class Pages:
    """Renders the pages; one instance serves every thread (templates compile once)."""

    def __init__(self) -> None:
        self._environment = BoundedSandbox(
            loader=PackageLoader("ocrfleet.web", "templates"),
            autoescape=True,
            # A misspelt name is an error in a test, not an empty place on a page.
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def overview(self, model: Overview, speaker: Speaker, viewer: Viewer) -> str:
        return self._render(
            "overview.html.j2",
            speaker,
            viewer,
            path="/",
            refresh=OVERVIEW_REFRESH,
            model=model,
        )

    def site(self, model: SiteDetail, speaker: Speaker, viewer: Viewer) -> str:
        return self._render(
            "site.html.j2",
            speaker,
            viewer,
            path=f"/sites/{model.site.id}",
            refresh=SITE_REFRESH,
            model=model,
        )

    def kiosk(self, model: KioskView, speaker: Speaker) -> str:
        state = "open" if model.open_now else "closed"
        if model.open_now and model.usable == 0:
            state = "none"
        return self._render(
            "kiosk.html.j2",
            speaker,
            ANONYMOUS,
            path="",
            refresh=KIOSK_REFRESH,
            model=model,
            state=state,
        )

    def login(self, speaker: Speaker, error: str | None, back: str, csrf_token: str = "") -> str:
        """The log-in form; `error` (already in the reader's words) above it, if any."""
        return self._render(
            "login.html.j2",
            speaker,
            ANONYMOUS,
            path="/login",
            refresh=0,
            error=error or "",
            back=back,
            csrf_token=csrf_token,
        )

    def error(self, status: int, message: str, speaker: Speaker) -> str:
        """A page for an HTTP error; never raises, whatever the templates do."""
        heading = speaker.say(_HEADINGS.get(status, _SOMETHING_WRONG))
        try:
            return self._render(
                "error.html.j2",
                speaker,
                ANONYMOUS,
                path="/error",
                refresh=0,
                status=status,
                heading=heading,
                message=message,
            )
        except Exception:
            log.exception("error page %d not rendered; plain text instead", status)
            return (
                f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{status}</title>'
                f"</head><body><h1>{html.escape(heading)}</h1><p>{html.escape(message)}</p>"
                '<p><a href="/">/</a></p></body></html>'
            )

    def _render(
        self, name: str, speaker: Speaker, viewer: Viewer, *, path: str, refresh: int, **page: Any
    ) -> str:
        template = load_template(self._environment, name, name)
        context = {
            **page,
            **words(speaker),
            "lang": HTML_LANGUAGES.get(speaker.language, speaker.language),
            "viewer": viewer,
            "path": path,
            "refresh": refresh,
            # The script only where there is a form to protect from a reload.
            "scripted": viewer.can_write and refresh > 0,
            "style": Markup(STYLE),
            "script": Markup(SCRIPT),
        }
        return render_template(template, context, max_output=MAX_PAGE)


_HEADINGS: Mapping[int, Text] = {
    400: _("That did not work"),
    403: _("Not allowed"),
    404: _("Page not found"),
    409: _("That did not work"),
}
_SOMETHING_WRONG = _("Something went wrong")


def words(speaker: Speaker) -> dict[str, Any]:
    """`_(msgid, **values)` and `ngettext(singular, plural, n, **values)` for templates.

    Values fill plain `{name}` places only (as in the notification
    templates), so a translation cannot reach into an object; integers are
    written in the reader's notation. A translation that names a value the
    message does not give falls back to the English.
    """

    def text(value: object) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return speaker.number(value)
        return str(value)

    def filled(pattern: str, source: str, values: Mapping[str, object]) -> str:
        given = {name: text(value) for name, value in values.items()}
        if set(BRACED.findall(pattern)) - set(given):
            log.warning("translation of %r is broken", source)
            pattern = source
        return fill(pattern, given)

    def gettext(msgid: str, **values: object) -> str:
        return filled(speaker.gettext(str(msgid)), str(msgid), values)

    def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
        values.setdefault("n", int(n))
        pattern = speaker.ngettext(str(singular), str(plural), int(n))
        return filled(pattern, str(singular if n == 1 else plural), values)

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
