"""Duty routing: which channels hear about an alert, decided by its labels.

Routes are tried in order; the first that matches takes the alert, unless it
says `continue = true`, in which case later routes may take it too (as in
Alertmanager). An alert no route takes goes to `default_channels`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ocrfleet.config.alerting import LabelValues, RouteConfig
from ocrfleet.i18n.catalogs import Language

DEFAULT_GROUP_BY = ("site",)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    route: int  # index in the config's routes; -1 for the default channels
    channels: tuple[str, ...]
    group_by: tuple[str, ...]
    language: Language | None = None  # the route's own; None: the readers' site's


def labels_match(
    labels: Mapping[str, str],
    equal: Mapping[str, LabelValues],
    regex: Mapping[str, re.Pattern[str]] | None = None,
) -> bool:
    """True when every `equal` label has (one of) its values and every regex fully matches.

    A label the alert lacks counts as "", so `match = { device = "" }` picks
    site-wide alerts.
    """
    for name, wanted in equal.items():
        value = labels.get(name, "")
        if isinstance(wanted, str):
            if value != wanted:
                return False
        elif value not in wanted:
            return False
    for name, pattern in (regex or {}).items():
        if pattern.fullmatch(labels.get(name, "")) is None:
            return False
    return True


class Router:
    def __init__(self, routes: Sequence[RouteConfig], default_channels: Sequence[str]) -> None:
        self._routes = list(routes)
        self._patterns = [
            {name: re.compile(p) for name, p in route.match_re.items()} for route in routes
        ]
        self._default = RouteMatch(-1, tuple(default_channels), DEFAULT_GROUP_BY)

    def matches(self, labels: Mapping[str, str]) -> list[RouteMatch]:
        found: list[RouteMatch] = []
        for index, (route, patterns) in enumerate(zip(self._routes, self._patterns, strict=True)):
            if labels_match(labels, route.match, patterns):
                found.append(
                    RouteMatch(index, tuple(route.channels), tuple(route.group_by), route.language)
                )
                if not route.continue_:
                    break
        return found or [self._default]
