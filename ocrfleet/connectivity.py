"""One check of a site's way to the internet, as a device or the daemon saw it.

The guide counts a public computer only with a working internet connection,
and a room without one is of little use. Checks come from inside the rooms:
a PC agent that fetched a page, a hotspot that reports its uplink, or the
daemon itself when it runs on site (ocrfleet/internet/). The site's state is
derived from all of them together (ocrfleet/internet/site.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# InternetCheck.error of a device (a hotspot, a router) that reports its own
# uplink, the line behind it, down. (API 1.4)
UPLINK_DOWN = "uplink_down"


class CheckSource(StrEnum):
    # A name resolved and a page fetched over HTTPS: proves the whole way.
    PROBE = "probe"
    # A device's own uplink state (a hotspot's WAN port): proves the first hop only.
    UPLINK = "uplink"


@dataclass(frozen=True, slots=True)
class InternetCheck:
    """The outcome of the last check one device (or the daemon) made. (API 1.4)

    `latency` is the seconds the whole check took (name look-up, connection,
    TLS, answer), for a probe that succeeded; None otherwise. `error` is a
    fixed lower-case word when it failed (dns, connect, tls, timeout, http,
    other, or UPLINK_DOWN for a device's own uplink): a metric label
    value. `detail` is for IT, untranslated.
    """

    ok: bool
    checked_at: float
    latency: float | None = None
    error: str = ""
    detail: str = ""
    source: CheckSource = CheckSource.PROBE
