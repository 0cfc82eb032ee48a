"""FleetState as Prometheus text, re-rendering only the devices that changed.

FleetState replaces each aspect of a device whole (state.py), so a device
whose aspects are the same objects as at the last scrape has the same
samples: its lines are kept as bytes and joined again. A kind's samples()
must therefore depend only on the DeviceView it is given. What depends on
the time of the scrape (a device's state against its site's hours) or on
the whole fleet (seats in use per site, session durations) is computed every
scrape; it is one line per device or a few per site.

The output is byte for byte what FleetCollector gives through
prometheus_client, families in the same order, samples in the same order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client.registry import Collector

from ocrfleet.clock import Clock
from ocrfleet.devices import DeviceKey
from ocrfleet.devicestate import device_status
from ocrfleet.kinds import DeviceKind
from ocrfleet.metrics.exposition import Family, LabelEscaper, escape_label_value
from ocrfleet.metrics.fleet import (
    DEPRECATED_PC_IN_USE,
    DEPRECATED_SITE_PCS_IN_USE,
    DURATIONS,
    INFO,
    LAST_SEEN,
    SEAT_IN_USE,
    SESSIONS,
    SINCE,
    SITE_SEATS_IN_USE,
    STATE,
    UP,
    FleetCollector,
    kind_family,
)
from ocrfleet.ratelimit import RateLimitedLog
from ocrfleet.sessions import SESSION_DURATION_BUCKETS
from ocrfleet.state import DeviceView, FleetSnapshot, FleetState

log = logging.getLogger(__name__)

# Families with one line per device that only the device's own state decides,
# in the order the scrape writes them (STATE comes after UP and is per scrape).
_PER_DEVICE = (UP, INFO, LAST_SEEN, SINCE, SEAT_IN_USE, DEPRECATED_PC_IN_USE, SESSIONS)
_LE = tuple(str(float(b)) for b in SESSION_DURATION_BUCKETS)


@dataclass(frozen=True, slots=True)
class _Layout:
    """The kind families of one set of kinds present, in scrape order."""

    families: Mapping[str, Family]
    plain: bool


class _Block:
    """One device's rendered lines and the inputs they came from."""

    __slots__ = ("core", "kind", "layout", "state_line", "status", "view")

    def __init__(self, view: DeviceView, layout: _Layout) -> None:
        self.view = view
        self.layout = layout
        # Aligned with _PER_DEVICE; b"" where the device has no sample.
        self.core: tuple[bytes, ...] = ()
        # Family name -> this device's lines; None when the kind's samples() failed.
        self.kind: dict[str, bytes] | None = None
        self.status: tuple[str, str] | None = None
        self.state_line = b""

    def same_inputs(self, view: DeviceView, layout: _Layout) -> bool:
        old = self.view
        # Identity, not equality: aspects are replaced whole, never mutated.
        return (
            old.reading is view.reading
            and old.last_seen is view.last_seen
            and old.presence is view.presence
            and old.usage is view.usage
            and old.failure is view.failure
            and old.reading_at is view.reading_at
            and old.info is view.info
            and self.layout is layout
        )


class FleetRenderer:
    """The fleet's families for /metrics (see Exposition), with per-device caching."""

    def __init__(
        self,
        state: Callable[[], FleetState],
        kinds: Mapping[str, DeviceKind],
        plugin_of_kind: Callable[[str], str],
        clock: Clock,
    ) -> None:
        self._state = state
        self._kinds = kinds
        self._plugin_of_kind = plugin_of_kind
        self._clock = clock
        self._collector = FleetCollector(state, kinds, plugin_of_kind, clock)
        self._log = RateLimitedLog(log, interval=60.0)
        # Scrapes may come on several HTTP threads at once; the cache is theirs in turn.
        self._lock = threading.Lock()
        self._blocks: dict[DeviceKey, _Block] = {}
        self._layouts: dict[tuple[str, ...], _Layout] = {}
        self.rendered = 0  # devices re-rendered by the last scrape, for tests and benchmarks

    @property
    def collector(self) -> Collector:
        return self._collector

    def render(self, openmetrics_format: bool = False) -> bytes | None:
        """The fleet's families as text (no "# EOF"); None when names would need escaping."""
        with self._lock:
            snapshot = self._state().snapshot(self._clock.now())
            return self._render(snapshot, openmetrics_format)

    def _render(self, snapshot: FleetSnapshot, openmetrics_format: bool) -> bytes | None:
        by_kind: dict[str, list[DeviceView]] = {}
        for view in snapshot.devices:
            by_kind.setdefault(view.info.kind, []).append(view)
        present = tuple(sorted(k for k in by_kind if k in self._kinds))
        layout = self._layout(present)
        if not layout.plain:
            return None

        old_blocks = self._blocks
        # Kept for one render only, so label values a kind invents cannot pile up.
        escape = LabelEscaper()
        blocks: dict[DeviceKey, _Block] = {}
        rendered = 0
        core: list[list[bytes]] = [[] for _ in _PER_DEVICE]
        states: list[bytes] = []
        per_site: dict[str, int] = {}
        now = snapshot.taken_at
        for view in snapshot.devices:
            key = view.info.key
            block = old_blocks.get(key)
            if block is None or not block.same_inputs(view, layout):
                block = self._build(view, layout, escape)
                rendered += 1
            elif block.kind is None:
                # A failed samples() is tried again each scrape, as before caching.
                block.kind = self._kind_lines(view, layout, escape)
            blocks[key] = block
            for lines, chunk in zip(core, block.core, strict=True):
                if chunk:
                    lines.append(chunk)
            status = device_status(view, now, self._kinds.get(view.info.kind), self._log)
            pair = (status.state.value, status.reason)
            if pair != block.status:
                block.status = pair
                labels = (*_device_labels(view), *map(escape_label_value, pair))
                block.state_line = STATE.sample(labels, 1.0).encode()
            states.append(block.state_line)
            kind = self._kinds.get(view.info.kind)
            if kind is not None and kind.is_seat:
                site = view.info.site
                per_site[site] = per_site.get(site, 0) + int(view.usage.in_use)
        self._blocks = blocks
        self.rendered = rendered

        out: list[bytes] = []
        up, info, last_seen, since, in_use, old_in_use, sessions = core
        site_lines = [(site, float(count)) for site, count in sorted(per_site.items())]
        for family, lines in (
            (UP, up),
            (STATE, states),
            (INFO, info),
            (LAST_SEEN, last_seen),
            (SINCE, since),
            (SEAT_IN_USE, in_use),
            (DEPRECATED_PC_IN_USE, old_in_use),
            (SESSIONS, sessions),
            (SITE_SEATS_IN_USE, [_site_line(SITE_SEATS_IN_USE, *line) for line in site_lines]),
            (
                DEPRECATED_SITE_PCS_IN_USE,
                [_site_line(DEPRECATED_SITE_PCS_IN_USE, *line) for line in site_lines],
            ),
            (DURATIONS, [_durations(snapshot)]),
        ):
            out.append(family.header(openmetrics_format))
            out.extend(lines)

        kind_lines: dict[str, list[bytes]] = {name: [] for name in layout.families}
        for kind_name in present:
            for view in by_kind[kind_name]:
                lines_of = blocks[view.info.key].kind
                for name, chunk in (lines_of or {}).items():
                    kind_lines[name].append(chunk)
        for name, family in layout.families.items():
            out.append(family.header(openmetrics_format))
            out.extend(kind_lines[name])
        return b"".join(out)

    def _layout(self, present: tuple[str, ...]) -> _Layout:
        layout = self._layouts.get(present)
        if layout is None:
            families: dict[str, Family] = {}
            for kind_name in present:
                for spec in self._kinds[kind_name].metric_specs:
                    # The first kind (by name) to declare a family defines it.
                    families.setdefault(spec.name, kind_family(spec))
            plain = all(f.plain for f in families.values())
            layout = _Layout(families, plain)
            # Kinds come and go only with a reload, so this stays a handful.
            self._layouts = {present: layout}
        return layout

    def _build(self, view: DeviceView, layout: _Layout, escape: LabelEscaper) -> _Block:
        block = _Block(view, layout)
        labels = _device_labels(view)
        device = view.info
        presence = view.presence
        reservable = "true" if device.reservable else "false"
        kind = self._kinds.get(device.kind)
        seat = kind is not None and kind.is_seat
        in_use = 1.0 if view.usage.in_use else 0.0
        lines = (
            UP.sample(labels, 1.0 if presence.up else 0.0),
            INFO.sample((*labels, escape_label_value(device.model), reservable), 1.0),
            LAST_SEEN.sample(labels, view.last_seen) if view.last_seen is not None else "",
            SINCE.sample(labels, presence.since) if presence.since is not None else "",
            SEAT_IN_USE.sample(labels, in_use) if seat else "",
            DEPRECATED_PC_IN_USE.sample(labels, in_use) if seat else "",
            SESSIONS.sample(labels, float(view.usage.sessions_total)) if seat else "",
        )
        block.core = tuple(line.encode() for line in lines)
        block.kind = self._kind_lines(view, layout, escape)
        return block

    def _kind_lines(
        self, view: DeviceView, layout: _Layout, escape: LabelEscaper
    ) -> dict[str, bytes] | None:
        kind = self._kinds.get(view.info.kind)
        if kind is None:
            return {}
        labels = _device_labels(view)
        families = layout.families
        grouped: dict[str, list[str]] = {}
        try:
            for sample in kind.samples(view):
                name = sample.name
                extra = sample.labels
                values = (*labels, *[escape[v] for v in extra]) if extra else labels
                line = families[name].sample(values, sample.value)
                lines = grouped.get(name)
                if lines is None:
                    grouped[name] = [line]
                else:
                    lines.append(line)
        except Exception:
            plugin = self._plugin_of_kind(view.info.kind)
            self._log.error(
                f"plugin:{plugin}",
                "plugin %s failed to render metrics of %s; its samples are left out",
                plugin,
                view.info.key,
                exc_info=True,
            )
            return None
        return {name: "".join(lines).encode() for name, lines in grouped.items()}


def _device_labels(view: DeviceView) -> tuple[str, str, str]:
    info = view.info
    return (
        escape_label_value(info.site),
        escape_label_value(info.id),
        escape_label_value(info.kind),
    )


def _site_line(family: Family, site: str, count: float) -> bytes:
    return family.sample((escape_label_value(site),), count).encode()


def _durations(snapshot: FleetSnapshot) -> bytes:
    lines: list[str] = []
    for (site, kind), histogram in sorted(snapshot.session_durations.items()):
        labels: Sequence[str] = (escape_label_value(site), escape_label_value(kind))
        for le, count in zip(_LE, histogram.bucket_counts, strict=True):
            lines.append(DURATIONS.line((*labels, le), float(count), "_bucket"))
        lines.append(DURATIONS.line((*labels, "+Inf"), float(histogram.count), "_bucket"))
        lines.append(DURATIONS.line(labels, float(histogram.count), "_count"))
        lines.append(DURATIONS.line(labels, histogram.total, "_sum"))
    return "".join(lines).encode()
