"""Writes the monitoring files of the core and the bundled plugins.

    python grafana/generate.py           # rewrite the files
    python grafana/generate.py --check   # exit 1 if a file differs from what this writes

First the core's Grafana dashboards, from the definitions below, into
ocrfleet/monitoring/dashboards/ (the package ships them). Then what the core
and the bundled plugins contribute through `ocrfleet_monitoring_assets`
(dashboards, Prometheus rules, promtool tests; plugins/*/*/monitoring/) into
grafana/dashboards/, deploy/prometheus/rules/ and deploy/prometheus/tests/,
as `ocrfleet export-monitoring` does for a site's installed plugins. The
plugins' panels for the fleet overview and the site dashboard (their
monitoring/panels/) are merged into those two on the way.

The files are committed, so Grafana and Prometheus can use them without
Python; edit this file, the rule files in ocrfleet/monitoring/ or a plugin's
monitoring/ folder rather than the output, then run it. Every query uses only
the metrics in docs/metrics.md; tests/test_dashboards.py runs each one against
a real Prometheus scraping the demo fleet.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from ocrfleet.monitoring.contributions import flow
from ocrfleet.monitoring.export import (
    Layout,
    MonitoringAssetError,
    collect,
    differences,
    planned,
    unclaimed,
    write,
)
from ocrfleet.pluginhost import build_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
CORE_DASHBOARDS = ROOT / "ocrfleet" / "monitoring" / "dashboards"
LAYOUT = Layout(
    dashboards=ROOT / "grafana" / "dashboards",
    rules=ROOT / "deploy" / "prometheus" / "rules",
    rule_tests=ROOT / "deploy" / "prometheus" / "tests",
)
DS = {"type": "prometheus", "uid": "${datasource}"}
DATASOURCE_UID = "ocrfleet-prometheus"
DATASOURCE_NAME = "Prometheus (ocrfleet)"
# Every query is kept to the selected municipalities and sites. `municipality`
# is a target label of the scrape job (deploy/prometheus/targets/), not the
# daemon's: where a Prometheus scrapes a daemon without it the label is
# absent, and "All" (".*") matches the absent label too.
M = 'municipality=~"$municipality"'
S = f'{M}, site=~"$site"'
# A site id is unique only within its municipality (every municipality may
# have a `library`): per-site results group and join on both.
BY_SITE = "municipality, site"
TAGS = ["ocrfleet"]

Json = dict[str, Any]


# -- Building blocks ---------------------------------------------------------------


@dataclass
class Target:
    expr: str
    legend: str = ""
    instant: bool = False
    fmt: str = "time_series"
    interval: str = ""

    def json(self, ref: str) -> Json:
        out: Json = {
            "datasource": DS,
            "refId": ref,
            "expr": self.expr,
            "legendFormat": self.legend or "__auto",
            "instant": self.instant,
            "range": not self.instant,
            "format": self.fmt,
        }
        if self.interval:
            out["interval"] = self.interval
        return out


def instant(expr: str, legend: str = "") -> Target:
    return Target(expr, legend, instant=True)


def table_query(expr: str) -> Target:
    return Target(expr, instant=True, fmt="table")


@dataclass
class Panel:
    kind: str
    title: str
    description: str
    targets: list[Target]
    width: int = 12
    height: int = 8
    unit: str = ""
    min: float | None = None
    max: float | None = None
    thresholds: list[tuple[float | None, str]] = field(default_factory=list)
    mappings: list[Json] = field(default_factory=list)
    options: Json = field(default_factory=dict)
    custom: Json = field(default_factory=dict)
    overrides: list[Json] = field(default_factory=list)
    transformations: list[Json] = field(default_factory=list)
    links: list[Json] = field(default_factory=list)
    decimals: int | None = None

    def json(self, panel_id: int, x: int, y: int) -> Json:
        defaults: Json = {"custom": self.custom, "mappings": self.mappings}
        if self.unit:
            defaults["unit"] = self.unit
        if self.min is not None:
            defaults["min"] = self.min
        if self.max is not None:
            defaults["max"] = self.max
        if self.decimals is not None:
            defaults["decimals"] = self.decimals
        if self.links:
            defaults["links"] = self.links
        steps = self.thresholds or [(None, "green")]
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"value": value, "color": colour} for value, colour in steps],
        }
        return {
            "id": panel_id,
            "type": self.kind,
            "title": self.title,
            "description": self.description,
            "datasource": DS,
            "gridPos": {"x": x, "y": y, "w": self.width, "h": self.height},
            "targets": [target.json(chr(ord("A") + n)) for n, target in enumerate(self.targets)],
            "fieldConfig": {"defaults": defaults, "overrides": self.overrides},
            "options": self.options,
            "transformations": self.transformations,
        }


def stat(title: str, description: str, target: Target, **kw: Any) -> Panel:
    kw.setdefault("width", 4)
    kw.setdefault("height", 4)
    kw.setdefault(
        "options",
        {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "auto",
            "justifyMode": "auto",
            "orientation": "auto",
        },
    )
    return Panel("stat", title, description, [target], **kw)


def timeseries(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    bars = kw.pop("bars", False)
    stack = kw.pop("stack", False)
    kw.setdefault(
        "custom",
        {
            "drawStyle": "bars" if bars else "line",
            "lineWidth": 1,
            "fillOpacity": 80 if bars else 10,
            "showPoints": "never",
            "spanNulls": False,
            "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        },
    )
    kw.setdefault(
        "options",
        {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    )
    return Panel("timeseries", title, description, list(targets), **kw)


# Keeps the rows whose value is 1. For 0/1 series that are all present:
# filtered here rather than with `== 1` in the query, the query has data even
# when nothing is reported, and "nothing" is visibly so.
ONLY_ONES: Json = {
    "id": "filterByValue",
    "options": {
        "type": "include",
        "match": "any",
        "filters": [{"fieldName": "Value", "config": {"id": "equal", "options": {"value": 1}}}],
    },
}


def table(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    hide = kw.pop("hide", [])
    rename = kw.pop("rename", {})
    only_ones = kw.pop("only_ones", False)
    kw.setdefault("width", 24)
    kw.setdefault("options", {"showHeader": True, "cellHeight": "sm", "footer": {"show": False}})
    # Instant table queries come back one frame per query with Prometheus'
    # own columns; merge them on their labels and keep what people read.
    excluded = {"Time": True, "__name__": True, "instance": True, "job": True}
    excluded.update({name: True for name in hide})
    kw.setdefault(
        "transformations",
        [
            {"id": "merge", "options": {}},
            *([ONLY_ONES] if only_ones else []),
            {
                "id": "organize",
                "options": {"excludeByName": excluded, "renameByName": rename},
            },
        ],
    )
    return Panel("table", title, description, list(targets), **kw)


def bargauge(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    kw.setdefault(
        "options",
        {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
            "minVizHeight": 10,
        },
    )
    return Panel("bargauge", title, description, list(targets), **kw)


def state_timeline(title: str, description: str, *targets: Target, **kw: Any) -> Panel:
    kw.setdefault(
        "options",
        {
            "mergeValues": True,
            "showValue": "never",
            "alignValue": "left",
            "rowHeight": 0.9,
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "single", "sort": "none"},
        },
    )
    kw.setdefault("custom", {"lineWidth": 0, "fillOpacity": 70})
    return Panel("state-timeline", title, description, list(targets), **kw)


def heatmap(title: str, description: str, target: Target, **kw: Any) -> Panel:
    y_unit = kw.pop("y_unit", "")
    kw.setdefault(
        "options",
        {
            # The data are buckets already (per site, or `le`): drawn as they are.
            "calculate": False,
            "yAxis": {"axisPlacement": "left", "unit": y_unit},
            "rowsFrame": {"layout": "auto"},
            "color": {"mode": "scheme", "scheme": "Oranges", "fill": "dark-orange", "steps": 64},
            "cellGap": 1,
            "tooltip": {"show": True, "yHistogram": False},
            "legend": {"show": True},
            "exemplars": {"color": "rgba(255,0,255,0.7)"},
        },
    )
    return Panel("heatmap", title, description, [target], **kw)


def value_map(colours: dict[str, tuple[str, str]]) -> list[Json]:
    """Value mappings from a label value to (text, colour)."""
    return [
        {
            "type": "value",
            "options": {
                value: {"text": text, "color": colour, "index": n}
                for n, (value, (text, colour)) in enumerate(colours.items())
            },
        }
    ]


def colour_column(name: str, mappings: list[Json]) -> Json:
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [
            {"id": "mappings", "value": mappings},
            {"id": "custom.cellOptions", "value": {"type": "color-background"}},
        ],
    }


def column(name: str, **properties: Any) -> Json:
    return {
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": key, "value": value} for key, value in properties.items()],
    }


def value_column(n: int, title: str, **properties: Any) -> Json:
    """The merged table's `Value #X` column of the n-th query (A = 0)."""
    return column(f"Value #{chr(ord('A') + n)}", displayName=title, **properties)


def link_to(uid: str, title: str, with_site: str = "") -> Json:
    """A data link to another dashboard, keeping the time range and municipalities."""
    site = f"var-site={with_site}" if with_site else "${site:queryparam}"
    return {
        "title": title,
        "url": f"/d/{uid}?${{municipality:queryparam}}&{site}&${{__url_time_range}}",
    }


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    panels: list[Panel]
    time_from: str = "now-6h"
    refresh: str = "1m"


def layout(panels: Iterable[Panel]) -> list[Json]:
    """Places panels left to right, wrapping at Grafana's 24 columns.

    The same placement as for a dashboard that plugins add panels to
    (ocrfleet.monitoring.contributions), so adding none changes nothing.
    """
    out = [panel.json(0, 0, 0) for panel in panels]
    flow(out)
    return out


def label_variable(name: str, label: str, query: str) -> Json:
    """A multi-value variable of a label's values, with All.

    All is ".*" rather than a list of every value: it also matches series
    without the label (a Prometheus whose targets set no `municipality`) and
    an empty one (alerts that belong to no site).
    """
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "refresh": 2,
        "sort": 1,
        "hide": 0,
        "regex": "",
        "options": [],
    }


def templating() -> Json:
    return {
        "list": [
            {
                "name": "datasource",
                "label": "Data source",
                "type": "datasource",
                "query": "prometheus",
                # The provisioned data source (grafana/provisioning/datasources);
                # where it does not exist Grafana takes the default Prometheus.
                "current": {"text": DATASOURCE_NAME, "value": DATASOURCE_UID},
                "hide": 0,
                "refresh": 1,
                "regex": "",
                "options": [],
            },
            label_variable(
                "municipality",
                "Municipality",
                "label_values(ocrfleet_device_info, municipality)",
            ),
            label_variable("site", "Site", f"label_values(ocrfleet_device_info{{{M}}}, site)"),
        ]
    }


# The header links to every dashboard tagged `ocrfleet`, those of plugins too,
# without this file knowing them: a plugin's dashboard only carries the tag.
HEADER_LINKS: list[Json] = [
    {
        "type": "dashboards",
        "title": "ocrfleet",
        "tags": TAGS,
        "icon": "external link",
        "includeVars": True,
        "keepTime": True,
        "targetBlank": False,
        "asDropdown": False,
        "tooltip": "",
    }
]


def render(board: Dashboard) -> Json:
    return {
        "id": None,
        "uid": board.uid,
        "title": board.title,
        "description": board.description,
        "tags": TAGS,
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": board.time_from, "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "refresh": board.refresh,
        "liveNow": False,
        "fiscalYearStartMonth": 0,
        "annotations": {"list": []},
        "links": HEADER_LINKS,
        "templating": templating(),
        "panels": layout(board.panels),
    }


# -- The dashboards ----------------------------------------------------------------

# The fleet overview and the site dashboard show what every fleet has: devices,
# seats, visitors, alerts. Plugins add their kinds' panels to them (a
# printer's problems, say) through panel contributions
# (ocrfleet.monitoring.contributions); the titles here are what they place
# their panels after or before.
OVERVIEW = "ocrfleet-overview"
SITE = "ocrfleet-site"
OCCUPANCY = "ocrfleet-occupancy"
MAINTENANCE = "ocrfleet-maintenance"
DAEMON = "ocrfleet-daemon"

# A seat is a device of a kind visitors sit at, whatever the kind: exactly the
# devices that have an `ocrfleet_seat_in_use` series. `and` keeps a device's
# series when the seat series has the same labels (site, device, kind and
# the target's), so two municipalities' rooms of one name stay apart.
SEAT = "ocrfleet_seat_in_use"


def seats(expr: str) -> str:
    """`expr`, a selector of a per-device metric, kept to the seats."""
    return f"({expr} and {SEAT}{{{S}}})"


def per_site_or_zero(expr: str, devices: str = f"ocrfleet_device_info{{{S}}}") -> str:
    """`expr` summed by site, with 0 for every site that has `devices` but no match.

    Without it a site with nothing wrong would have no row at all.
    """
    return f"sum by ({BY_SITE}) ({expr}) or sum by ({BY_SITE}) ({devices}) * 0"


USABLE_SEATS = f"sum by ({BY_SITE}) {seats(f'ocrfleet_device_up{{{S}}}')}"
SEATS_CONFIGURED = (
    f"count by ({BY_SITE}) (ocrfleet_device_info{{{S}}}"
    f" and ignoring (model, reservable) {SEAT}{{{S}}})"
)
SEATS_BELOW_MINIMUM = per_site_or_zero(
    f'ocrfleet_alert_firing{{alertname="site_seats_below_minimum", {S}}}', f"{SEAT}{{{S}}}"
)
SEATS_MINIMUM = f"max by ({BY_SITE}) (ocrfleet_site_min_usable_seats{{{S}}})"
ALERTS_FIRING = per_site_or_zero(f'ocrfleet_alert_firing{{type="alert", {S}, site!=""}}')
MAINTENANCE_DUE = f"sum by ({BY_SITE}) (ocrfleet_maintenance_due{{{S}}})"
SEATS_IN_USE = f"sum by ({BY_SITE}) (ocrfleet_site_seats_in_use{{{S}}})"

DEVICE_STATES = value_map(
    {
        "up": ("up", "green"),
        "down": ("down", "red"),
        "scheduled_off": ("off, site closed", "blue"),
        "unknown": ("never seen", "text"),
    }
)
RED_ABOVE_0 = [(None, "green"), (1, "red")]
# A site's internet state as one number per site (ocrfleet_site_internet_state
# is one-hot), for a state timeline; docs/internet.md.
INTERNET_STATE_CODES = {"down": 0, "degraded": 1, "up": 2, "unknown": 3}
INTERNET_STATES = value_map(
    {
        "0": ("down", "red"),
        "1": ("slow", "orange"),
        "2": ("up", "green"),
        "3": ("unknown", "text"),
    }
)


def internet_state(selector: str) -> str:
    """One series per site: the code of its internet state now."""
    parts = [
        f'(ocrfleet_site_internet_state{{state="{state}", {selector}}} == 1) * {code}'
        for state, code in INTERNET_STATE_CODES.items()
    ]
    return f"max by ({BY_SITE}) (" + " or ".join(parts) + ")"


def overview() -> Dashboard:
    return Dashboard(
        OVERVIEW,
        "ocrfleet: Fleet overview",
        "Every site at a glance: usable seats, seats in use, devices that need someone, "
        "firing alerts and maintenance due.",
        [
            stat(
                "Usable seats",
                "Seats (public PCs and laptops, for instance) up now, over the selected sites.",
                instant(f"sum{seats(f'ocrfleet_device_up{{{S}}}')}"),
                thresholds=[(None, "blue")],
            ),
            stat(
                "Seats in use",
                "Seats with an open visitor session now.",
                instant(f"sum(ocrfleet_site_seats_in_use{{{S}}})"),
                thresholds=[(None, "blue")],
            ),
            stat(
                "Alerts firing",
                "Alerts firing now (reminders not counted), including silenced ones.",
                instant(f'count(ocrfleet_alert_firing{{type="alert", {S}}}) or vector(0)'),
                thresholds=[(None, "green"), (1, "orange")],
            ),
            stat(
                "Maintenance due",
                "Maintenance tasks due now: monthly maintenance and renewals.",
                instant(f"sum(ocrfleet_maintenance_due{{{S}}})"),
                thresholds=[(None, "green"), (1, "blue")],
                links=[link_to(MAINTENANCE, "Maintenance & lifecycle")],
            ),
            table(
                "Sites",
                "One row per site. 'Below minimum' is 1 while the site_seats_below_minimum "
                "alert fires (fewer seats up than the site's min_usable_seats). Click a "
                "site for its own dashboard.",
                table_query(USABLE_SEATS),
                table_query(SEATS_CONFIGURED),
                table_query(SEATS_BELOW_MINIMUM),
                table_query(SEATS_IN_USE),
                table_query(ALERTS_FIRING),
                table_query(MAINTENANCE_DUE),
                table_query(SEATS_MINIMUM),
                height=9,
                overrides=[
                    column("municipality", displayName="Municipality"),
                    column(
                        "site",
                        displayName="Site",
                        # With the municipalities selected here, not the
                        # row's: where the label is absent the row has no
                        # such field, and Grafana would put the macro's
                        # text in the link.
                        links=[link_to(SITE, "Open ${__value.raw}", "${__value.raw}")],
                    ),
                    value_column(0, "Usable seats"),
                    value_column(1, "Seats configured"),
                    value_column(
                        2,
                        "Below minimum",
                        mappings=value_map({"0": ("no", "green"), "1": ("YES", "red")}),
                        **{"custom.cellOptions": {"type": "color-background"}},
                    ),
                    value_column(6, "Minimum seats"),
                    value_column(3, "Seats in use"),
                    value_column(4, "Alerts firing"),
                    value_column(5, "Maintenance due"),
                ],
                thresholds=RED_ABOVE_0,
            ),
            timeseries(
                "Usable seats per site",
                "Seats up, per site.",
                Target(USABLE_SEATS, "{{municipality}} {{site}}"),
                decimals=0,
            ),
            timeseries(
                "Seats in use per site",
                "Seats with an open visitor session, per site.",
                Target(SEATS_IN_USE, "{{municipality}} {{site}}"),
                stack=True,
                decimals=0,
                links=[link_to(OCCUPANCY, "Occupancy & usage")],
            ),
            table(
                "Firing alerts and reminders",
                "Everything firing now. suppressed = true: a silence or maintenance window "
                "holds its notifications back.",
                table_query(f"ocrfleet_alert_firing{{{S}}} == 1"),
                hide=["Value"],
                height=9,
            ),
        ],
    )


def site() -> Dashboard:
    return Dashboard(
        SITE,
        "ocrfleet: Site",
        "One location in depth: its devices and their state, visitors, and what each "
        "kind of device reports. Pick the site at the top.",
        [
            stat(
                "Usable seats",
                "Seats (public PCs and laptops, for instance) up now.",
                instant(f"sum{seats(f'ocrfleet_device_up{{{S}}}')}"),
                thresholds=[(None, "blue")],
            ),
            stat(
                "Seats in use",
                "Seats with an open visitor session now.",
                instant(f"sum(ocrfleet_site_seats_in_use{{{S}}})"),
                thresholds=[(None, "blue")],
            ),
            stat(
                "Sessions, last 24 h",
                "Visitor sessions begun over the last day.",
                instant(f"sum(increase(ocrfleet_sessions_total{{{S}}}[1d]))"),
                thresholds=[(None, "blue")],
                decimals=0,
            ),
            stat(
                "Devices down",
                "Devices not answering while the site is open.",
                instant(f'count(ocrfleet_device_state{{state="down", {S}}}) or vector(0)'),
                thresholds=RED_ABOVE_0,
            ),
            stat(
                "Alerts firing",
                "Alerts firing now for this site (reminders not counted).",
                instant(f'count(ocrfleet_alert_firing{{type="alert", {S}}}) or vector(0)'),
                thresholds=[(None, "green"), (1, "orange")],
            ),
            table(
                "Devices",
                "Every configured device with its state now: up, down (with the reason), "
                "off because the site is closed, or never seen since the daemon started.",
                table_query(f"ocrfleet_device_state{{{S}}}"),
                table_query(f"time() - ocrfleet_device_last_seen_timestamp_seconds{{{S}}}"),
                hide=["Value #A"],
                overrides=[
                    colour_column("state", DEVICE_STATES),
                    value_column(1, "Silent for", unit="s", decimals=0),
                ],
                height=10,
            ),
            timeseries(
                "Seats in use per site",
                "Seats with an open visitor session.",
                Target(SEATS_IN_USE, "{{municipality}} {{site}}"),
                decimals=0,
            ),
            timeseries(
                "Devices up, by kind",
                "Devices answering, per kind.",
                Target(
                    f"sum by ({BY_SITE}, kind) (ocrfleet_device_up{{{S}}})",
                    "{{municipality}} {{site}} {{kind}}",
                ),
                decimals=0,
            ),
            state_timeline(
                "Internet",
                "The site's internet as checked from inside it (its PCs, and the daemon when "
                "it stands there): up, slow (the median check slower than "
                "internet.degraded_latency), down (every check failed) or unknown (no fresh "
                "check). docs/internet.md.",
                Target(internet_state(S), "{{municipality}} {{site}}"),
                mappings=INTERNET_STATES,
            ),
            timeseries(
                "Internet latency",
                "Median seconds the site's successful internet checks took: name look-up, "
                "connection, TLS and the page's answer.",
                Target(
                    f"max by ({BY_SITE}) (ocrfleet_site_internet_latency_seconds{{{S}}})",
                    "{{municipality}} {{site}}",
                ),
                unit="s",
                min=0,
            ),
            table(
                "Firing alerts and reminders",
                "Everything firing now for this site.",
                table_query(f"ocrfleet_alert_firing{{{S}}} == 1"),
                hide=["Value"],
            ),
        ],
    )


def occupancy() -> Dashboard:
    bucket = f"ocrfleet_session_duration_seconds_bucket{{{S}}}"
    return Dashboard(
        OCCUPANCY,
        "ocrfleet: Occupancy & usage",
        "How busy the rooms are: seats in use hour by hour, sessions per day, how long "
        "sessions last and the share of opening hours the seats are in use.",
        [
            heatmap(
                "Seats in use by hour of the week",
                "Average seats in use per hour, one row per site; over the "
                "default 7 days each column is one hour of the week.",
                Target(
                    f"sum by ({BY_SITE}) (avg_over_time(ocrfleet_site_seats_in_use{{{S}}}[1h]))",
                    "{{municipality}} {{site}}",
                    interval="1h",
                ),
                width=24,
                height=9,
            ),
            timeseries(
                "Every seat busy, and sessions over the time limit",
                "Per site: 1 while every seat that is up is in use, so a visitor who comes in "
                "has to wait; and the open sessions past their session_limit (docs/turns.md).",
                Target(
                    f"max by ({BY_SITE}) (ocrfleet_site_all_seats_busy{{{S}}})",
                    "{{municipality}} {{site}}: every seat busy",
                ),
                Target(
                    f"sum by ({BY_SITE}) (ocrfleet_open_sessions_over_limit{{{S}}})",
                    "{{municipality}} {{site}}: sessions over the limit",
                ),
                decimals=0,
                min=0,
            ),
            bargauge(
                "Utilisation during opening hours",
                "Share of the time a session was open, per site, counting only time the "
                "seat was up or down: time it was off while its site was closed is left "
                "out. A seat left on while its site is closed counts then too.",
                Target(
                    f"avg by ({BY_SITE}) (avg_over_time((ocrfleet_seat_in_use{{{S}}}"
                    f" and on ({BY_SITE}, device, kind)"
                    f' ocrfleet_device_state{{{S}, state!="scheduled_off"}})'
                    "[$__range:$__interval]))",
                    "{{municipality}} {{site}}",
                    instant=True,
                ),
                unit="percentunit",
                min=0,
                max=1,
                thresholds=[(None, "blue")],
            ),
            timeseries(
                "Sessions per day",
                "Visitor sessions begun per day, per site.",
                Target(
                    f"sum by ({BY_SITE}) (increase(ocrfleet_sessions_total{{{S}}}[1d]))",
                    "{{municipality}} {{site}}",
                    interval="1d",
                ),
                bars=True,
                stack=True,
                decimals=0,
            ),
            heatmap(
                "Session durations",
                "Finished sessions by length (the histogram's buckets, 1 minute to 8 hours).",
                Target(
                    f"sum by (le) (increase({bucket}[$__rate_interval]))",
                    "{{le}}",
                    fmt="heatmap",
                ),
                y_unit="s",
            ),
            timeseries(
                "Session length, median and 90th percentile",
                "From the duration histogram, over all selected sites.",
                Target(
                    f"histogram_quantile(0.5, sum by (le) (rate({bucket}[$__rate_interval])))",
                    "median",
                ),
                Target(
                    f"histogram_quantile(0.9, sum by (le) (rate({bucket}[$__rate_interval])))",
                    "90th percentile",
                ),
                unit="s",
            ),
            table(
                "Per site over the time range",
                "Sessions begun, and the average length of the sessions that ended.",
                table_query(
                    f"sum by ({BY_SITE}) (increase(ocrfleet_sessions_total{{{S}}}[$__range]))"
                ),
                table_query(
                    f"sum by ({BY_SITE}) (increase(ocrfleet_session_duration_seconds_sum{{{S}}}"
                    "[$__range]))"
                    f" / sum by ({BY_SITE})"
                    f" (increase(ocrfleet_session_duration_seconds_count{{{S}}}[$__range]))"
                ),
                table_query(f"avg by ({BY_SITE}) (ocrfleet_seat_in_use{{{S}}})"),
                overrides=[
                    value_column(0, "Sessions", decimals=0),
                    value_column(1, "Average length", unit="s"),
                    value_column(2, "In use now", unit="percentunit"),
                ],
            ),
            timeseries(
                "Seats in use, by kind",
                "Seats in use per kind of seat (public PCs and lesson laptops, for instance).",
                Target(f"sum by (kind) (ocrfleet_seat_in_use{{{S}}})", "{{kind}}"),
                stack=True,
                decimals=0,
                width=24,
            ),
        ],
        time_from="now-7d",
        refresh="5m",
    )


YEAR = 365.25 * 86400


def maintenance() -> Dashboard:
    return Dashboard(
        MAINTENANCE,
        "ocrfleet: Maintenance & lifecycle",
        "The guide's hour of maintenance per device per month and renewal every 5 years: "
        "what is due, when it was last done, how old the devices are and which renewals "
        "are coming.",
        [
            stat(
                "Monthly maintenance due",
                "Devices whose monthly maintenance is due now.",
                instant(f'sum(ocrfleet_maintenance_due{{task="monthly", {S}}})'),
                thresholds=[(None, "green"), (1, "orange")],
                width=6,
            ),
            stat(
                "Renewal due",
                "Devices within the renewal notice of their renewal date, or past it.",
                instant(f'sum(ocrfleet_maintenance_due{{task="renewal", {S}}})'),
                thresholds=[(None, "green"), (1, "orange")],
                width=6,
            ),
            stat(
                "Past renewal date",
                "Devices older than their renewal date (purchase + 5 years, or the last "
                "logged renewal + 5 years).",
                instant(
                    f"count(ocrfleet_device_renewal_due_timestamp_seconds{{{S}}} < time())"
                    " or vector(0)"
                ),
                thresholds=[(None, "green"), (1, "red")],
                width=6,
            ),
            stat(
                "Reminders firing",
                "Maintenance and supply reminders firing now.",
                instant(f'count(ocrfleet_alert_firing{{type="reminder", {S}}}) or vector(0)'),
                thresholds=[(None, "blue")],
                width=6,
            ),
            table(
                "Due now",
                "Maintenance tasks due: monthly maintenance, or a renewal within notice "
                "or overdue. Log the work with `ocrfleet maintenance done`.",
                table_query(f"ocrfleet_maintenance_due{{{S}}} == 1"),
                hide=["Value"],
                width=12,
                height=10,
            ),
            table(
                "Last maintenance logged",
                "Days since each task was last logged in the maintenance ledger "
                "(monthly more than 30 days ago is overdue).",
                table_query(
                    f"(time() - ocrfleet_maintenance_last_timestamp_seconds{{{S}}}) / 86400"
                ),
                overrides=[column("Value", displayName="Days ago", decimals=0)],
                thresholds=[(None, "green"), (30, "red")],
                width=12,
                height=10,
            ),
            table(
                "Renewals coming",
                "Days until each device's renewal date; negative: overdue. Sort by the "
                "column to see the next ones.",
                table_query(
                    f"(ocrfleet_device_renewal_due_timestamp_seconds{{{S}}} - time()) / 86400"
                ),
                table_query(f"ocrfleet_device_age_seconds{{{S}}} / {YEAR}"),
                overrides=[
                    value_column(
                        0,
                        "Days to renewal",
                        decimals=0,
                        **{"custom.cellOptions": {"type": "color-text"}},
                    ),
                    value_column(1, "Age (years)", decimals=1),
                ],
                thresholds=[(None, "red"), (0, "orange"), (90, "green")],
                height=10,
            ),
            bargauge(
                "Device age",
                "Years since purchase; the guide replaces devices after 5.",
                instant(
                    f"ocrfleet_device_age_seconds{{{S}}} / {YEAR}",
                    "{{municipality}} {{site}} {{device}}",
                ),
                unit="none",
                decimals=1,
                min=0,
                max=6,
                thresholds=[(None, "green"), (4, "orange"), (5, "red")],
                width=24,
                height=14,
            ),
        ],
        time_from="now-30d",
        refresh="15m",
    )


def daemon() -> Dashboard:
    return Dashboard(
        DAEMON,
        "ocrfleet: ocrfleet itself",
        "The daemon's own health: the MQTT link and messages, SNMP polling, alert "
        "evaluation, the outbox and the store queue, of the daemons of the selected "
        "municipalities. The site selection does not apply.",
        [
            stat(
                "MQTT broker",
                "Every selected daemon connected to its MQTT broker.",
                # min: one selected daemon without its broker is shown.
                instant(f"min(ocrfleet_mqtt_connected{{{M}}})"),
                mappings=value_map({"1": ("connected", "green"), "0": ("disconnected", "red")}),
            ),
            stat(
                "Broker connections",
                "Connections since the daemon started; more than 1 means reconnects.",
                instant(f"sum(ocrfleet_mqtt_connects_total{{{M}}})"),
                thresholds=[(None, "green"), (2, "orange")],
            ),
            stat(
                "Outbox pending",
                "Notifications stored and not yet delivered, failed or expired.",
                instant(f"sum(ocrfleet_outbox_pending{{{M}}})"),
                thresholds=[(None, "green"), (10, "orange")],
            ),
            stat(
                "Store queue",
                "Writes waiting for the SQLite writer; a growing queue means the disk "
                "cannot keep up.",
                instant(f"sum(ocrfleet_store_queue_length{{{M}}})"),
                thresholds=[(None, "green"), (100, "orange")],
            ),
            stat(
                "Alerts pending",
                "Problems found that have not lasted their rule's tolerance yet.",
                instant(f"sum(ocrfleet_alerts_pending{{{M}}})"),
                thresholds=[(None, "blue")],
            ),
            stat(
                "Version",
                "The ocrfleet and Python versions running.",
                instant(f"ocrfleet_build_info{{{M}}}", "{{version}} (Python {{python}})"),
                options={
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "none",
                    "graphMode": "none",
                    "textMode": "name",
                    "justifyMode": "auto",
                    "orientation": "auto",
                },
            ),
            timeseries(
                "MQTT messages accepted",
                "Messages per second, per channel.",
                Target(
                    "sum by (channel) "
                    f"(rate(ocrfleet_mqtt_messages_total{{{M}}}[$__rate_interval]))",
                    "{{channel}}",
                ),
                unit="reqps",
            ),
            timeseries(
                "MQTT messages rejected",
                "Messages dropped, per reason; unknown_device often means an agent "
                "configured with a wrong --site or --device.",
                Target(
                    "sum by (reason) "
                    f"(increase(ocrfleet_mqtt_messages_rejected_total{{{M}}}[$__rate_interval]))",
                    "{{reason}}",
                ),
                bars=True,
                decimals=0,
            ),
            timeseries(
                "Polls",
                "Polls finished per second, per source and device kind.",
                Target(
                    f"sum by (source, kind) (rate(ocrfleet_polls_total{{{M}}}[$__rate_interval]))",
                    "{{source}} {{kind}}",
                ),
                unit="reqps",
            ),
            timeseries(
                "Poll errors",
                "Polls that got no usable answer, per source, kind and reason.",
                Target(
                    "sum by (source, kind, reason) "
                    f"(increase(ocrfleet_poll_errors_total{{{M}}}[$__rate_interval]))",
                    "{{source}} {{kind}}: {{reason}}",
                ),
                bars=True,
                decimals=0,
            ),
            timeseries(
                "Poll duration",
                "Median and 90th percentile of one device's poll.",
                Target(
                    "histogram_quantile(0.5, sum by (source, kind, le) "
                    f"(rate(ocrfleet_poll_duration_seconds_bucket{{{M}}}[$__rate_interval])))",
                    "{{source}} {{kind}} median",
                ),
                Target(
                    "histogram_quantile(0.9, sum by (source, kind, le) "
                    f"(rate(ocrfleet_poll_duration_seconds_bucket{{{M}}}[$__rate_interval])))",
                    "{{source}} {{kind}} 90th percentile",
                ),
                unit="s",
            ),
            timeseries(
                "Notifications",
                "Delivery attempts per channel and outcome.",
                Target(
                    "sum by (channel, outcome) "
                    f"(increase(ocrfleet_notifications_total{{{M}}}[$__rate_interval]))",
                    "{{channel}}: {{outcome}}",
                ),
                bars=True,
                decimals=0,
            ),
            timeseries(
                "Outbox and store queue",
                "Notifications waiting for delivery, and writes waiting for the store.",
                Target(f"sum(ocrfleet_outbox_pending{{{M}}})", "outbox pending"),
                Target(f"sum(ocrfleet_store_queue_length{{{M}}})", "store queue"),
                decimals=0,
            ),
            timeseries(
                "Alert evaluation",
                "Rule evaluations per second, and evaluations in which a rule raised an "
                "error (its alerts then stay as they were).",
                Target(
                    f"sum(rate(ocrfleet_alert_evaluations_total{{{M}}}[$__rate_interval]))",
                    "evaluations",
                ),
                Target(
                    "sum by (rule) "
                    f"(rate(ocrfleet_alert_rule_errors_total{{{M}}}[$__rate_interval]))",
                    "errors: {{rule}}",
                ),
                unit="ops",
            ),
        ],
        time_from="now-6h",
    )


def dashboards() -> list[Dashboard]:
    return [overview(), site(), occupancy(), maintenance(), daemon()]


def rendered() -> dict[Path, str]:
    """The core's dashboards, as the files the core ships (ocrfleet/monitoring/dashboards)."""
    return {
        CORE_DASHBOARDS / f"{board.uid.removeprefix('ocrfleet-')}.json": json.dumps(
            render(board), indent=2, ensure_ascii=False
        )
        + "\n"
        for board in dashboards()
    }


def bundled_plugin_manager() -> pluggy.PluginManager:
    """The core and the plugins of this repository, whatever else is installed here.

    The checked-in files are what the bundled plugins give; a third-party
    plugin installed on this machine stays out of them.
    """
    manager = build_plugin_manager()
    for plugin in list(manager.get_plugins()):
        module = inspect.getmodule(plugin)
        path = getattr(module, "__file__", None)
        if path is None or not Path(path).resolve().is_relative_to(ROOT):
            manager.unregister(plugin)
    return manager


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    core = rendered()
    core_layout = Layout(CORE_DASHBOARDS, CORE_DASHBOARDS, CORE_DASHBOARDS)
    if not args.check:
        write(core)
    problems = differences(core, core_layout)
    try:
        exported = planned(collect(bundled_plugin_manager()), LAYOUT)
    except MonitoringAssetError as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 1
    if args.check:
        problems += differences(exported, LAYOUT)
        for problem in problems:
            print(f"{problem}; run grafana/generate.py", file=sys.stderr)
        return 1 if problems else 0
    write(exported)
    for path in unclaimed(core, core_layout) + unclaimed(exported, LAYOUT):
        print(f"{path}: not written by grafana/generate.py, left alone", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
