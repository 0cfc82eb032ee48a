"""Each device's state as a running daemon exports it, read from its /metrics.

`ocrfleet norms` runs beside the daemon, not inside it: the daemon's
`ocrfleet_device_state` is the one place the current state is known, and
`ocrfleet_site_internet_up` the one place a site's internet is (a seat at a
site without internet does not count towards the norm, docs/internet.md).
"""

from __future__ import annotations

import http.client
import ipaddress
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client.parser import text_string_to_metric_families

from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import DeviceState

DEFAULT_TIMEOUT = 3.0
STATE_METRIC = "ocrfleet_device_state"
INTERNET_METRIC = "ocrfleet_site_internet_up"
# A scrape of a municipality's fleet is a few hundred kilobytes at most; a
# larger answer is not a daemon's /metrics.
_MAX_BYTES = 32 * 1024 * 1024

T = TypeVar("T")


class DaemonUnreachable(Exception):
    """No usable /metrics at the URL; the message says why, in a few words."""


@dataclass(frozen=True, slots=True)
class LiveStates:
    url: str | None
    states: dict[DeviceKey, DeviceState] | None
    error: str | None = None
    # Sites whose internet the daemon reports down.
    offline_sites: frozenset[str] = frozenset()


def metrics_url(listen: str, port: int) -> str | None:
    """Where a daemon listening on listen:port serves /metrics; None for port 0 (any)."""
    if port == 0:
        return None
    host = listen
    # A daemon bound to every address is reached on this machine's loopback.
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name
    return f"http://{host}:{port}/metrics"


def read_states(url: str, timeout: float = DEFAULT_TIMEOUT) -> dict[DeviceKey, DeviceState]:
    return _parsed(_fetch(url, timeout), parse_states)


def _parsed(text: str, parse: Callable[[str], T]) -> T:
    try:
        return parse(text)
    except ValueError:
        raise DaemonUnreachable("not a Prometheus metrics page") from None


def _fetch(url: str, timeout: float) -> str:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body: bytes = answer.read(_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise DaemonUnreachable(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise DaemonUnreachable(str(exc.reason)) from None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # ValueError: a URL urllib cannot use (e.g. a space in the host name).
        raise DaemonUnreachable(str(exc) or type(exc).__name__) from None
    if len(body) > _MAX_BYTES:
        raise DaemonUnreachable("answer too large for a metrics page")
    try:
        return body.decode("utf-8")
    except ValueError:
        raise DaemonUnreachable("not a Prometheus metrics page") from None


def parse_states(text: str) -> dict[DeviceKey, DeviceState]:
    """Each device's current state from the text exposition format."""
    states: dict[DeviceKey, DeviceState] = {}
    for family in text_string_to_metric_families(text):
        if family.name != STATE_METRIC:
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.value != 1 or "site" not in labels or "device" not in labels:
                continue
            try:
                state = DeviceState(labels.get("state", ""))
            except ValueError:
                continue  # a state a newer daemon knows: not one this count understands
            states[DeviceKey(labels["site"], labels["device"])] = state
    return states


def parse_offline_sites(text: str) -> frozenset[str]:
    """Sites whose internet is down (`ocrfleet_site_internet_up` 0), from the text format."""
    offline = set()
    for family in text_string_to_metric_families(text):
        if family.name != INTERNET_METRIC:
            continue
        for sample in family.samples:
            if sample.value == 0 and "site" in sample.labels:
                offline.add(sample.labels["site"])
    return frozenset(offline)


def live_states(url: str | None, timeout: float = DEFAULT_TIMEOUT) -> LiveStates:
    """The states at `url`, or why they are not known; never raises for an absent daemon."""
    if url is None:
        return LiveStates(None, None, "http.port is 0; give --metrics-url")
    try:
        text = _fetch(url, timeout)
        states = _parsed(text, parse_states)
        return LiveStates(url, states, offline_sites=_parsed(text, parse_offline_sites))
    except DaemonUnreachable as exc:
        return LiveStates(url, None, str(exc))
