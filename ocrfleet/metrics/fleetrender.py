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
from ocrfleet.devices import DeviceInfo, DeviceKey
from ocrfleet.devicestate import device_status
from ocrfleet.kinds import DeviceKind
from ocrfleet.metrics.exposition import Family, LabelEscaper, escape_label_value, format_value
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
# The core families whose lines a device's configuration starts (INFO is whole).
_SERIES = (UP, LAST_SEEN, SINCE, SEAT_IN_USE, DEPRECATED_PC_IN_USE, SESSIONS)


@dataclass(frozen=True, slots=True)
class _Layout:
    """The kind families of one set of kinds present, in scrape order."""

    families: Mapping[str, Family]
    plain: bool


# A kind's sample by family name and extra label values.
_SampleKey = tuple[str, tuple[str, ...]]


class _Block:
    """One device's rendered lines and the inputs they came from.

    Updated in place when the device changes: a scrape after every device
    changed then leaves no new long-lived objects for the garbage collector.
    """

    __slots__ = (
        "core",
        "failure",
        "flag_lines",
        "info",
        "info_line",
        "kind",
        "labels",
        "last_seen",
        "layout",
        "lines",
        "presence",
        "reading",
        "reading_at",
        "starts",
        "state_line",
        "status",
        "usage",
    )

    def __init__(self) -> None:
        # The inputs of the lines: a DeviceView's aspects, and the layout.
        self.reading: object = None
        self.last_seen: float | None = None
        self.presence: object = None
        self.usage: object = None
        self.failure: object = None
        self.reading_at: float | None = None
        self.info: DeviceInfo | None = None
        self.layout: _Layout | None = None
        # Aligned with _PER_DEVICE; b"" where the device has no sample.
        self.core: tuple[bytes, ...] = ()
        # Family name -> this device's lines; None when the kind's samples() failed.
        self.kind: dict[str, bytes] | None = None
        self.status: tuple[str, str] | None = None
        self.state_line = b""
        # What only the device's configuration decides, kept while it stays the
        # same object: its escaped labels, the start of its core lines (aligned
        # with _SERIES) and its info line.
        self.labels: tuple[str, str, str] = ("", "", "")
        self.starts: tuple[str, ...] = ()
        self.info_line = b""
        # The lines of its 0/1 series (up, seat in use, its old name), 0 then 1 each.
        self.flag_lines: tuple[bytes, ...] = ()
        # Each of the kind's samples at the last render: its line up to the
        # value. A new reading has new values, but mostly the same labels.
        self.lines: dict[_SampleKey, str] = {}

    def same_inputs(self, view: DeviceView, layout: _Layout) -> bool:
        # Identity, not equality: aspects are replaced whole, never mutated.
        return (
            self.reading is view.reading
            and self.last_seen is view.last_seen
            and self.presence is view.presence
            and self.usage is view.usage
            and self.failure is view.failure
            and self.reading_at is view.reading_at
            and self.info is view.info
            and self.layout is layout
        )

    def keep_inputs(self, view: DeviceView, layout: _Layout) -> None:
        self.reading = view.reading
        self.last_seen = view.last_seen
        self.presence = view.presence
        self.usage = view.usage
        self.failure = view.failure
        self.reading_at = view.reading_at
        self.info = view.info
        self.layout = layout


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

    def render(
        self, openmetrics_format: bool = False, end: Callable[[], bytes] | None = None
    ) -> bytes | None:
        """The fleet's families as text (no "# EOF"), then what `end` gives.

        None when names need escaping. `end` is called after the snapshot is
        taken (see FleetText.render).
        """
        with self._lock:
            snapshot = self._state().snapshot(self._clock.now())
            return self._render(snapshot, openmetrics_format, end() if end is not None else b"")

    def _render(
        self, snapshot: FleetSnapshot, openmetrics_format: bool, end: bytes
    ) -> bytes | None:
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
        states: list[bytes] = []
        per_site: dict[str, int] = {}
        now = snapshot.taken_at
        for view in snapshot.devices:
            key = view.info.key
            block = old_blocks.get(key)
            if block is None:
                block = _Block()
            if not block.same_inputs(view, layout):
                self._build(view, layout, escape, block)
                rendered += 1
            elif block.kind is None:
                # A failed samples() is tried again each scrape, as before caching.
                block.kind = self._kind_lines(view, layout, block, escape)
            blocks[key] = block
            kind = self._kinds.get(view.info.kind)
            status = device_status(view, now, kind, self._log)
            pair = (status.state.value, status.reason)
            if pair != block.status:
                block.status = pair
                labels = (*block.labels, *map(escape_label_value, pair))
                block.state_line = STATE.sample(labels, 1.0).encode()
            states.append(block.state_line)
            if kind is not None and kind.is_seat:
                site = view.info.site
                per_site[site] = per_site.get(site, 0) + int(view.usage.in_use)
        self._blocks = blocks
        self.rendered = rendered

        out: list[bytes] = []
        ordered = blocks.values()
        # Family by family, b"" where a device has no sample; in the snapshot's order.
        core = [[c for block in ordered if (c := block.core[i])] for i in range(len(_PER_DEVICE))]
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
        out.append(end)
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

    def _build(
        self, view: DeviceView, layout: _Layout, escape: LabelEscaper, block: _Block
    ) -> None:
        device = view.info
        if block.info is not device:
            labels = block.labels = _device_labels(view)
            block.starts = tuple(family.series(labels) for family in _SERIES)
            reservable = "true" if device.reservable else "false"
            model = escape_label_value(device.model)
            block.info_line = INFO.sample((*labels, model, reservable), 1.0).encode()
            block.flag_lines = tuple(
                f"{block.starts[i]}{value}\n".encode()
                for i in (0, 3, 4)
                for value in ("0.0", "1.0")
            )
            block.status = None  # its line has the device's labels too
        if block.layout is not layout:
            block.lines = {}
        _, last_seen, since, _, _, sessions = block.starts
        presence = view.presence
        kind = self._kinds.get(device.kind)
        seat = kind is not None and kind.is_seat
        in_use_now = bool(view.usage.in_use)
        flags = block.flag_lines
        block.core = (
            flags[bool(presence.up)],
            block.info_line,
            f"{last_seen}{format_value(view.last_seen)}\n".encode()
            if view.last_seen is not None
            else b"",
            f"{since}{format_value(presence.since)}\n".encode()
            if presence.since is not None
            else b"",
            flags[2 + in_use_now] if seat else b"",
            flags[4 + in_use_now] if seat else b"",
            f"{sessions}{format_value(float(view.usage.sessions_total))}\n".encode()
            if seat
            else b"",
        )
        block.kind = self._kind_lines(view, layout, block, escape)
        # Last: a render that raised before here leaves the block to be built again.
        block.keep_inputs(view, layout)

    def _kind_lines(
        self, view: DeviceView, layout: _Layout, block: _Block, escape: LabelEscaper
    ) -> dict[str, bytes] | None:
        kind = self._kinds.get(view.info.kind)
        if kind is None:
            return {}
        labels = block.labels
        families = layout.families
        kept = block.lines
        starts: dict[_SampleKey, str] = {}
        new_labels = False
        grouped: dict[str, list[str]] = {}
        # Kinds give a family's samples one after another: its list is at hand.
        current = ""
        lines: list[str] = []
        try:
            for sample in kind.samples(view):
                name, extra, value = sample.name, sample.labels, sample.value
                key = (name, extra)
                start = kept.get(key)
                if start is None:
                    values = (*labels, *[escape[v] for v in extra]) if extra else labels
                    start = families[name].series(values)
                    new_labels = True
                starts[key] = start
                if name != current:
                    found = grouped.get(name)
                    if found is None:
                        found = grouped[name] = []
                    current, lines = name, found
                # format_value without its call for the usual values (see its docstring).
                if value.__class__ is float and -1e6 < value < 1e6:
                    lines.append(start + repr(value) + "\n")
                else:
                    lines.append(start + format_value(value) + "\n")
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
        # The same series as before (the usual case): the old dict stays, the new
        # one dies young instead of ageing into the garbage collector's oldest generation.
        if new_labels or len(starts) != len(kept):
            block.lines = starts
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
